"""Orders and counters for the dashboard's tests: both plans, every channel, real and sandbox
providers, pending/closed/paid/refunded, days on both sides of Beijing midnight and of the
30-day window's edges."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from django.utils import timezone

from fanwen.accounts.models import Visitor
from fanwen.library.models import Article, Category
from fanwen.orders.models import Order, Plan
from fanwen.stats.models import DailyCount, Metric

BEIJING = dt.timezone(dt.timedelta(hours=8))
_txn = itertools.count(1)


def beijing(today: dt.date, days_ago: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment given in Beijing time, `days_ago` days before `today`."""
    day = today - dt.timedelta(days=days_ago)
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=BEIJING)


@dataclass
class Made:
    articles: dict[str, Article]
    orders: list[Order]


def make_order(
    visitor: Visitor,
    plan: Plan,
    article: Article | None,
    *,
    provider: str,
    channel: str,
    amount_fen: int,
    status: str,
    created_at: dt.datetime,
    paid_at: dt.datetime | None = None,
    refunded_at: dt.datetime | None = None,
) -> Order:
    paid = status in (Order.Status.PAID, Order.Status.REFUNDED)
    return Order.objects.create(
        visitor=visitor,
        plan=plan,
        article=article,
        amount_fen=amount_fen,
        list_price_fen=1000,
        provider=provider,
        channel=channel,
        status=status,
        provider_txn_id=f"T{next(_txn):012d}" if paid else None,
        paid_at=paid_at,
        refunded_at=refunded_at,
        refund_status=(
            Order.RefundStatus.SUCCESS
            if status == Order.Status.REFUNDED
            else Order.RefundStatus.NONE
        ),
        closed_at=created_at + dt.timedelta(minutes=30) if status == Order.Status.CLOSED else None,
        created_at=created_at,
        expires_at=created_at + dt.timedelta(minutes=30),
    )


def build(today: dt.date, plans: dict[str, Plan]) -> Made:
    category = Category.objects.create(name="工作总结", slug="db-zongjie", position=1)
    published = timezone.now() - dt.timedelta(days=200)

    def article(title: str) -> Article:
        return Article.objects.create(
            category=category, title=title, status=Article.Status.PUBLISHED, published_at=published
        )

    a = {
        "summary": article("2026年度个人工作总结"),
        "formula": article('=HYPERLINK("x")开头的标题'),
        "party": article("入党申请书范文"),
        "plan": article("下半年工作计划"),
    }
    copy, pass30 = plans[Plan.Code.ARTICLE_COPY], plans[Plan.Code.PASS_30D]
    visitor = Visitor.objects.create()
    W, A = Order.Provider.WECHAT, Order.Provider.ALIPAY
    SBX, ASBX = Order.Provider.SANDBOX, Order.Provider.ALIPAY_SANDBOX
    C = Order.Channel
    S = Order.Status
    at = lambda days_ago, hour, minute=0: beijing(today, days_ago, hour, minute)  # noqa: E731
    rows = [
        # Paid at 23:30 Beijing three days ago (15:30 UTC): that Beijing day, not the next.
        (W, C.NATIVE, copy, a["summary"], 599, S.PAID, at(3, 23, 20), at(3, 23, 30), None),
        # Opened before midnight, paid at 00:30 Beijing (16:30 UTC the day before).
        (W, C.H5, copy, a["summary"], 599, S.PAID, at(3, 23, 50), at(2, 0, 30), None),
        (A, C.ALIPAY_QR, pass30, a["summary"], 999, S.PAID, at(2, 9, 55), at(2, 10), None),
        # Paid five days ago, refunded yesterday: revenue then, a refund yesterday.
        (A, C.ALIPAY_WAP, copy, a["formula"], 599, S.REFUNDED, at(5, 12), at(5, 12, 1), at(1, 9)),
        # A pass bought and refunded today, bought from no article.
        (W, C.JSAPI, pass30, None, 999, S.REFUNDED, at(0, 7, 59), at(0, 8), at(0, 20)),
        (W, C.NATIVE, copy, a["party"], 499, S.PENDING, at(0, 9), None, None),
        (A, C.ALIPAY_QR, copy, a["party"], 599, S.CLOSED, at(1, 9), None, None),
        (W, C.NATIVE, copy, a["party"], 599, S.PAID, at(6, 14), at(6, 14, 2), None),
        (A, C.ALIPAY_WAP, copy, a["plan"], 399, S.PAID, at(6, 15), at(6, 15, 1), None),
        # Sandbox payments are tests: none of these may count anywhere.
        (SBX, C.NATIVE, copy, a["plan"], 599, S.PAID, at(1, 10), at(1, 10, 1), None),
        (SBX, C.H5, pass30, a["plan"], 999, S.PENDING, at(1, 11), None, None),
        (ASBX, C.ALIPAY_QR, pass30, a["plan"], 999, S.REFUNDED, at(2, 8), at(2, 8, 1), at(1, 8)),
        (ASBX, C.ALIPAY_WAP, copy, a["plan"], 599, S.PAID, at(29, 0, 5), at(29, 0, 10), None),
        # The 30-day window's first day starts at 00:00 Beijing (16:00 UTC the day before).
        (W, C.NATIVE, copy, a["plan"], 599, S.PAID, at(30, 23, 40), at(29, 0, 10), None),
        # ...and the day before it (23:50 Beijing) is outside, inside the 90-day one.
        (A, C.ALIPAY_QR, copy, a["plan"], 599, S.PAID, at(30, 23, 45), at(30, 23, 50), None),
        # Paid before the 30-day window, refunded inside it: only the refund is in it.
        (W, C.NATIVE, pass30, a["party"], 999, S.REFUNDED, at(31, 10), at(31, 10, 5), at(2, 16)),
        (W, C.H5, copy, a["formula"], 599, S.PAID, at(40, 12), at(40, 12, 3), None),
        (A, C.ALIPAY_WAP, pass30, None, 999, S.REFUNDED, at(45, 12), at(45, 12, 2), at(35, 9)),
        (W, C.NATIVE, copy, a["summary"], 599, S.CLOSED, at(50, 12), None, None),
        # Older than either window.
        (W, C.NATIVE, copy, a["summary"], 599, S.PAID, at(95, 12), at(95, 12, 1), None),
    ]
    orders = [
        make_order(
            visitor,
            plan,
            article,
            provider=provider,
            channel=channel,
            amount_fen=fen,
            status=status,
            created_at=created,
            paid_at=paid,
            refunded_at=refunded,
        )
        for provider, channel, plan, article, fen, status, created, paid, refunded in rows
    ]
    counts = [
        (0, Metric.ARTICLE_VIEW, 180),
        (3, Metric.ARTICLE_VIEW, 240),
        (29, Metric.ARTICLE_VIEW, 30),
        (30, Metric.ARTICLE_VIEW, 1000),
        (60, Metric.ARTICLE_VIEW, 500),
        (0, Metric.PAYWALL_OPEN, 9),
        (1, Metric.PAYWALL_OPEN, 16),
        (40, Metric.PAYWALL_OPEN, 40),
    ]
    DailyCount.objects.bulk_create(
        DailyCount(day=today - dt.timedelta(days=n), metric=metric, count=count)
        for n, metric, count in counts
    )
    return Made(a, orders)
