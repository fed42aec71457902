"""The Alipay sandbox over HTTP: python-alipay-sdk against the emulated gateway, the cashier page, signed notifications."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from fanwen.orders.actions import do_refund
from fanwen.orders.models import Entitlement, Order
from fanwen.payments.backends import backends
from fanwen.payments.jobs import reconcile_payments, retry_refunds
from fanwen.payments.tests.alipay_fakes import alipay_order
from fanwen.payments.tests.fixtures import LIVE_DB
from fanwen.payments.tests.test_order_api import browser, create, post
from fanwen.sandbox.alipay_keys import load_alipay_keys
from fanwen.sandbox.models import SandboxAlipayTrade, SandboxNotification
from fanwen.sandbox.notify import deliver_notification
from fanwen.sandbox.tests.test_sandbox_flow import press

pytestmark = LIVE_DB
NOTIFY_PATH = "/pay/notify/alipay/"


def sandbox_alipay_order(visitor, article) -> Order:
    keys = load_alipay_keys()
    return alipay_order(
        visitor,
        article,
        provider=Order.Provider.ALIPAY_SANDBOX,
        mchid=keys.seller_id,
        appid=keys.appid,
    )


@contextmanager
def http_server_answering(body: bytes) -> Iterator[str]:
    """A local HTTP server that answers every POST with 200 and `body`; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/notify"
    finally:
        server.shutdown()
        server.server_close()


def the_notification(order: Order) -> SandboxNotification:
    return SandboxNotification.objects.get(alipay_trade__out_trade_no=order.out_trade_no)


def test_a_qr_payment_settles_the_order_through_the_real_sdk(alipay_sandbox, article, copy_plan):
    client = browser()
    body = create(client, plan="article_copy", article_id=article.pk, channel="alipay_qr")
    order = Order.objects.get(out_trade_no=body["out_trade_no"])
    assert order.provider == Order.Provider.ALIPAY_SANDBOX
    assert order.mchid == load_alipay_keys().seller_id
    code_url = body["code_url"]
    assert code_url.startswith(alipay_sandbox.options["gateway"].split("/sandbox/")[0])
    # Like Alipay, a precreated trade is unknown until the buyer scans it.
    assert alipay_sandbox.query(order.out_trade_no) is None

    session = requests.Session()
    page = session.get(code_url, timeout=10)
    assert "沙箱" in page.text and "支付宝" in page.text and "5.99" in page.text
    assert alipay_sandbox.query(order.out_trade_no).provider_state == "WAIT_BUYER_PAY"
    paid_page = press(session, code_url, "确认付款")
    assert "付款成功（沙箱）" in paid_page.text

    # The emulator's trade_status_sync form, RSA2-signed, to our notify view: `success`.
    notification = the_notification(order)
    assert notification.notify_url.endswith(NOTIFY_PATH)
    assert deliver_notification(notification) == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    trade = SandboxAlipayTrade.objects.get(out_trade_no=order.out_trade_no)
    assert order.provider_txn_id == trade.trade_no and order.payer_ref == trade.buyer_id
    assert Entitlement.objects.get(order=order).article == article

    # Alipay sends it again: acknowledged, nothing granted twice.
    assert deliver_notification(notification) == 200
    assert Entitlement.objects.filter(order=order).count() == 1
    status = client.get(f"/pay/orders/{order.out_trade_no}/").json()
    assert status["status"] == "paid"


def test_a_wap_payment_goes_to_the_cashier_and_back_to_the_article(
    alipay_sandbox, article, copy_plan
):
    client = browser()
    body = create(
        client,
        plan="article_copy",
        article_id=article.pk,
        channel="alipay_wap",
        next=f"/a/{article.pk}.html",
    )
    redirect_url = body["redirect_url"]
    assert redirect_url.startswith(alipay_sandbox.options["gateway"] + "?")
    session = requests.Session()
    cashier = session.get(redirect_url, timeout=10)
    assert cashier.status_code == 200 and "手机网站支付（沙箱）" in cashier.text

    done = press(session, cashier.url, "确认付款")
    back = done.text.split('class="back" href="')[1].split('"')[0].replace("&amp;", "&")
    parts = urlsplit(back)
    assert parts.path == f"/a/{article.pk}.html"
    # The sync return is signed by Alipay (it proves nothing about money; notify does).
    fields = dict(parse_qsl(parts.query))
    sign = fields.pop("sign")
    assert fields["out_trade_no"] == body["out_trade_no"]
    assert alipay_sandbox.client.verify(fields, sign)

    order = Order.objects.get(out_trade_no=body["out_trade_no"])
    assert deliver_notification(the_notification(order)) == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_a_tampered_wap_request_is_refused_and_opens_no_trade(alipay_sandbox, article, copy_plan):
    client = browser()
    body = create(client, plan="article_copy", article_id=article.pk, channel="alipay_wap")
    tampered = body["redirect_url"].replace("5.99", "0.01")
    assert tampered != body["redirect_url"]
    answer = requests.get(tampered, timeout=10)
    assert answer.status_code == 400 and "isv.invalid-signature" in answer.text
    assert not SandboxAlipayTrade.objects.exists()


def test_the_gateway_answers_signed_refusals_the_sdk_verifies(
    alipay_sandbox, xiaoming, article, copy_plan
):
    order = sandbox_alipay_order(xiaoming, article)
    alipay_sandbox.create(order, "alipay_qr", "203.0.113.7")
    # The same out_trade_no for another amount: Alipay sees a tampered request.
    Order.objects.filter(pk=order.pk).update(amount_fen=1)
    order.refresh_from_db()
    data = alipay_sandbox.client.api_alipay_trade_precreate(
        subject="x", out_trade_no=order.out_trade_no, total_amount="0.01"
    )
    assert data["sub_code"] == "ACQ.CONTEXT_INCONSISTENT"
    # A request signed with another application key is refused, and the refusal is signed.
    raw = requests.get(
        alipay_sandbox.gateway
        + "?app_id="
        + load_alipay_keys().appid
        + "&method=alipay.trade.query&sign_type=RSA2&biz_content=%7B%7D&sign=AAAA",
        timeout=10,
    ).text
    assert '"sub_code":"isv.invalid-signature"' in raw
    assert alipay_sandbox.client._verify(
        raw.split('_response":')[1].rsplit(',"sign"', 1)[0], raw.rsplit('"sign":"', 1)[1][:-2]
    )


def test_closing_and_refunding_in_the_sandbox(alipay_sandbox, xiaoming, article, copy_plan, kefu):
    unscanned = sandbox_alipay_order(xiaoming, article)
    code_url = alipay_sandbox.create(unscanned, "alipay_qr", "203.0.113.7")["code_url"]
    alipay_sandbox.close(unscanned.out_trade_no)  # unknown to Alipay: harmless
    assert "交易已关闭（沙箱）" in requests.get(code_url, timeout=10).text

    order = sandbox_alipay_order(xiaoming, article)
    code_url = alipay_sandbox.create(order, "alipay_qr", "203.0.113.7")["code_url"]
    press(requests.Session(), code_url, "确认付款")
    assert deliver_notification(the_notification(order)) == 200
    order.refresh_from_db()
    do_refund(order, staff=kefu, reason="重复购买")
    # The worker sends the refund; Alipay answers at once.
    assert retry_refunds()["refunded"] == 1
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert not Entitlement.objects.get(order=order).is_active()
    trade = SandboxAlipayTrade.objects.get(out_trade_no=order.out_trade_no)
    assert trade.trade_status == "TRADE_CLOSED" and trade.refund_fen == order.amount_fen
    # Asking again with the same out_request_no moves no money.
    again = alipay_sandbox.refund(order)
    assert again["raw"]["fund_change"] == "N" and again["amount_fen"] == order.amount_fen
    trade.refresh_from_db()
    assert trade.refund_fen == order.amount_fen


def test_a_lost_notification_is_made_good_by_the_worker(
    alipay_sandbox, xiaoming, article, copy_plan, settings
):
    order = sandbox_alipay_order(xiaoming, article)
    code_url = alipay_sandbox.create(order, "alipay_qr", "203.0.113.7")["code_url"]
    press(requests.Session(), code_url, "确认付款")
    # A notify URL that answers 200 but not `success`: Alipay counts it as not delivered.
    notification = the_notification(order)
    with http_server_answering(b"OK") as url:
        SandboxNotification.objects.filter(pk=notification.pk).update(notify_url=url)
        notification.refresh_from_db()
        assert deliver_notification(notification) == 0
    notification.refresh_from_db()
    assert notification.delivered_at is None and notification.attempts == 1

    counts = reconcile_payments(now=timezone.now() + dt.timedelta(minutes=10))
    assert counts["settled"] == 1
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_the_buyer_api_checks_an_alipay_sandbox_order_with_the_provider(
    alipay_sandbox, article, copy_plan
):
    client = browser()
    body = create(client, plan="article_copy", article_id=article.pk, channel="alipay_qr")
    press(requests.Session(), body["code_url"], "确认付款")
    # 已付款请点这里 before any notification: the query settles it.
    checked = post(client, f"/pay/orders/{body['out_trade_no']}/check/").json()
    assert checked["status"] == "paid"


def test_the_alipay_sandbox_is_off_with_the_sandbox(alipay_sandbox, settings, client):
    settings.FANWEN_SANDBOX = False
    backends.reset()
    with pytest.raises(ImproperlyConfigured):
        backends["alipay_sandbox"]
    assert client.get("/sandbox/alipay/gateway.do?method=alipay.trade.query").status_code == 404
