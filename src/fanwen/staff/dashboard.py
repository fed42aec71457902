"""The operator's figures: revenue per day, orders by plan and channel, top articles, the
funnel and the refund rate, over the last 30 or 90 days (Beijing days).

Every figure starts from real_orders(): the sandbox's payments are tests, never money. A paid
order counts on the day it was paid (paid_at); a refunded one also counts as a refund on the
day it was refunded (refunded_at), so gross - refunds = net day by day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone

from fanwen.lib.money import fen_to_yuan
from fanwen.library.models import Article
from fanwen.orders.models import Order, Plan
from fanwen.stats.models import DailyCount, Metric

WINDOWS = (30, 90)
SANDBOX_PROVIDERS = (Order.Provider.SANDBOX, Order.Provider.ALIPAY_SANDBOX)
# A refunded order was paid: it stays in the paid figures of its paid day.
PAID_STATES = (Order.Status.PAID, Order.Status.REFUNDED)
TOP_ARTICLES = 20


def real_orders() -> QuerySet[Order]:
    """Orders paid (or to be paid) with real money: the sandbox providers never count."""
    return Order.objects.exclude(provider__in=SANDBOX_PROVIDERS)


@dataclass(frozen=True)
class Window:
    days: int
    first: dt.date
    last: dt.date

    @property
    def start(self) -> dt.datetime:
        """Midnight (Beijing) opening the first day."""
        return _midnight(self.first)

    @property
    def end(self) -> dt.datetime:
        """Midnight (Beijing) after the last day: the window is [start, end)."""
        return _midnight(self.last + dt.timedelta(days=1))

    def dates(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=n) for n in range(self.days)]


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_default_timezone())


def window(days: int, today: dt.date | None = None) -> Window:
    """The last `days` Beijing days, today included."""
    last = today or timezone.localdate()
    return Window(days, last - dt.timedelta(days=days - 1), last)


def _between(w: Window, column: str) -> Q:
    return Q(**{f"{column}__gte": w.start, f"{column}__lt": w.end})


def paid_in(w: Window) -> QuerySet[Order]:
    """Real orders paid in the window (refunded since or not)."""
    return real_orders().filter(_between(w, "paid_at"), status__in=PAID_STATES)


def refunded_in(w: Window) -> QuerySet[Order]:
    """Real orders refunded in the window, whenever they were paid."""
    return real_orders().filter(_between(w, "refunded_at"), status=Order.Status.REFUNDED)


def _by_day(orders: QuerySet[Order], column: str) -> dict[dt.date, tuple[int, int]]:
    day = TruncDate(column, tzinfo=timezone.get_default_timezone())
    rows = orders.annotate(day=day).values("day").annotate(n=Count("id"), fen=Sum("amount_fen"))
    return {row["day"]: (row["n"], row["fen"]) for row in rows.order_by()}


@dataclass(frozen=True)
class DayRevenue:
    day: dt.date
    paid_orders: int
    gross_fen: int
    refunded_orders: int
    refund_fen: int

    @property
    def net_fen(self) -> int:
        return self.gross_fen - self.refund_fen


def revenue_by_day(w: Window) -> list[DayRevenue]:
    """Every day of the window, days without money included."""
    paid = _by_day(paid_in(w), "paid_at")
    refunded = _by_day(refunded_in(w), "refunded_at")
    return [
        DayRevenue(day, *paid.get(day, (0, 0)), *refunded.get(day, (0, 0))) for day in w.dates()
    ]


@dataclass(frozen=True)
class Share:
    """One bar: a plan, a channel or an article, with its paid orders in the window."""

    key: str
    label: str
    orders: int
    fen: int
    url: str = ""


def by_plan(w: Window) -> list[Share]:
    """Both plans, even one nobody bought; the biggest first."""
    totals = {
        row["plan_id"]: (row["n"], row["fen"])
        for row in paid_in(w).values("plan_id").annotate(n=Count("id"), fen=Sum("amount_fen"))
    }
    shares = [
        Share(plan.code, plan.name, *totals.get(plan.pk, (0, 0)))
        for plan in Plan.objects.order_by("pk")
    ]
    return sorted(shares, key=lambda s: -s.fen)


def by_channel(w: Window) -> list[Share]:
    """Every channel, even one nobody paid through; the biggest first."""
    totals = {
        row["channel"]: (row["n"], row["fen"])
        for row in paid_in(w).values("channel").annotate(n=Count("id"), fen=Sum("amount_fen"))
    }
    shares = [
        Share(code, str(label), *totals.get(code, (0, 0))) for code, label in Order.Channel.choices
    ]
    return sorted(shares, key=lambda s: -s.fen)


def top_articles(w: Window, limit: int = TOP_ARTICLES) -> list[Share]:
    """The articles that brought the most money (their single-article and pass orders)."""
    rows = (
        paid_in(w)
        .filter(article__isnull=False)
        .values("article_id")
        .annotate(n=Count("id"), fen=Sum("amount_fen"))
        .order_by("-fen", "-n", "article_id")[:limit]
    )
    rows = list(rows)
    articles = Article.objects.in_bulk([row["article_id"] for row in rows])
    return [
        Share(
            str(row["article_id"]),
            articles[row["article_id"]].display_title,
            row["n"],
            row["fen"],
            reverse("staff:article", args=[row["article_id"]]),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class Step:
    label: str
    count: int
    # Of the step before (None for the first step or after a step of zero).
    of_previous: float | None
    of_first: float | None


def counted(w: Window, metric: Metric) -> int:
    rows = DailyCount.objects.filter(metric=metric, day__gte=w.first, day__lte=w.last)
    return rows.aggregate(total=Sum("count"))["total"] or 0


def funnel(w: Window) -> list[Step]:
    """Article views → paywall opened → orders created → of those, paid."""
    created = real_orders().filter(_between(w, "created_at"))
    counts = [
        ("文章浏览", counted(w, Metric.ARTICLE_VIEW)),
        ("打开付费窗口", counted(w, Metric.PAYWALL_OPEN)),
        ("创建订单", created.count()),
        ("支付成功", created.filter(status__in=PAID_STATES).count()),
    ]
    first = counts[0][1]
    steps, previous = [], None
    for label, count in counts:
        steps.append(
            Step(
                label,
                count,
                None if previous is None else _ratio(count, previous),
                None if previous is None else _ratio(count, first),
            )
        )
        previous = count
    return steps


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class RefundRate:
    paid_orders: int
    paid_fen: int
    refunded_orders: int
    refunded_fen: int

    @property
    def by_count(self) -> float | None:
        return _ratio(self.refunded_orders, self.paid_orders)

    @property
    def by_amount(self) -> float | None:
        return _ratio(self.refunded_fen, self.paid_fen)


def refund_rate(w: Window) -> RefundRate:
    """Of the orders paid in the window, how many (and how much) have been refunded since."""
    refunded = Q(status=Order.Status.REFUNDED)
    totals = paid_in(w).aggregate(
        n=Count("id"),
        fen=Sum("amount_fen"),
        rn=Count("id", filter=refunded),
        rfen=Sum("amount_fen", filter=refunded),
    )
    return RefundRate(totals["n"], totals["fen"] or 0, totals["rn"], totals["rfen"] or 0)


@dataclass
class Board:
    """Everything the dashboard shows for one window."""

    window: Window
    revenue: list[DayRevenue] = field(default_factory=list)
    plans: list[Share] = field(default_factory=list)
    channels: list[Share] = field(default_factory=list)
    articles: list[Share] = field(default_factory=list)
    funnel: list[Step] = field(default_factory=list)
    refunds: RefundRate | None = None

    @property
    def gross_fen(self) -> int:
        return sum(d.gross_fen for d in self.revenue)

    @property
    def refund_fen(self) -> int:
        return sum(d.refund_fen for d in self.revenue)

    @property
    def net_fen(self) -> int:
        return self.gross_fen - self.refund_fen

    @property
    def paid_orders(self) -> int:
        return sum(d.paid_orders for d in self.revenue)

    @property
    def refunded_orders(self) -> int:
        return sum(d.refunded_orders for d in self.revenue)


def board(days: int, today: dt.date | None = None) -> Board:
    w = window(days, today)
    return Board(
        window=w,
        revenue=revenue_by_day(w),
        plans=by_plan(w),
        channels=by_channel(w),
        articles=top_articles(w),
        funnel=funnel(w),
        refunds=refund_rate(w),
    )


# --- CSV: one table per chart, Chinese headers, amounts in 元 with two decimals ---

Table = tuple[list[str], list[list[str]]]


def percent(ratio: float | None, places: int = 2) -> str:
    return "—" if ratio is None else f"{ratio * 100:.{places}f}%"


def revenue_table(days: list[DayRevenue]) -> Table:
    headers = ["日期", "收入（元）", "退款（元）", "净收入（元）", "支付订单数", "退款订单数"]
    rows = [
        [
            d.day.isoformat(),
            fen_to_yuan(d.gross_fen),
            fen_to_yuan(d.refund_fen),
            fen_to_yuan(d.net_fen),
            str(d.paid_orders),
            str(d.refunded_orders),
        ]
        for d in days
    ]
    gross, refund = sum(d.gross_fen for d in days), sum(d.refund_fen for d in days)
    rows.append(
        [
            "合计",
            fen_to_yuan(gross),
            fen_to_yuan(refund),
            fen_to_yuan(gross - refund),
            str(sum(d.paid_orders for d in days)),
            str(sum(d.refunded_orders for d in days)),
        ]
    )
    return headers, rows


def _shares_table(name: str, shares: list[Share]) -> Table:
    rows = [[s.label, str(s.orders), fen_to_yuan(s.fen)] for s in shares]
    rows.append(
        ["合计", str(sum(s.orders for s in shares)), fen_to_yuan(sum(s.fen for s in shares))]
    )
    return [name, "支付订单数", "金额（元）"], rows


def _articles_table(w: Window) -> Table:
    headers = ["排名", "文章ID", "标题", "支付订单数", "金额（元）"]
    rows = [
        [str(rank), s.key, s.label, str(s.orders), fen_to_yuan(s.fen)]
        for rank, s in enumerate(top_articles(w), start=1)
    ]
    return headers, rows


def _funnel_table(w: Window) -> Table:
    headers = ["步骤", "次数", "占上一步", "占文章浏览"]
    rows = [[s.label, str(s.count), percent(s.of_previous), percent(s.of_first)] for s in funnel(w)]
    return headers, rows


def refunds_table(rate: RefundRate) -> Table:
    headers = ["口径", "已支付", "其中已退款", "退款率"]
    rows = [
        ["订单数", str(rate.paid_orders), str(rate.refunded_orders), percent(rate.by_count)],
        [
            "金额（元）",
            fen_to_yuan(rate.paid_fen),
            fen_to_yuan(rate.refunded_fen),
            percent(rate.by_amount),
        ],
    ]
    return headers, rows


# chart → (the file's name, its table).
TABLES: dict[str, tuple[str, Callable[[Window], Table]]] = {
    "revenue": ("每日收入", lambda w: revenue_table(revenue_by_day(w))),
    "plans": ("套餐", lambda w: _shares_table("套餐", by_plan(w))),
    "channels": ("支付渠道", lambda w: _shares_table("支付渠道", by_channel(w))),
    "articles": ("文章收入排行", _articles_table),
    "funnel": ("转化漏斗", _funnel_table),
    "refunds": ("退款率", lambda w: refunds_table(refund_rate(w))),
}
