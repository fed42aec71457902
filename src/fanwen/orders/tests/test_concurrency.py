"""Real row locks need a real server: SQLite serialises whole-database writes instead."""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from fanwen.orders.actions import do_settle_order
from fanwen.orders.models import Entitlement, Order, PaymentEvent, Plan
from fanwen.orders.signals import order_paid
from fanwen.orders.tests.fixtures import APPID, MCHID, make_order

THREADS = 50


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL row locks (select_for_update); run with DATABASE_URL=postgres://...",
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_fifty_simultaneous_settles_of_one_order_pay_it_once_and_grant_once(
    xiaoming, article, plans
):
    order = make_order(xiaoming, Plan.Code.ARTICLE_COPY, article)
    paid_at = timezone.now()
    start = threading.Barrier(THREADS)
    outcomes: list[str] = []
    errors: list[BaseException] = []
    paid_signals: list[str] = []
    lock = threading.Lock()

    def heard(sender, order, **kwargs):
        with lock:
            paid_signals.append(order.out_trade_no)

    def worker(n: int) -> None:
        try:
            start.wait()
            # Notification, query and reconcile racing, half of them carrying the same event id.
            result = do_settle_order(
                order.out_trade_no,
                provider=order.provider,
                txn_id="4200000001",
                amount_fen=order.amount_fen,
                currency="CNY",
                mchid=MCHID,
                appid=APPID,
                paid_at=paid_at,
                event_id="EV-race" if n % 2 else None,
                source=("notify", "query", "reconcile")[n % 3],
            )
            with lock:
                outcomes.append(result.outcome)
        except BaseException as exc:  # noqa: BLE001  (reported by the main thread)
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    order_paid.connect(heard)
    try:
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        order_paid.disconnect(heard)

    assert errors == []
    assert len(outcomes) == THREADS
    assert outcomes.count("settled") == 1
    assert set(outcomes) <= {"settled", "already_settled", "duplicate_event"}
    assert Order.objects.get(pk=order.pk).status == "paid"
    assert Entitlement.objects.filter(order=order).count() == 1
    assert PaymentEvent.objects.filter(order=order, outcome="settled").count() == 1
    assert PaymentEvent.objects.filter(order=order).count() == THREADS
    assert paid_signals == [order.out_trade_no]
