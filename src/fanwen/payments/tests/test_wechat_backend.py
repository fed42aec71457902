"""The WeChat Pay backend against the emulator over real HTTP: the SDK signs, the emulator verifies, and back."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.hashes import SHA256
from django.utils import timezone

from fanwen.orders.models import Order
from fanwen.payments.backends.base import PAID, ProviderReport
from fanwen.payments.errors import GatewayError, UnableToTakePayment
from fanwen.payments.tests.fixtures import LIVE_DB, sandbox_order
from fanwen.sandbox.actions import do_confirm_sandbox_payment
from fanwen.sandbox.backends import SandboxBackend
from fanwen.sandbox.keys import generate_keys, load_keys
from fanwen.sandbox.models import SandboxTransaction

pytestmark = LIVE_DB


@pytest.fixture
def order(xiaoming, article, sandbox_keys) -> Order:
    return sandbox_order(xiaoming, article, sandbox_keys)


def other_keys(tmp_path):
    generate_keys(tmp_path / "other")
    return load_keys(tmp_path / "other")


def live_sandbox_backend(live_server, **options) -> SandboxBackend:
    """A sandbox backend like the live one, with some options swapped."""
    defaults = {
        "gateway": live_server.url + "/sandbox/wechat",
        "notify_url": live_server.url + "/pay/notify/wechat/",
    }
    return SandboxBackend("other", {**defaults, **options})


def test_a_native_order_returns_a_code_url_that_opens_the_sandbox_payer_page(
    live_backend, order, live_server
):
    answer = live_backend.create(order, "native", "203.0.113.7")

    assert answer["code_url"].startswith(live_server.url + "/sandbox/pay/")
    txn = SandboxTransaction.objects.get(out_trade_no=order.out_trade_no)
    assert txn.amount_total == order.amount_fen
    assert txn.trade_type == "NATIVE"
    assert txn.notify_url == live_server.url + "/pay/notify/wechat/"
    assert order.article.title in txn.description
    assert txn.time_expire == order.expires_at.replace(microsecond=0)
    page = requests.get(answer["code_url"], timeout=10)
    assert page.status_code == 200
    assert "沙箱" in page.text
    assert "确认支付" in page.text and "取消" in page.text
    assert f"{order.amount_fen / 100:.2f}" in page.text
    assert txn.description in page.text


def test_asking_twice_for_the_same_order_gets_the_same_code_url(live_backend, order):
    assert live_backend.create(order, "native", "203.0.113.7") == live_backend.create(
        order, "native", "203.0.113.7"
    )


def test_an_h5_order_returns_an_h5_url_and_sends_the_payer_ip(live_backend, order, live_server):
    answer = live_backend.create(order, "h5", "198.51.100.23")

    assert answer["h5_url"].startswith(live_server.url + "/sandbox/pay/")
    assert "prepay_id=" in answer["h5_url"]
    txn = SandboxTransaction.objects.get(out_trade_no=order.out_trade_no)
    assert txn.payer_client_ip == "198.51.100.23"
    assert txn.request_body["scene_info"]["h5_info"]["type"] == "Wap"


def test_a_jsapi_order_returns_paysign_parameters_signed_by_the_merchant(
    live_backend, order, sandbox_keys
):
    answer = live_backend.create(
        order, "jsapi", "198.51.100.23", openid="oSBXjsapibuyer000000000001"
    )

    assert answer["package"] == f"prepay_id={answer['prepay_id']}"
    assert answer["appId"] == sandbox_keys.appid
    assert answer["signType"] == "RSA"
    message = (
        f"{answer['appId']}\n{answer['timeStamp']}\n{answer['nonceStr']}\n{answer['package']}\n"
    )
    # Raises InvalidSignature unless paySign is RSA-SHA256 of exactly these four lines.
    sandbox_keys.merchant_public_key.verify(
        base64.b64decode(answer["paySign"]), message.encode(), PKCS1v15(), SHA256()
    )
    assert (
        SandboxTransaction.objects.get(prepay_id=answer["prepay_id"]).payer_openid
        == "oSBXjsapibuyer000000000001"
    )


def test_a_jsapi_order_without_openid_is_refused_before_calling_wechat(live_backend, order):
    with pytest.raises(UnableToTakePayment):
        live_backend.create(order, "jsapi", "198.51.100.23")
    assert not SandboxTransaction.objects.exists()


def test_the_emulator_refuses_a_request_signed_with_another_merchant_key(
    live_server, order, sandbox_keys, tmp_path
):
    impostor = live_sandbox_backend(
        live_server, private_key=other_keys(tmp_path).merchant_private_pem
    )

    with pytest.raises(UnableToTakePayment) as refused:
        impostor.create(order, "native", "203.0.113.7")

    assert refused.value.provider_code == "SIGN_ERROR"
    assert refused.value.http_status == 401
    assert not SandboxTransaction.objects.exists()


def test_an_answer_that_does_not_verify_with_the_platform_key_is_a_gateway_error(
    live_server, order, sandbox_keys, tmp_path
):
    # Our merchant key, but the wrong WeChat Pay public key: the emulator's signature cannot verify.
    suspicious = live_sandbox_backend(
        live_server, public_key=other_keys(tmp_path).platform_public_pem
    )

    with pytest.raises(GatewayError):
        suspicious.create(order, "native", "203.0.113.7")


def test_the_same_order_number_with_another_amount_is_refused(live_backend, order):
    live_backend.create(order, "native", "203.0.113.7")
    Order.objects.filter(pk=order.pk).update(amount_fen=order.amount_fen + 100)
    order.refresh_from_db()

    with pytest.raises(UnableToTakePayment) as refused:
        live_backend.create(order, "native", "203.0.113.7")

    assert refused.value.provider_code == "OUT_TRADE_NO_USED"


def test_an_expired_order_is_not_sent_to_wechat(live_backend, order):
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    order.refresh_from_db()

    with pytest.raises(UnableToTakePayment):
        live_backend.create(order, "native", "203.0.113.7")
    assert not SandboxTransaction.objects.exists()


def test_query_says_notpay_before_payment_and_none_for_an_unknown_number(live_backend, order):
    live_backend.create(order, "native", "203.0.113.7")

    assert live_backend.query(order.out_trade_no).provider_state == "NOTPAY"
    assert live_backend.query("20990101NEVERSENT00000000000") is None


def test_query_returns_success_with_the_normalized_payment_after_the_buyer_pays(
    live_backend, order, sandbox_keys
):
    live_backend.create(order, "native", "203.0.113.7")
    txn = do_confirm_sandbox_payment(
        SandboxTransaction.objects.get(out_trade_no=order.out_trade_no)
    )

    result = live_backend.query(order.out_trade_no)

    assert isinstance(result, ProviderReport)
    assert (result.state, result.provider_state) == (PAID, "SUCCESS")
    assert result.txn_id == txn.transaction_id
    assert result.amount_fen == order.amount_fen
    assert result.currency == "CNY"
    assert (result.mchid, result.appid) == (sandbox_keys.mchid, sandbox_keys.appid)
    assert result.payer_ref == txn.payer_openid
    assert abs(result.paid_at - txn.success_time) < dt.timedelta(seconds=1)


def test_close_ends_the_payment_so_the_payer_page_can_no_longer_pay(live_backend, order, client):
    answer = live_backend.create(order, "native", "203.0.113.7")

    live_backend.close(order.out_trade_no)

    assert live_backend.query(order.out_trade_no).provider_state == "CLOSED"
    page = requests.get(answer["code_url"], timeout=10)
    assert "订单已关闭" in page.text and ">确认支付</button>" not in page.text
    token = SandboxTransaction.objects.get(out_trade_no=order.out_trade_no).token
    assert client.post(f"/sandbox/pay/{token}/confirm/").status_code == 409
    assert SandboxTransaction.objects.get(out_trade_no=order.out_trade_no).transaction_id is None


def test_closing_an_order_wechat_never_saw_is_harmless(live_backend, order):
    live_backend.close(order.out_trade_no)

    assert live_backend.query(order.out_trade_no) is None


def test_closing_a_paid_order_is_refused(live_backend, order):
    live_backend.create(order, "native", "203.0.113.7")
    do_confirm_sandbox_payment(SandboxTransaction.objects.get(out_trade_no=order.out_trade_no))

    with pytest.raises(UnableToTakePayment) as refused:
        live_backend.close(order.out_trade_no)

    assert refused.value.provider_code == "ORDERPAID"


def test_refund_of_a_paid_order_succeeds_once_under_its_out_refund_no(live_backend, order):
    live_backend.create(order, "native", "203.0.113.7")
    do_confirm_sandbox_payment(SandboxTransaction.objects.get(out_trade_no=order.out_trade_no))

    first = live_backend.refund(order, reason="买错了")
    again = live_backend.refund(order, reason="买错了")

    assert first["status"] == "SUCCESS"
    assert first["out_refund_no"] == "R" + order.out_trade_no
    assert first["amount_fen"] == order.amount_fen
    assert again["refund_id"] == first["refund_id"]
    assert live_backend.query(order.out_trade_no).provider_state == "REFUND"
    assert live_backend.query_refund(first["out_refund_no"])["status"] == "SUCCESS"


def test_refund_of_an_unpaid_order_is_refused(live_backend, order):
    live_backend.create(order, "native", "203.0.113.7")

    with pytest.raises(UnableToTakePayment):
        live_backend.refund(order)


def test_an_unreachable_gateway_is_a_gateway_error(sandbox_keys, order):
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    backend = SandboxBackend(
        "down", {"gateway": "http://127.0.0.1:9/sandbox/wechat", "timeout": (1, 1)}
    )

    with pytest.raises(GatewayError):
        backend.query(order.out_trade_no)
