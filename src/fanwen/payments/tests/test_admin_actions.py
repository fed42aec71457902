"""The order admin's 退款 and 授权: a reason first, then orders.actions, the refund through the provider."""

from __future__ import annotations

from django.urls import reverse

from fanwen.orders.actions import do_close_order
from fanwen.orders.models import Entitlement, Order, PaymentEvent
from fanwen.payments.settlement import settle_from_query
from fanwen.payments.tests.fixtures import LIVE_DB
from fanwen.payments.tests.test_jobs import opened, pay_at_wechat
from fanwen.sandbox.models import SandboxRefund

pytestmark = LIVE_DB
CHANGELIST = "admin:orders_order_changelist"


def act(client, action: str, order: Order, **extra: str):
    return client.post(
        reverse(CHANGELIST), {"action": action, "_selected_action": [order.pk], **extra}
    )


def test_a_refund_asks_for_a_reason_then_refunds_through_the_provider(
    admin_client, live_backend, xiaoming, article, sandbox_keys
):
    order = opened(live_backend, xiaoming, article, sandbox_keys)
    pay_at_wechat(order)
    settle_from_query(live_backend, order.out_trade_no)

    page = act(admin_client, "refund_orders", order)
    assert page.status_code == 200 and "原因" in page.content.decode()
    act(admin_client, "refund_orders", order, apply="1", reason="")
    order.refresh_from_db()
    assert order.status == Order.Status.PAID  # no reason, no refund

    act(admin_client, "refund_orders", order, apply="1", reason="买错了")

    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert order.refund_reason == "买错了"
    # The emulated WeChat Pay refunded it, once, under the order's refund number.
    assert SandboxRefund.objects.get(transaction__out_trade_no=order.out_trade_no).out_refund_no
    assert not Entitlement.objects.filter(order=order, revoked_at__isnull=True).exists()
    requested = PaymentEvent.objects.get(order=order, outcome="refund requested")
    assert requested.staff.username == "admin" and requested.payload["reason"] == "买错了"


def test_a_grant_gives_the_orders_plan_to_its_buyer_and_logs_why(
    admin_client, live_backend, xiaoming, article, sandbox_keys
):
    order = opened(live_backend, xiaoming, article, sandbox_keys)
    do_close_order(order, reason="expired")

    act(admin_client, "grant_orders", order, apply="1", reason="银行扣款凭证已核实")

    granted = Entitlement.objects.get(visitor=xiaoming, article=article)
    assert granted.order is None and granted.granted_by.username == "admin"
    assert "银行扣款凭证已核实" in granted.note and order.out_trade_no in granted.note
    assert PaymentEvent.objects.filter(
        kind=PaymentEvent.Kind.GRANT, staff__username="admin"
    ).exists()
