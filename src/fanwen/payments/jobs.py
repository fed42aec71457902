"""The worker's jobs: reconcile pending orders, close expired ones, send refunds still processing,
and once a day compare WeChat's trade bill.

The reconcile pass holds no lock while it asks a provider: it queries first, outside any
transaction, and settling then locks the order, checks it again and settles (or finds it
settled by a notification meanwhile). Workers share the cache, so an order is asked about
once per FANWEN_RECONCILE_REQUERY_SECONDS however many run. The expire and refund jobs claim
each order with select_for_update(skip_locked=True) in its own short transaction, so a row
one worker holds is skipped by the others. SQLite has no row locks; there a single worker is
assumed and no transaction is held over the HTTP call (an IMMEDIATE transaction would lock
the whole database for its length).

A daily job claims its day with a JobRun row (unique per job and day), so however many
workers run, and whatever cache they share, one of them does it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from fanwen.orders.actions import do_close_order, do_complete_refund
from fanwen.orders.models import Order, PaymentEvent
from fanwen.payments.backends import backend_for_provider, backends, get_backend
from fanwen.payments.backends.wechat import BEIJING, WeChatPayBackend, bill_report
from fanwen.payments.errors import GatewayError, PaymentError, UnableToTakePayment
from fanwen.payments.models import JobRun
from fanwen.payments.settlement import settle_from_query, settle_report, settle_transaction

log = logging.getLogger("fanwen.payments.jobs")

BATCH = 200
# reconcile_payments looks at up to this many times `limit` orders to find `limit` due ones.
SCAN_FACTOR = 10


@contextmanager
def claimed(order_id: int, **filters: Any) -> Iterator[Order | None]:
    """The order, locked for this worker, if it still matches `filters`; None if taken or changed."""
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            yield (
                Order.objects.select_for_update(skip_locked=True)
                .filter(pk=order_id, **filters)
                .first()
            )
    else:
        yield Order.objects.filter(pk=order_id, **filters).first()


def _due(order: Order) -> bool:
    # Workers share the cache: an order asked about a moment ago is not asked again.
    return cache.add(
        f"fanwen:reconcile:{order.pk}", 1, timeout=settings.FANWEN_RECONCILE_REQUERY_SECONDS
    )


def _claimed_with_backend(
    ids: list[int], counts: Counter, *, check_due: bool, **filters
) -> Iterator[tuple[Order, Any]]:
    """Claim each order in turn and yield it with its backend; what is passed over is counted.

    The caller's loop body runs while the claim (and on PostgreSQL the row lock) is held.
    """
    for order_id in ids:
        with claimed(order_id, **filters) as order:
            if order is None:
                counts["skipped"] += 1
                continue
            if check_due and not _due(order):
                counts["not due"] += 1
                continue
            backend = backend_for_provider(order.provider)
            if backend is None:
                log.error("order %s: no backend takes provider %r", order, order.provider)
                counts["no backend"] += 1
                continue
            yield order, backend


def reconcile_payments(*, now: dt.datetime | None = None, limit: int = BATCH) -> Counter:
    """Ask the provider about pending orders older than N minutes and recently closed ones; settle the paid."""
    now = now or timezone.now()
    pending = Q(
        status=Order.Status.PENDING,
        created_at__lte=now - dt.timedelta(minutes=settings.FANWEN_RECONCILE_AFTER_MINUTES),
    )
    # A payment can race our close; it is the buyer's money and is honoured.
    recently_closed = Q(
        status=Order.Status.CLOSED,
        closed_at__gte=now - dt.timedelta(hours=settings.FANWEN_RECONCILE_CLOSED_HOURS),
    )
    # Newest first, and only the orders asked about count towards `limit`: abandoned orders
    # (expire_orders closes them) must not fill every pass while a paid one waits behind them.
    ids = (
        Order.objects.filter(pending | recently_closed)
        .order_by("-created_at")
        .values_list("pk", flat=True)[: limit * SCAN_FACTOR]
    )
    counts: Counter = Counter()
    unsettled = [Order.Status.PENDING, Order.Status.CLOSED]
    asked = 0
    for order_id in ids.iterator(chunk_size=500):
        if asked >= limit:
            break
        order = Order.objects.filter(pk=order_id, status__in=unsettled).first()
        if order is None:
            counts["skipped"] += 1
            continue
        if not _due(order):
            counts["not due"] += 1
            continue
        asked += 1
        backend = backend_for_provider(order.provider)
        if backend is None:
            log.error("order %s: no backend takes provider %r", order, order.provider)
            counts["no backend"] += 1
            continue
        try:
            # No transaction is open here: a slow provider holds no row (and no SQLite) lock.
            report = backend.query(order.out_trade_no)
            # do_settle_order locks the row and checks it again: a notification may have won.
            result = settle_report(backend, report, order.out_trade_no)
        except PaymentError as exc:
            log.warning("reconcile %s: %s: %s", order, type(exc).__name__, exc)
            counts["failed"] += 1
            continue
        if result is None:
            counts["unpaid"] += 1
        elif result.settled_now:
            log.warning(
                "reconcile settled %s%s: its notification never arrived",
                order,
                " after close" if result.late else "",
            )
            counts["settled"] += 1
        else:
            counts[result.outcome] += 1
    return counts


def expire_orders(*, now: dt.datetime | None = None, limit: int = BATCH) -> Counter:
    """Close pending orders past expires_at, at the provider first; one paid meanwhile is settled."""
    now = now or timezone.now()
    ids = list(
        Order.objects.filter(status=Order.Status.PENDING, expires_at__lte=now)
        .order_by("expires_at")
        .values_list("pk", flat=True)[:limit]
    )
    counts: Counter = Counter()
    for order, backend in _claimed_with_backend(
        ids, counts, check_due=False, status=Order.Status.PENDING
    ):
        try:
            backend.close(order.out_trade_no)
        except GatewayError as exc:
            # Still payable there, so still pending here: the next pass tries again.
            log.warning("expire %s: close failed: %s", order, exc)
            counts["failed"] += 1
            continue
        except UnableToTakePayment as exc:
            # Typically ORDERPAID / ACQ.TRADE_STATUS_ERROR: paid just now, so settle instead.
            log.info("expire %s: provider refused the close (%s); querying", order, exc)
            try:
                result = settle_from_query(backend, order.out_trade_no)
            except PaymentError as settle_exc:
                log.error("expire %s: close refused and settle failed: %s", order, settle_exc)
                counts["failed"] += 1
                continue
            counts["settled" if result is not None and result.settled_now else "failed"] += 1
            continue
        do_close_order(order, reason="expired")
        counts["closed"] += 1
    return counts


def send_refund(order: Order, backend: Any = None) -> Order:
    """Send a requested refund (do_refund) to the provider and record its answer.

    Raises PaymentError when the provider cannot be reached or refuses; the refund stays
    processing and retry_refunds sends it again (the same out_refund_no refunds once).
    """
    backend = backend or backend_for_provider(order.provider)
    if backend is None:
        raise ValueError(f"no payment backend takes provider {order.provider!r}")
    answer = backend.refund(order, out_refund_no=order.out_refund_no, reason=order.refund_reason)
    return do_complete_refund(
        order.out_refund_no, answer["status"], provider=order.provider, payload=answer.get("raw")
    )


def retry_refunds(*, limit: int = BATCH) -> Counter:
    """Send (again) every refund still processing; the fixed out_refund_no makes repeats harmless."""
    ids = list(
        Order.objects.filter(status=Order.Status.PAID, refund_status=Order.RefundStatus.PROCESSING)
        .order_by("refund_requested_at")
        .values_list("pk", flat=True)[:limit]
    )
    counts: Counter = Counter()
    claims = _claimed_with_backend(
        ids,
        counts,
        check_due=True,
        status=Order.Status.PAID,
        refund_status=Order.RefundStatus.PROCESSING,
    )
    for order, backend in claims:
        try:
            order = send_refund(order, backend)
        except (PaymentError, ValueError) as exc:
            log.warning("refund %s: %s: %s", order, type(exc).__name__, exc)
            counts["failed"] += 1
            continue
        counts["refunded" if order.status == Order.Status.REFUNDED else "processing"] += 1
    return counts


def yesterday_in_beijing(now: dt.datetime | None = None) -> dt.date:
    return (now or timezone.now()).astimezone(BEIJING).date() - dt.timedelta(days=1)


COMPARE_COUNTS = ("settled", "matched", "mismatched", "missing")


def compare_bill(bill_date: dt.date | None = None, *, alias: str | None = None) -> Counter:
    """Compare WeChat's trade bill of `bill_date` (default yesterday, Asia/Shanghai) with our orders.

    A bill payment whose order is still pending or closed here is settled (its notification
    and the reconcile pass both missed it); a paid order whose transaction or amount differ
    from the bill is a mismatch; an order paid here that day but absent from the bill is
    missing. Both are logged as errors for staff; nothing is changed for them.
    """
    bill_date = bill_date or yesterday_in_beijing()
    backend = get_backend(alias)
    if not isinstance(backend, WeChatPayBackend):
        raise ValueError(f"payment backend {backend.alias!r} has no WeChat trade bill")
    rows = backend.trade_bill(bill_date)
    provider = backend.order_provider
    counts: Counter = Counter(dict.fromkeys(COMPARE_COUNTS, 0))
    on_bill: set[str] = set()
    for row in rows:
        if row["state"] != "SUCCESS":
            continue
        on_bill.add(row["out_trade_no"])
        order = Order.objects.filter(out_trade_no=row["out_trade_no"], provider=provider).first()
        if order is None:
            log.error(
                "bill %s: %s (txn %s, %s fen) has no order here",
                bill_date,
                row["out_trade_no"],
                row["txn_id"],
                row["amount_fen"],
            )
            counts["unknown"] += 1
            continue
        if order.status in (Order.Status.PENDING, Order.Status.CLOSED):
            try:
                result = settle_transaction(
                    backend, bill_report(row), source=PaymentEvent.Kind.RECONCILE
                )
            except PaymentError as exc:
                log.error("bill %s: %s does not settle: %s", bill_date, order, exc)
                counts["mismatched"] += 1
                continue
            if result.settled_now:
                log.warning(
                    "bill %s settled %s%s: its notification never arrived",
                    bill_date,
                    order,
                    " after close" if result.late else "",
                )
                counts["settled"] += 1
            else:
                counts["matched"] += 1
        elif order.provider_txn_id == row["txn_id"] and order.amount_fen == row["amount_fen"]:
            counts["matched"] += 1
        else:
            log.error(
                "bill %s: %s is %s by txn %s for %s fen; the bill says txn %s for %s fen",
                bill_date,
                order,
                order.status,
                order.provider_txn_id,
                order.amount_fen,
                row["txn_id"],
                row["amount_fen"],
            )
            counts["mismatched"] += 1
    start = dt.datetime.combine(bill_date, dt.time.min, tzinfo=BEIJING)
    paid_here = (
        Order.objects.filter(
            provider=provider,
            status__in=[Order.Status.PAID, Order.Status.REFUNDED],
            paid_at__gte=start,
            paid_at__lt=start + dt.timedelta(days=1),
        )
        .exclude(out_trade_no__in=on_bill)
        .order_by("paid_at")
    )
    for order in paid_here:
        log.error(
            "bill %s: %s is %s here (txn %s, %s fen) but not on WeChat's bill",
            bill_date,
            order,
            order.status,
            order.provider_txn_id,
            order.amount_fen,
        )
        counts["missing"] += 1
    return counts


# --- once a day --------------------------------------------------------------------------------

# A run that failed, or whose worker died, is claimed again after this long.
DAILY_RETRY_AFTER = dt.timedelta(minutes=30)


def claim_run(
    job: str, period: str, *, now: dt.datetime, retry_after: dt.timedelta = DAILY_RETRY_AFTER
) -> JobRun | None:
    """Claim `job` for `period` (e.g. a day) for this worker; None when another has it or it is done.

    The first claim inserts the unique row; later ones take an unfinished row whose claim is
    older than retry_after, with a conditional UPDATE that only one worker can win.
    """
    run, created = JobRun.objects.get_or_create(
        job=job, period=period, defaults={"claimed_at": now}
    )
    if created:
        return run
    taken = JobRun.objects.filter(
        pk=run.pk, finished_at__isnull=True, claimed_at__lte=now - retry_after
    ).update(claimed_at=now, attempts=F("attempts") + 1)
    if not taken:
        return None
    run.refresh_from_db()
    return run


def daily_compare_bill(*, now: dt.datetime | None = None) -> Counter:
    """The worker's bill compare: yesterday's bill, once a day after FANWEN_BILL_COMPARE_HOUR (Beijing).

    WeChat has the day's bill ready after 10:00. Days missed while no worker ran (at most
    FANWEN_BILL_CATCH_UP_DAYS back, none before the first order) are compared first, oldest
    first. Before the hour, or when the days are done or claimed by another worker, this does
    nothing; a failed compare stops the pass and is tried again later.
    """
    now = now or timezone.now()
    local = now.astimezone(BEIJING)
    if local.hour < settings.FANWEN_BILL_COMPARE_HOUR:
        return Counter()
    alias = settings.PAYMENT_WECHAT_BACKEND
    backend = backends[alias] if alias in backends else None
    if not isinstance(backend, WeChatPayBackend):
        return Counter()
    try:
        configured = bool(backend.mchid)
    except ImproperlyConfigured:
        configured = False
    if not configured:
        # No WeChat Pay here (e.g. the sandbox alias with the sandbox off): no bill to compare.
        return Counter()
    total: Counter = Counter()
    for bill_date in _days_to_compare(local.date(), backend.order_provider):
        run = claim_run("compare_bill", bill_date.isoformat(), now=now)
        if run is None:
            continue
        try:
            counts = compare_bill(bill_date, alias=alias)
        except Exception as exc:
            # Left unfinished: the claim runs out and a later pass (of any worker) tries again.
            JobRun.objects.filter(pk=run.pk).update(
                outcome=f"attempt {run.attempts} failed: {type(exc).__name__}: {exc}"[:2000]
            )
            raise
        summary = ", ".join(f"{name} {value}" for name, value in sorted(counts.items()))
        JobRun.objects.filter(pk=run.pk).update(finished_at=timezone.now(), outcome=summary)
        log.info("compare_bill %s (attempt %d): %s", bill_date, run.attempts, summary)
        total.update(counts)
    return total


def _days_to_compare(today: dt.date, provider: str) -> list[dt.date]:
    """Yesterday, and the days before it whose compare never finished, oldest first."""
    yesterday = today - dt.timedelta(days=1)
    first_order = (
        Order.objects.filter(provider=provider)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    earliest = yesterday - dt.timedelta(days=max(0, settings.FANWEN_BILL_CATCH_UP_DAYS - 1))
    if first_order is None:
        earliest = yesterday
    else:
        earliest = min(yesterday, max(earliest, first_order.astimezone(BEIJING).date()))
    days = [earliest + dt.timedelta(days=n) for n in range((yesterday - earliest).days + 1)]
    done = set(
        JobRun.objects.filter(
            job="compare_bill",
            period__in=[day.isoformat() for day in days],
            finished_at__isnull=False,
        ).values_list("period", flat=True)
    )
    return [day for day in days if day.isoformat() not in done]
