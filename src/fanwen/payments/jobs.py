"""The worker's jobs: reconcile pending orders, close expired ones, send refunds still processing.

Each order is claimed with select_for_update(skip_locked=True) in its own short transaction,
so any number of workers can run: a row one worker holds is skipped by the others. SQLite has
no row locks; there a single worker is assumed and no transaction is held over the HTTP call
(an IMMEDIATE transaction would lock the whole database for its length).
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
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from fanwen.orders.actions import do_close_order, do_complete_refund
from fanwen.orders.models import Order
from fanwen.payments.backends import backend_for_provider
from fanwen.payments.errors import GatewayError, PaymentError, UnableToTakePayment
from fanwen.payments.settlement import settle_from_query

log = logging.getLogger("fanwen.payments.jobs")

BATCH = 200


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
    ids = list(
        Order.objects.filter(pending | recently_closed)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    counts: Counter = Counter()
    for order_id in ids:
        with claimed(order_id, status__in=[Order.Status.PENDING, Order.Status.CLOSED]) as order:
            if order is None:
                counts["skipped"] += 1
                continue
            if not _due(order):
                counts["not due"] += 1
                continue
            backend = backend_for_provider(order.provider)
            if backend is None:
                log.error("order %s: no backend takes provider %r", order, order.provider)
                counts["no backend"] += 1
                continue
            try:
                result = settle_from_query(backend, order.out_trade_no)
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
    for order_id in ids:
        with claimed(order_id, status=Order.Status.PENDING) as order:
            if order is None:
                counts["skipped"] += 1
                continue
            backend = backend_for_provider(order.provider)
            if backend is None:
                log.error("order %s: no backend takes provider %r", order, order.provider)
                counts["no backend"] += 1
                continue
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


def retry_refunds(*, limit: int = BATCH) -> Counter:
    """Send (again) every refund still processing; the fixed out_refund_no makes repeats harmless."""
    ids = list(
        Order.objects.filter(status=Order.Status.PAID, refund_status=Order.RefundStatus.PROCESSING)
        .order_by("refund_requested_at")
        .values_list("pk", flat=True)[:limit]
    )
    counts: Counter = Counter()
    for order_id in ids:
        with claimed(
            order_id, status=Order.Status.PAID, refund_status=Order.RefundStatus.PROCESSING
        ) as order:
            if order is None:
                counts["skipped"] += 1
                continue
            if not _due(order):
                counts["not due"] += 1
                continue
            backend = backend_for_provider(order.provider)
            if backend is None:
                log.error("order %s: no backend takes provider %r", order, order.provider)
                counts["no backend"] += 1
                continue
            try:
                answer = backend.refund(
                    order, out_refund_no=order.out_refund_no, reason=order.refund_reason
                )
                order = do_complete_refund(
                    order.out_refund_no,
                    answer["status"],
                    provider=order.provider,
                    payload=answer.get("raw"),
                )
            except (PaymentError, ValueError) as exc:
                log.warning("refund %s: %s: %s", order, type(exc).__name__, exc)
                counts["failed"] += 1
                continue
            counts["refunded" if order.status == Order.Status.REFUNDED else "processing"] += 1
    return counts


JOBS = {
    "expire_orders": expire_orders,
    "reconcile_payments": reconcile_payments,
    "retry_refunds": retry_refunds,
}
