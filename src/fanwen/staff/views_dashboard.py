"""The operator's dashboard: money, plans, channels, top articles, funnel, refunds; CSVs."""

from __future__ import annotations

import csv

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header

from fanwen.lib.money import fen_to_yuan
from fanwen.staff import charts, dashboard
from fanwen.staff.access import staff_required
from fanwen.stats import counters

# Cells a spreadsheet would run as a formula (an article title may start with one).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _days(request: HttpRequest) -> int:
    try:
        days = int(request.GET.get("days", ""))
    except ValueError:
        return dashboard.WINDOWS[0]
    return days if days in dashboard.WINDOWS else dashboard.WINDOWS[0]


@staff_required
def dashboard_page(request: HttpRequest) -> HttpResponse:
    # Today's views and paywall openings still in this process's cache go in first.
    counters.flush_recent()
    board = dashboard.board(_days(request))
    rate = board.refunds
    day_headers, day_rows = dashboard.revenue_table(board.revenue)
    context = {
        "board": board,
        "windows": dashboard.WINDOWS,
        "top_limit": dashboard.TOP_ARTICLES,
        "cards": {
            "gross": _yuan(board.gross_fen),
            "refunds": _yuan(board.refund_fen),
            "net": _yuan(board.net_fen),
            "refund_rate": dashboard.percent(rate.by_count if rate else None, 1),
            "refund_rate_amount": dashboard.percent(rate.by_amount if rate else None, 1),
        },
        # The newest day first, without the total row (the cards above show the totals).
        "day_headers": day_headers,
        "day_rows": day_rows[-2::-1],
        "refund_rows": dashboard.refunds_table(rate)[1] if rate else [],
        "revenue_chart": charts.revenue_chart(board.revenue),
        "plan_chart": charts.hbar_chart(board.plans),
        "channel_chart": charts.hbar_chart(board.channels),
        "article_chart": charts.hbar_chart(board.articles),
        "funnel_chart": charts.funnel_chart(board.funnel),
    }
    return render(request, "staff/dashboard.html", context)


def _yuan(fen: int) -> str:
    return fen_to_yuan(fen) + "元"


def _safe_cell(value: str) -> str:
    # Amounts (a negative net) are numbers; only text that looks like a formula is defused.
    if value.startswith(FORMULA_START) and not _is_number(value):
        return "'" + value
    return value


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


@staff_required
def dashboard_csv(request: HttpRequest, chart: str) -> HttpResponse:
    if chart not in dashboard.TABLES:
        raise Http404("没有这个图表")
    counters.flush_recent()
    name, build = dashboard.TABLES[chart]
    window = dashboard.window(_days(request))
    headers, rows = build(window)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    # The BOM tells Excel the file is UTF-8; without it the Chinese comes out garbled.
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(headers)
    writer.writerows([_safe_cell(cell) for cell in row] for row in rows)
    filename = f"{name}-近{window.days}天-{timezone.localdate():%Y%m%d}.csv"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
