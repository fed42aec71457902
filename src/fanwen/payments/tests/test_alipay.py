"""Alipay: notifications signed as Alipay signs them, and the API calls against a fake gateway."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from fanwen.orders.actions import do_close_order, do_refund
from fanwen.orders.models import Entitlement, Order, PaymentEvent
from fanwen.payments.backends.alipay import yuan_to_fen
from fanwen.payments.jobs import retry_refunds
from fanwen.payments.settlement import settle_from_query
from fanwen.payments.tests.alipay_fakes import (
    GATEWAY,
    NOTIFY_PATH,
    alipay_order,
    canonical,
    notification,
)
from fanwen.payments.tests.fixtures import rejections

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()


def notify(client, data: dict[str, str]):
    return client.post(NOTIFY_PATH, data=data)


def test_a_genuine_notification_settles_the_order_and_answers_success(
    client, alipay_backend, alipay_keys, xiaoming, article
):
    order = alipay_order(xiaoming, article)

    response = notify(client, notification(alipay_keys, order))

    assert response.status_code == 200
    assert response.content == b"success"
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.provider_txn_id.startswith("2026112922001400")
    assert order.payer_ref == "2088102122524333"
    assert Entitlement.objects.get(order=order).article == article


def test_a_repeated_notification_grants_once_and_still_answers_success(
    client, alipay_backend, alipay_keys, xiaoming, article
):
    order = alipay_order(xiaoming, article)
    data = notification(alipay_keys, order)

    first, second = notify(client, data), notify(client, data)

    assert (first.content, second.content) == (b"success", b"success")
    assert Entitlement.objects.filter(order=order).count() == 1


def test_a_notification_with_a_bad_signature_is_refused_and_grants_nothing(
    client, alipay_backend, alipay_keys, xiaoming, article, payments_log
):
    order = alipay_order(xiaoming, article)
    data = notification(alipay_keys, order)
    # Signed correctly, then changed: the buyer's id is not what Alipay signed.
    data["buyer_id"] = "2088999999999999"

    response = notify(client, data)

    assert 400 <= response.status_code < 500
    assert response.content == b"fail"
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert not Entitlement.objects.exists()
    assert any("BadSignature" in r.getMessage() for r in rejections(payments_log))


def test_a_notification_signed_by_another_key_is_refused(
    client, alipay_backend, alipay_keys, xiaoming, article
):
    order = alipay_order(xiaoming, article)
    data = notification(alipay_keys, order)
    # Signed with our own app key: anyone can sign, only Alipay's key counts.
    data["sign"] = alipay_keys.app.sign(canonical(data, exclude=("sign", "sign_type")))

    assert notify(client, data).status_code == 401
    assert not Entitlement.objects.exists()


def test_a_notification_for_the_wrong_amount_is_refused_and_grants_nothing(
    client, alipay_backend, alipay_keys, xiaoming, article, payments_log
):
    order = alipay_order(xiaoming, article)

    response = notify(client, notification(alipay_keys, order, total_amount="0.01"))

    assert response.status_code == 400
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert not Entitlement.objects.exists()
    assert PaymentEvent.objects.get(order=order).outcome.startswith("rejected (amount)")
    assert rejections(payments_log)


def test_a_notification_for_an_amount_finer_than_a_fen_is_refused(
    client, alipay_backend, alipay_keys, xiaoming, article
):
    order = alipay_order(xiaoming, article)
    total = f"{order.amount_fen / 100:.2f}1"  # e.g. 5.991: not a whole number of fen

    assert notify(client, notification(alipay_keys, order, total_amount=total)).status_code == 400
    assert not Entitlement.objects.exists()


def test_a_notification_for_another_seller_is_refused(
    client, alipay_backend, alipay_keys, xiaoming, article
):
    order = alipay_order(xiaoming, article)

    response = notify(client, notification(alipay_keys, order, seller_id="2088000000000999"))

    assert response.status_code == 400
    assert not Entitlement.objects.exists()


def test_a_notification_for_an_unknown_order_is_refused(
    client, alipay_backend, alipay_keys, xiaoming, article
):
    order = alipay_order(xiaoming, article)
    data = notification(alipay_keys, order, out_trade_no="20261129NOSUCHORDER000000000")

    response = notify(client, data)

    assert response.status_code == 404
    assert not Entitlement.objects.exists()


def test_a_wait_buyer_pay_notification_is_acknowledged_without_settling(
    client, alipay_backend, alipay_keys, xiaoming, article
):
    order = alipay_order(xiaoming, article)

    response = notify(client, notification(alipay_keys, order, trade_status="WAIT_BUYER_PAY"))

    assert response.content == b"success"
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_yuan_strings_become_fen_exactly():
    assert yuan_to_fen("5.99") == 599
    assert yuan_to_fen("0.10") == 10
    assert yuan_to_fen("1000") == 100000
    assert yuan_to_fen("5.999") is None
    assert yuan_to_fen("abc") is None
    assert yuan_to_fen("NaN") is None


def test_precreate_gives_a_qr_code_and_the_query_settles_once_paid(
    alipay_gateway, alipay_backend, xiaoming, article
):
    order = alipay_order(xiaoming, article)

    result = alipay_backend.create(order, "alipay_qr", "203.0.113.7")

    assert result == {"code_url": f"https://qr.alipay.com/bax{order.out_trade_no}"}
    assert (
        alipay_gateway.trades[order.out_trade_no]["total_amount"] == f"{order.amount_fen / 100:.2f}"
    )
    # Not scanned yet: Alipay does not know the trade, which means unpaid.
    assert settle_from_query(alipay_backend, order.out_trade_no) is None

    alipay_gateway.pay(order.out_trade_no)
    result = settle_from_query(alipay_backend, order.out_trade_no)

    assert result.settled_now
    assert Entitlement.objects.filter(order=order).count() == 1
    assert settle_from_query(alipay_backend, order.out_trade_no).outcome == "already_settled"


def test_wap_pay_is_a_redirect_to_alipay_signed_with_our_key(
    alipay_backend, alipay_keys, xiaoming, article
):
    order = alipay_order(xiaoming, article)

    url = alipay_backend.create(order, "alipay_wap", "203.0.113.7")["redirect_url"]

    assert url.startswith(GATEWAY + "?")
    params = dict(parse_qsl(urlsplit(url).query))
    sign = params.pop("sign")
    assert alipay_keys.app.verify(canonical(params, exclude=()), sign)
    assert params["method"] == "alipay.trade.wap.pay"
    assert order.out_trade_no in params["biz_content"]
    assert params["notify_url"].endswith(NOTIFY_PATH)


def test_closing_an_unscanned_trade_is_harmless_and_closing_a_paid_one_is_refused(
    alipay_gateway, alipay_backend, xiaoming, article
):
    from fanwen.payments.errors import UnableToTakePayment

    order = alipay_order(xiaoming, article)
    alipay_backend.close(order.out_trade_no)  # never precreated: nothing to close

    alipay_backend.create(order, "alipay_qr", "203.0.113.7")
    alipay_gateway.pay(order.out_trade_no)

    with pytest.raises(UnableToTakePayment):
        alipay_backend.close(order.out_trade_no)


def test_a_late_alipay_payment_after_close_is_honoured(
    alipay_gateway, alipay_backend, xiaoming, article
):
    order = alipay_order(xiaoming, article)
    alipay_backend.create(order, "alipay_qr", "203.0.113.7")
    alipay_gateway.pay(order.out_trade_no)
    do_close_order(order, reason="expired")

    result = settle_from_query(alipay_backend, order.out_trade_no)

    assert result.settled_now and result.late


def test_the_worker_sends_a_requested_alipay_refund_and_revokes_access(
    alipay_gateway, alipay_backend, xiaoming, article, kefu
):
    order = alipay_order(xiaoming, article)
    alipay_backend.create(order, "alipay_qr", "203.0.113.7")
    alipay_gateway.pay(order.out_trade_no)
    settle_from_query(alipay_backend, order.out_trade_no)
    do_refund(Order.objects.get(pk=order.pk), reason="买错了", staff=kefu)

    counts = retry_refunds()

    assert counts["refunded"] == 1
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert alipay_gateway.trades[order.out_trade_no]["refunded_by"] == order.out_refund_no
    assert not Entitlement.objects.get(order=order).is_active()
