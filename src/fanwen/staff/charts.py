"""Geometry of the dashboard's charts, drawn on the server as inline SVG (no script).

Horizontal positions are percentages of the chart's width and vertical ones pixels: each SVG
is 100% wide at a fixed height, so bars stretch with the screen while labels keep their
size, as readable at 390 px as at 1280 px (a viewBox would scale the text down on a phone).
Numbers are formatted here, so the template prints them as they are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from fanwen.lib.money import fen_to_yuan, yuan_label
from fanwen.staff.dashboard import DayRevenue, Share, Step, percent

# The revenue chart: plot between TOP and HEIGHT - BOTTOM (the dates sit below it).
HEIGHT = 260
TOP = 12
BOTTOM = 26
# At most this many dates under the bars; today's is always one of them.
MAX_DATE_LABELS = 6
# Horizontal bars: a label line, then the bar with its value to the right of it.
ROW = 46
BAR_SPACE = 64.0
TITLE_CHARS = 24


def _pct(value: float) -> str:
    return f"{value:.3f}"


def _px(value: float) -> str:
    return f"{value:.1f}"


def nice_step(top: int, parts: int = 4) -> int:
    """A round step (1, 2 or 5 times a power of ten) that covers `top` in about `parts` steps."""
    raw = max(1, math.ceil(top / parts))
    magnitude = 10 ** int(math.floor(math.log10(raw)))
    for m in (1, 2, 5, 10):
        if m * magnitude >= raw:
            return m * magnitude
    return 10 * magnitude


@dataclass(frozen=True)
class Rect:
    x: str
    width: str
    y: str
    height: str


@dataclass(frozen=True)
class Tick:
    y: str
    label: str


@dataclass(frozen=True)
class DateLabel:
    x: str
    anchor: str
    label: str


@dataclass(frozen=True)
class Segment:
    x1: str
    y1: str
    x2: str
    y2: str


@dataclass(frozen=True)
class DayColumn:
    """One day: its bars and the hover text."""

    gross: Rect | None
    refund: Rect | None
    hover: Rect
    title: str


@dataclass(frozen=True)
class RevenueChart:
    height: int
    ticks: list[Tick]
    zero_y: str
    columns: list[DayColumn]
    net: list[Segment]
    dates: list[DateLabel]


def revenue_chart(days: list[DayRevenue]) -> RevenueChart:
    """Gross up from the zero line, refunds down from it, the net as a line over both."""
    highest = max((d.gross_fen for d in days), default=0)
    deepest = max((d.refund_fen for d in days), default=0)
    # At least one 元 tall, so an empty month still has an axis.
    step = nice_step(max(highest, deepest, 100))
    top = max(step, math.ceil(highest / step) * step)
    bottom = math.ceil(deepest / step) * step
    scale = (HEIGHT - TOP - BOTTOM) / (top + bottom)

    def y(fen: int) -> float:
        return TOP + (top - fen) * scale

    zero = y(0)
    slot = 100 / max(1, len(days))
    columns, centres = [], []
    for i, d in enumerate(days):
        x, width = i * slot + slot * 0.15, slot * 0.7
        gross = refund = None
        if d.gross_fen:
            gross = Rect(_pct(x), _pct(width), _px(y(d.gross_fen)), _px(zero - y(d.gross_fen)))
        if d.refund_fen:
            refund = Rect(_pct(x), _pct(width), _px(zero), _px(y(-d.refund_fen) - zero))
        title = (
            f"{d.day:%Y-%m-%d}  收入 {fen_to_yuan(d.gross_fen)}元（{d.paid_orders}单）"
            f"  退款 {fen_to_yuan(d.refund_fen)}元  净收入 {fen_to_yuan(d.net_fen)}元"
        )
        hover = Rect(_pct(i * slot), _pct(slot), _px(TOP), _px(HEIGHT - TOP - BOTTOM))
        columns.append(DayColumn(gross, refund, hover, title))
        centres.append((i * slot + slot / 2, y(d.net_fen)))
    net = [
        Segment(_pct(x1), _px(y1), _pct(x2), _px(y2))
        for (x1, y1), (x2, y2) in zip(centres, centres[1:], strict=False)
    ]
    ticks = [Tick(_px(y(v)), f"{yuan_label(v)}元") for v in range(-bottom, top + 1, step)]
    every = max(1, math.ceil(len(days) / MAX_DATE_LABELS))
    dates = []
    for i in range(len(days) - 1, -1, -every):
        centre = i * slot + slot / 2
        # Labels near an edge hang inwards instead of being cut off.
        if centre < 6:
            x, anchor = "0", "start"
        elif centre > 94:
            x, anchor = "100", "end"
        else:
            x, anchor = _pct(centre), "middle"
        dates.append(DateLabel(x, anchor, f"{days[i].day:%m-%d}"))
    return RevenueChart(HEIGHT, ticks, _px(zero), columns, net, dates)


@dataclass(frozen=True)
class HBar:
    label: str
    value: str
    width: str
    url: str
    label_y: int
    bar_y: int


@dataclass(frozen=True)
class HBarChart:
    height: int
    bars: list[HBar]
    bar_space: str


def _short(text: str, limit: int = TITLE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def hbar_chart(shares: list[Share]) -> HBarChart:
    """One row per share: its name, then a bar as long as its amount (the largest fills it)."""
    most = max((s.fen for s in shares), default=0)
    bars = []
    for i, s in enumerate(shares):
        width = BAR_SPACE * s.fen / most if most else 0
        if s.fen:
            width = max(width, 0.5)
        bars.append(
            HBar(
                _short(s.label),
                f"{fen_to_yuan(s.fen)}元 · {s.orders}单",
                _pct(width),
                s.url,
                i * ROW + 16,
                i * ROW + 24,
            )
        )
    return HBarChart(max(ROW, len(bars) * ROW), bars, _pct(BAR_SPACE))


@dataclass(frozen=True)
class FunnelRow:
    label: str
    count: int
    note: str
    x: str
    width: str
    label_y: int
    bar_y: int
    shade: int


@dataclass(frozen=True)
class FunnelChart:
    height: int
    rows: list[FunnelRow]


def funnel_chart(steps: list[Step]) -> FunnelChart:
    """Stepped bars centred under each other, as wide as their share of the first step."""
    first = steps[0].count if steps else 0
    rows = []
    for i, s in enumerate(steps):
        width = 100 * s.count / first if first else 0
        if s.count:
            width = max(min(width, 100), 0.8)
        if i == 0:
            note = ""
        else:
            note = f"占上一步 {percent(s.of_previous, 1)} · 占浏览 {percent(s.of_first, 1)}"
        rows.append(
            FunnelRow(
                s.label,
                s.count,
                note,
                _pct((100 - width) / 2),
                _pct(width),
                i * ROW + 16,
                i * ROW + 24,
                i,
            )
        )
    return FunnelChart(max(ROW, len(rows) * ROW), rows)
