"""The worker's jobs against the sandbox emulator over HTTP: reconcile, expire, refund, and the loop."""

from __future__ import annotations

import datetime as dt
import io
import threading

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from fanwen.ops.management.commands.worker import Command as WorkerCommand
from fanwen.orders.actions import do_close_order, do_refund
from fanwen.orders.models import Entitlement, Order, PaymentEvent
from fanwen.payments.settlement import settle_from_query, settle_report
from fanwen.payments.tests.fixtures import LIVE_DB, sandbox_order
from fanwen.sandbox.actions import do_confirm_sandbox_payment
from fanwen.sandbox.models import SandboxTransaction

pytestmark = LIVE_DB


@pytest.fixture(autouse=True)
def _fresh_cache():
    # The "asked a moment ago" marks live in the cache, which outlives a test.
    cache.clear()


def opened(backend, visitor, article, keys, *, minutes_ago: int = 10) -> Order:
    """An order opened at WeChat (the QR code was shown) `minutes_ago` minutes ago."""
    order = sandbox_order(visitor, article, keys)
    backend.create(order, "native", "203.0.113.7")
    Order.objects.filter(pk=order.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=minutes_ago)
    )
    return order


def pay_at_wechat(order: Order) -> None:
    # The buyer pays; the notification never arrives (sandbox notifications are off in tests).
    do_confirm_sandbox_payment(SandboxTransaction.objects.get(out_trade_no=order.out_trade_no))


def run(command: str, *args: str) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def test_reconcile_settles_a_payment_whose_notification_never_arrived(
    live_backend, xiaoming, article, sandbox_keys
):
    order = opened(live_backend, xiaoming, article, sandbox_keys)
    pay_at_wechat(order)

    output = run("reconcile_payments")

    assert "settled 1" in output
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert Entitlement.objects.filter(order=order).count() == 1
    assert PaymentEvent.objects.get(order=order, outcome="settled").kind == "query"


def test_reconcile_holds_no_lock_while_the_provider_answers(
    live_backend, xiaoming, article, sandbox_keys, monkeypatch
):
    """While the provider is asked, a notification settling the same order goes straight through."""
    order = opened(live_backend, xiaoming, article, sandbox_keys)
    pay_at_wechat(order)
    backend_class = type(live_backend)
    real_query = backend_class.query
    seen: dict[str, object] = {}

    def notification_meanwhile() -> None:
        try:
            report = real_query(live_backend, order.out_trade_no)
            seen["other"] = settle_report(live_backend, report, order.out_trade_no).outcome
        finally:
            connection.close()

    def slow_query(self, out_trade_no):
        seen["in_transaction"] = connection.in_atomic_block
        # Another process settles the order now: a row (or SQLite) lock held here would stall it.
        other = threading.Thread(target=notification_meanwhile)
        other.start()
        other.join(timeout=10)
        seen["other_finished"] = not other.is_alive()
        return real_query(self, out_trade_no)

    monkeypatch.setattr(backend_class, "query", slow_query)
    output = run("reconcile_payments")

    assert seen == {"in_transaction": False, "other": "settled", "other_finished": True}
    # The reconcile settles after it, finds the order paid and changes nothing.
    assert "already_settled 1" in output
    assert Entitlement.objects.filter(order=order).count() == 1


def test_reconcile_leaves_young_and_unpaid_orders_alone(
    live_backend, xiaoming, article, sandbox_keys
):
    unpaid = opened(live_backend, xiaoming, article, sandbox_keys)
    young = opened(live_backend, xiaoming, article, sandbox_keys, minutes_ago=0)
    pay_at_wechat(young)  # paid seconds ago: its notification is still on its way

    output = run("reconcile_payments")

    assert "unpaid 1" in output and "settled" not in output
    unpaid.refresh_from_db()
    young.refresh_from_db()
    assert (unpaid.status, young.status) == (Order.Status.PENDING, Order.Status.PENDING)


def test_a_paid_order_behind_many_abandoned_ones_is_settled_in_the_next_pass(
    live_backend, xiaoming, article, sandbox_keys
):
    from fanwen.payments.jobs import reconcile_payments

    # A page of abandoned orders (never paid) older than the one whose buyer paid.
    for _ in range(4):
        opened(live_backend, xiaoming, article, sandbox_keys, minutes_ago=30)
    paid = opened(live_backend, xiaoming, article, sandbox_keys, minutes_ago=5)
    pay_at_wechat(paid)

    first = reconcile_payments(limit=3)
    second = reconcile_payments(limit=3)

    paid.refresh_from_db()
    assert paid.status == Order.Status.PAID
    assert first["settled"] == 1 and first["unpaid"] == 2
    # The abandoned ones asked a moment ago are passed over; the rest are asked in turn.
    assert second["not due"] == 2 and second["unpaid"] == 2


def test_an_order_is_not_asked_about_again_right_away(
    live_backend, xiaoming, article, sandbox_keys
):
    opened(live_backend, xiaoming, article, sandbox_keys)

    first, second = run("reconcile_payments"), run("reconcile_payments")

    assert "unpaid 1" in first
    assert "not due 1" in second


def test_expire_closes_an_expired_order_at_wechat_and_here(
    live_backend, xiaoming, article, sandbox_keys
):
    order = opened(live_backend, xiaoming, article, sandbox_keys, minutes_ago=40)
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    still_valid = opened(live_backend, xiaoming, article, sandbox_keys)

    output = run("expire_orders")

    assert "closed 1" in output
    order.refresh_from_db()
    assert order.status == Order.Status.CLOSED and order.closed_at is not None
    txn = SandboxTransaction.objects.get(out_trade_no=order.out_trade_no)
    assert txn.trade_state == SandboxTransaction.State.CLOSED
    still_valid.refresh_from_db()
    assert still_valid.status == Order.Status.PENDING


def test_expire_settles_an_order_that_was_paid_just_before_its_close(
    live_backend, xiaoming, article, sandbox_keys
):
    order = opened(live_backend, xiaoming, article, sandbox_keys, minutes_ago=40)
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    pay_at_wechat(order)

    output = run("expire_orders")

    assert "settled 1" in output
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert Entitlement.objects.filter(order=order).count() == 1


def test_a_late_payment_after_close_is_honoured_by_reconcile(
    live_backend, xiaoming, article, sandbox_keys
):
    order = opened(live_backend, xiaoming, article, sandbox_keys, minutes_ago=40)
    pay_at_wechat(order)
    # Our close raced the payment: closed here, paid there.
    do_close_order(order, reason="expired")

    output = run("reconcile_payments")

    assert "settled 1" in output
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert Entitlement.objects.get(order=order).is_active()
    assert PaymentEvent.objects.filter(order=order, outcome__contains="late payment").exists()


def test_the_worker_sends_a_requested_refund_and_revokes_access(
    live_backend, xiaoming, article, sandbox_keys, kefu
):
    order = opened(live_backend, xiaoming, article, sandbox_keys)
    pay_at_wechat(order)
    settle_from_query(live_backend, order.out_trade_no)
    do_refund(Order.objects.get(pk=order.pk), reason="顾客买错了", staff=kefu)

    output = run("worker", "--once")

    assert "retry_refunds: refunded 1" in output
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert not Entitlement.objects.get(order=order).is_active()
    txn = SandboxTransaction.objects.get(out_trade_no=order.out_trade_no)
    assert txn.trade_state == SandboxTransaction.State.REFUND


def test_one_worker_pass_reconciles_then_expires(live_backend, xiaoming, article, sandbox_keys):
    paid = opened(live_backend, xiaoming, article, sandbox_keys)
    pay_at_wechat(paid)
    expired = opened(live_backend, xiaoming, article, sandbox_keys, minutes_ago=40)
    Order.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))

    output = run("worker", "--once")

    assert "reconcile_payments:" in output and "expire_orders: closed 1" in output
    paid.refresh_from_db()
    expired.refresh_from_db()
    assert (paid.status, expired.status) == (Order.Status.PAID, Order.Status.CLOSED)


def test_the_worker_loop_stops_promptly_on_sigterm(monkeypatch):
    passes: list[int] = []
    worker = WorkerCommand()
    worker.stop = threading.Event()
    monkeypatch.setattr(worker, "run_pass", lambda: passes.append(1))
    thread = threading.Thread(target=worker.run, kwargs={"once": False, "interval": 60})

    thread.start()
    worker.request_stop(15)  # what the SIGTERM handler calls
    thread.join(timeout=5)

    assert not thread.is_alive()
    assert len(passes) <= 1
