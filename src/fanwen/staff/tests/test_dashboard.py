"""Every figure of the dashboard and every CSV, checked against plain SQL written apart from
the ORM helpers: Beijing days as UTC + 8 hours (China has no daylight saving time)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from fanwen.orders.models import Order, Plan
from fanwen.orders.tests.fixtures import plans  # noqa: F401  (fixture)
from fanwen.staff import dashboard
from fanwen.staff.tests import dashboard_data
from fanwen.stats import counters
from fanwen.stats.models import DailyCount, Metric

pytestmark = pytest.mark.django_db

REAL = "provider NOT IN ('sandbox', 'alipay_sbx')"
ORDERS = Order._meta.db_table
PLANS = Plan._meta.db_table
COUNTS = DailyCount._meta.db_table


def beijing_day(column: str) -> str:
    if connection.vendor == "sqlite":
        # SQLite keeps datetimes as UTC text.
        return f"date({column}, '+8 hours')"
    return f"CAST(({column} AT TIME ZONE 'UTC') + INTERVAL '8 hours' AS DATE)"


def sql(query: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return [tuple(row) for row in cursor.fetchall()]


def day_key(value) -> str:
    # SQLite answers 'YYYY-MM-DD', PostgreSQL a date.
    return value if isinstance(value, str) else value.isoformat()


def yuan(fen: int) -> str:
    return f"{Decimal(fen) / 100:.2f}"


def pct(part: int, whole: int) -> str:
    return "—" if not whole else f"{Decimal(part) * 100 / Decimal(whole):.2f}%"


class Oracle:
    """The figures of one window, from SQL only."""

    def __init__(self, first: dt.date, last: dt.date) -> None:
        self.first, self.last = first, last
        self.span = [first, last]

    def in_window(self, column: str) -> str:
        return f"{beijing_day(column)} BETWEEN %s AND %s"

    def by_day(self, column: str, statuses: tuple[str, ...]) -> dict[str, tuple[int, int]]:
        marks = ", ".join(f"'{s}'" for s in statuses)
        rows = sql(
            f"SELECT {beijing_day(column)}, COUNT(*), SUM(amount_fen) FROM {ORDERS} "
            f"WHERE {REAL} AND status IN ({marks}) AND {column} IS NOT NULL "
            f"AND {self.in_window(column)} GROUP BY {beijing_day(column)}",
            self.span,
        )
        return {day_key(day): (n, fen) for day, n, fen in rows}

    def gross(self) -> dict[str, tuple[int, int]]:
        return self.by_day("paid_at", ("paid", "refunded"))

    def refunds(self) -> dict[str, tuple[int, int]]:
        return self.by_day("refunded_at", ("refunded",))

    def paid_where(self) -> str:
        return (
            f"{REAL} AND o.status IN ('paid', 'refunded') AND o.paid_at IS NOT NULL "
            f"AND {self.in_window('o.paid_at')}"
        )

    def by_plan(self) -> dict[str, tuple[int, int]]:
        rows = sql(
            f"SELECT p.name, COUNT(o.id), COALESCE(SUM(o.amount_fen), 0) FROM {PLANS} p "
            f"LEFT JOIN {ORDERS} o ON o.plan_id = p.id AND {self.paid_where()} GROUP BY p.name",
            self.span,
        )
        return {name: (n, fen) for name, n, fen in rows}

    def by_channel(self) -> dict[str, tuple[int, int]]:
        rows = sql(
            f"SELECT o.channel, COUNT(*), SUM(o.amount_fen) FROM {ORDERS} o "
            f"WHERE {self.paid_where()} GROUP BY o.channel",
            self.span,
        )
        return {channel: (n, fen) for channel, n, fen in rows}

    def top_articles(self) -> list[tuple[int, int, int]]:
        return sql(
            f"SELECT o.article_id, COUNT(*), SUM(o.amount_fen) FROM {ORDERS} o "
            f"WHERE {self.paid_where()} AND o.article_id IS NOT NULL GROUP BY o.article_id "
            f"ORDER BY SUM(o.amount_fen) DESC, COUNT(*) DESC, o.article_id LIMIT 20",
            self.span,
        )

    def counted(self, metric: str) -> int:
        rows = sql(
            f"SELECT COALESCE(SUM({connection.ops.quote_name('count')}), 0) FROM {COUNTS} "
            "WHERE metric = %s AND day BETWEEN %s AND %s",
            [metric, *self.span],
        )
        return int(rows[0][0])

    def funnel(self) -> list[int]:
        created = f"FROM {ORDERS} WHERE {REAL} AND {self.in_window('created_at')}"
        return [
            self.counted("article_view"),
            self.counted("paywall_open"),
            sql(f"SELECT COUNT(*) {created}", self.span)[0][0],
            sql(f"SELECT COUNT(*) {created} AND status IN ('paid', 'refunded')", self.span)[0][0],
        ]

    def refund_rate(self) -> tuple[int, int, int, int]:
        (row,) = sql(
            "SELECT COUNT(*), COALESCE(SUM(o.amount_fen), 0), "
            "SUM(CASE WHEN o.status = 'refunded' THEN 1 ELSE 0 END), "
            "COALESCE(SUM(CASE WHEN o.status = 'refunded' THEN o.amount_fen ELSE 0 END), 0) "
            f"FROM {ORDERS} o WHERE {self.paid_where()}",
            self.span,
        )
        return tuple(int(v or 0) for v in row)


@pytest.fixture
def made(plans):  # noqa: F811
    return dashboard_data.build(timezone.localdate(), plans)


def get_csv(client, chart: str, days: int) -> list[list[str]]:
    response = client.get(f"/staff/dashboard/{chart}.csv?days={days}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    assert f"%E8%BF%91{days}%E5%A4%A9" in response["Content-Disposition"]  # 近N天, RFC 5987
    # Excel reads a CSV as UTF-8 only after a BOM.
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.mark.parametrize("days", [30, 90])
def test_every_figure_and_csv_matches_plain_sql(admin_client, made, days):
    today = timezone.localdate()
    oracle = Oracle(today - dt.timedelta(days=days - 1), today)
    board = dashboard.board(days)
    assert (board.window.first, board.window.last) == (oracle.first, oracle.last)

    # Revenue per day: gross by paid day, refunds by refund day, every day of the window.
    gross, refunds = oracle.gross(), oracle.refunds()
    assert [d.day for d in board.revenue] == [
        oracle.first + dt.timedelta(days=n) for n in range(days)
    ]
    for d in board.revenue:
        key = d.day.isoformat()
        assert (d.paid_orders, d.gross_fen) == gross.get(key, (0, 0)), key
        assert (d.refunded_orders, d.refund_fen) == refunds.get(key, (0, 0)), key
        assert d.net_fen == gross.get(key, (0, 0))[1] - refunds.get(key, (0, 0))[1]
    total_gross = sum(fen for _, fen in gross.values())
    total_refunds = sum(fen for _, fen in refunds.values())
    assert (board.gross_fen, board.refund_fen) == (total_gross, total_refunds)
    assert board.paid_orders == sum(n for n, _ in gross.values())

    # The data reaches both sides of midnight and of the window; sandbox orders are nowhere.
    boundary = (
        (today - dt.timedelta(days=3)).isoformat(),
        (today - dt.timedelta(days=2)).isoformat(),
    )
    assert gross[boundary[0]] == (1, 599) and gross[boundary[1]][0] == 2
    assert (today - dt.timedelta(days=29)).isoformat() in gross
    assert ((today - dt.timedelta(days=30)).isoformat() in gross) == (days == 90)
    paid_sql = (
        f"SELECT COALESCE(SUM(amount_fen), 0) FROM {ORDERS} WHERE status IN ('paid', 'refunded') "
        f"AND {oracle.in_window('paid_at')}"
    )
    all_paid = sql(paid_sql, oracle.span)[0][0]
    sandbox_paid = sql(paid_sql + " AND provider IN ('sandbox', 'alipay_sbx')", oracle.span)[0][0]
    assert sandbox_paid > 0 and total_gross == all_paid - sandbox_paid

    # Plans and channels: count and amount of the window's paid orders, zeros included.
    assert {s.label: (s.orders, s.fen) for s in board.plans} == oracle.by_plan()
    channels = oracle.by_channel()
    assert {s.key: (s.orders, s.fen) for s in board.channels} == {
        code: channels.get(code, (0, 0)) for code in Order.Channel.values
    }
    for shares in (board.plans, board.channels):
        assert [s.fen for s in shares] == sorted((s.fen for s in shares), reverse=True)
        assert sum(s.fen for s in shares) == total_gross

    # Top articles, in order, linking to the staff article page.
    top = oracle.top_articles()
    assert [(int(s.key), s.orders, s.fen) for s in board.articles] == top
    assert all(s.url == f"/staff/articles/{s.key}/" for s in board.articles)

    # The funnel.
    steps = oracle.funnel()
    assert [s.count for s in board.funnel] == steps
    for i, step in enumerate(board.funnel[1:], start=1):
        assert step.of_previous == (steps[i] / steps[i - 1] if steps[i - 1] else None)
        assert step.of_first == (steps[i] / steps[0] if steps[0] else None)

    # The refund rate of the window's paid orders.
    paid_n, paid_fen, refunded_n, refunded_fen = oracle.refund_rate()
    rate = board.refunds
    assert (rate.paid_orders, rate.paid_fen, rate.refunded_orders, rate.refunded_fen) == (
        paid_n,
        paid_fen,
        refunded_n,
        refunded_fen,
    )
    assert refunded_n > 0 and rate.by_count == refunded_n / paid_n

    # The page shows the same numbers.
    page = admin_client.get(f"/staff/dashboard/?days={days}").content.decode()
    assert f'id="db-gross">{yuan(total_gross)}元<' in page
    assert f'id="db-refunds">{yuan(total_refunds)}元<' in page
    assert f'id="db-net">{yuan(total_gross - total_refunds)}元<' in page
    assert f'id="db-paid">{paid_n}单<' in page
    assert f"{Decimal(refunded_n) * 100 / paid_n:.1f}%" in page
    for s in board.articles:
        assert f'href="/staff/articles/{s.key}/"' in page

    # Every CSV, row by row.
    rows = get_csv(admin_client, "revenue", days)
    assert rows[0] == [
        "日期",
        "收入（元）",
        "退款（元）",
        "净收入（元）",
        "支付订单数",
        "退款订单数",
    ]
    expected = []
    for n in range(days):
        key = (oracle.first + dt.timedelta(days=n)).isoformat()
        (pn, pf), (rn, rf) = gross.get(key, (0, 0)), refunds.get(key, (0, 0))
        expected.append([key, yuan(pf), yuan(rf), yuan(pf - rf), str(pn), str(rn)])
    paid_total = sum(n for n, _ in gross.values())
    refunded_total = sum(n for n, _ in refunds.values())
    expected.append(
        [
            "合计",
            yuan(total_gross),
            yuan(total_refunds),
            yuan(total_gross - total_refunds),
            str(paid_total),
            str(refunded_total),
        ]
    )
    assert rows[1:] == expected

    rows = get_csv(admin_client, "plans", days)
    assert rows[0] == ["套餐", "支付订单数", "金额（元）"]
    assert {r[0]: (int(r[1]), r[2]) for r in rows[1:-1]} == {
        name: (n, yuan(fen)) for name, (n, fen) in oracle.by_plan().items()
    }
    assert rows[-1] == ["合计", str(paid_total), yuan(total_gross)]

    rows = get_csv(admin_client, "channels", days)
    assert rows[0] == ["支付渠道", "支付订单数", "金额（元）"]
    labels = dict(Order.Channel.choices)
    assert {r[0]: (int(r[1]), r[2]) for r in rows[1:-1]} == {
        str(labels[code]): (channels.get(code, (0, 0))[0], yuan(channels.get(code, (0, 0))[1]))
        for code in Order.Channel.values
    }
    assert rows[-1] == ["合计", str(paid_total), yuan(total_gross)]

    rows = get_csv(admin_client, "articles", days)
    assert rows[0] == ["排名", "文章ID", "标题", "支付订单数", "金额（元）"]
    titles = dict(sql("SELECT id, title FROM library_article", []))
    assert rows[1:] == [
        [
            str(rank),
            str(article_id),
            # A title a spreadsheet would run as a formula is written as text.
            ("'" + titles[article_id])
            if titles[article_id].startswith("=")
            else titles[article_id],
            str(n),
            yuan(fen),
        ]
        for rank, (article_id, n, fen) in enumerate(top, start=1)
    ]
    assert any(r[2].startswith("'=") for r in rows[1:])

    rows = get_csv(admin_client, "funnel", days)
    assert rows == [
        ["步骤", "次数", "占上一步", "占文章浏览"],
        ["文章浏览", str(steps[0]), "—", "—"],
        ["打开付费窗口", str(steps[1]), pct(steps[1], steps[0]), pct(steps[1], steps[0])],
        ["创建订单", str(steps[2]), pct(steps[2], steps[1]), pct(steps[2], steps[0])],
        ["支付成功", str(steps[3]), pct(steps[3], steps[2]), pct(steps[3], steps[0])],
    ]

    rows = get_csv(admin_client, "refunds", days)
    assert rows == [
        ["口径", "已支付", "其中已退款", "退款率"],
        ["订单数", str(paid_n), str(refunded_n), pct(refunded_n, paid_n)],
        ["金额（元）", yuan(paid_fen), yuan(refunded_fen), pct(refunded_fen, paid_fen)],
    ]


def test_the_window_switch_defaults_to_30_days(admin_client, made):
    page = admin_client.get("/staff/dashboard/?days=7").content.decode()
    assert 'class="on" aria-current="page">近30天' in page
    page = admin_client.get("/staff/dashboard/?days=90").content.decode()
    assert 'class="on" aria-current="page">近90天' in page


def test_an_unknown_chart_has_no_csv(admin_client):
    assert admin_client.get("/staff/dashboard/nothing.csv").status_code == 404


def test_the_page_counts_what_is_still_in_the_cache(admin_client, made, settings):
    settings.FANWEN_STATS_FLUSH_EVERY = 50
    before = Oracle(timezone.localdate(), timezone.localdate()).counted("article_view")
    for _ in range(120):
        counters.record(Metric.ARTICLE_VIEW)
    # Two batches of 50 went in as they filled; the last 20 wait in the cache.
    assert (
        Oracle(timezone.localdate(), timezone.localdate()).counted("article_view") == before + 100
    )
    admin_client.get("/staff/dashboard/")
    assert (
        Oracle(timezone.localdate(), timezone.localdate()).counted("article_view") == before + 120
    )


def test_an_empty_library_draws_empty_charts(admin_client, plans):  # noqa: F811
    page = admin_client.get("/staff/dashboard/").content.decode()
    assert 'id="db-gross">0.00元<' in page
    assert "这段时间没有支付订单。" in page
    assert get_csv(admin_client, "funnel", 30)[1] == ["文章浏览", "0", "—", "—"]
