"""The whole sandbox payment as a buyer lives it: QR code, payer page, notification, access — over HTTP."""

from __future__ import annotations

import re

import pytest
import requests

from fanwen.orders.actions import do_complete_refund, do_refund
from fanwen.orders.models import Entitlement, Order
from fanwen.payments.settlement import settle_from_query
from fanwen.payments.tests.fixtures import LIVE_DB, sandbox_order
from fanwen.sandbox.models import SandboxNotification, SandboxTransaction
from fanwen.sandbox.notify import (
    deliver_notification,
    send_with_retries,
    wait_for_deliveries,
)

pytestmark = LIVE_DB


@pytest.fixture
def auto_notify(settings, live_backend):
    # As in the demo: confirming sends the notification from a background thread.
    settings.FANWEN_SANDBOX_AUTO_NOTIFY = True
    yield
    assert wait_for_deliveries(timeout=30), "a sandbox notification thread was still running"


def press(session: requests.Session, page_url: str, button: str) -> requests.Response:
    """Press 确认支付 or 取消 on the payer page as a browser would (CSRF token and all)."""
    page = session.get(page_url, timeout=10)
    forms = re.findall(
        r'<form method="post" action="([^"]+)">.*?name="csrfmiddlewaretoken" value="([^"]+)"'
        r".*?<button[^>]*>([^<]+)</button>",
        page.text,
        flags=re.S,
    )
    action, token = next((action, token) for action, token, label in forms if label == button)
    origin = re.match(r"https?://[^/]+", page_url)[0]
    return session.post(
        origin + action,
        data={"csrfmiddlewaretoken": token},
        headers={"Referer": page_url},
        timeout=10,
    )


def test_a_buyer_pays_on_the_sandbox_page_and_gets_the_article(
    live_backend, auto_notify, xiaoming, article, sandbox_keys, kefu
):
    order = sandbox_order(xiaoming, article, sandbox_keys)
    code_url = live_backend.create(order, "native", "203.0.113.7")["code_url"]
    session = requests.Session()

    page = session.get(code_url, timeout=10)
    assert "沙箱" in page.text and f"{order.amount_fen / 100:.2f}" in page.text
    paid_page = press(session, code_url, "确认支付")

    assert paid_page.status_code == 200
    assert "支付成功（沙箱）" in paid_page.text
    assert wait_for_deliveries(timeout=30)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    txn = SandboxTransaction.objects.get(out_trade_no=order.out_trade_no)
    assert order.provider_txn_id == txn.transaction_id
    assert order.payer_ref == txn.payer_openid
    entitlement = Entitlement.objects.get(order=order)
    assert entitlement.is_active() and entitlement.article == article
    notification = SandboxNotification.objects.get(transaction=txn)
    assert notification.last_status == 204 and notification.delivered_at is not None

    # WeChat delivers the same event again: acknowledged, nothing granted twice.
    assert deliver_notification(notification) == 204
    assert Entitlement.objects.filter(order=order).count() == 1

    # 已付款请点这里 asks WeChat; the order is already paid, so it is a no-op.
    assert live_backend.query(order.out_trade_no).provider_state == "SUCCESS"
    assert settle_from_query(live_backend, order.out_trade_no).outcome == "already_settled"

    # Support refunds it: WeChat says SUCCESS, access is revoked.
    order = do_refund(order, reason="顾客买错了", staff=kefu)
    refund = live_backend.refund(order, reason="顾客买错了")
    assert refund["status"] == "SUCCESS"
    # The emulator also sends REFUND.SUCCESS; let it land first, so the two writers do not
    # meet on SQLite's shared in-memory test database, which has no row locks to queue them.
    assert wait_for_deliveries(timeout=30)
    order = do_complete_refund(
        refund["out_refund_no"], refund["status"], provider=live_backend.order_provider
    )
    assert order.status == Order.Status.REFUNDED
    assert not Entitlement.objects.get(order=order).is_active()


def test_cancel_leaves_the_order_unpaid_and_payable(live_backend, xiaoming, article, sandbox_keys):
    order = sandbox_order(xiaoming, article, sandbox_keys)
    code_url = live_backend.create(order, "native", "203.0.113.7")["code_url"]

    page = press(requests.Session(), code_url, "取消")

    assert "已取消支付" in page.text and "沙箱" in page.text
    assert live_backend.query(order.out_trade_no).provider_state == "NOTPAY"
    assert not SandboxNotification.objects.exists()
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_the_query_settles_a_payment_whose_notification_never_arrived(
    live_backend, xiaoming, article, sandbox_keys
):
    order = sandbox_order(xiaoming, article, sandbox_keys)
    code_url = live_backend.create(order, "native", "203.0.113.7")["code_url"]
    press(requests.Session(), code_url, "确认支付")  # notifications are off in this test

    result = settle_from_query(live_backend, order.out_trade_no)

    assert result.settled_now
    assert Entitlement.objects.filter(order=order).count() == 1


def test_the_sandbox_retries_a_notification_until_the_merchant_accepts_it(
    live_backend, xiaoming, article, sandbox_keys, settings, live_server
):
    order = sandbox_order(xiaoming, article, sandbox_keys)
    code_url = live_backend.create(order, "native", "203.0.113.7")["code_url"]
    press(requests.Session(), code_url, "确认支付")
    notification = SandboxNotification.objects.get()
    # The merchant is down for the first attempt (nothing listens on port 9), then back.
    SandboxNotification.objects.filter(pk=notification.pk).update(
        notify_url="http://127.0.0.1:9/pay/notify/wechat/"
    )
    assert send_with_retries(notification.pk, delays=(0,)) is None
    SandboxNotification.objects.filter(pk=notification.pk).update(
        notify_url=live_server.url + "/pay/notify/wechat/"
    )

    assert send_with_retries(notification.pk, delays=(0, 0.1)) == 204

    notification.refresh_from_db()
    assert notification.attempts == 2
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
