"""POST /pay/notify/wechat/: only a genuine, matching TRANSACTION.SUCCESS pays an order, and only once."""

from __future__ import annotations

import base64
import json
import time

import pytest

from fanwen.orders.models import Entitlement, Order, PaymentEvent
from fanwen.payments.tests.fixtures import (
    event_id_of,
    paid_resource,
    post_notification,
    rejections,
    sandbox_order,
    signed_notification,
)
from fanwen.sandbox.keys import generate_keys, load_keys
from fanwen.sandbox.platform import as_meta, notification_body, platform_headers

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(xiaoming, article, sandbox_keys) -> Order:
    return sandbox_order(xiaoming, article, sandbox_keys)


def assert_rejected(response, order: Order, caplog, status: int | None = None) -> None:
    assert 400 <= response.status_code < 600
    if status is not None:
        assert response.status_code == status
    assert response.json()["code"] == "FAIL"
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert not Entitlement.objects.filter(order=order).exists()
    assert rejections(caplog), "the rejection was not logged on fanwen.payments"


# --- the happy path -------------------------------------------------------------------------


def test_a_genuine_notification_pays_the_order_and_grants_the_article(
    client, backend, order, sandbox_keys
):
    resource = paid_resource(order, sandbox_keys)
    body, meta = signed_notification(sandbox_keys, resource)

    response = post_notification(client, body, meta)

    assert response.status_code == 204
    assert response.content == b""
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.provider_txn_id == resource["transaction_id"]
    assert order.payer_ref == "oSBXtestpayer0000000000001"
    entitlement = Entitlement.objects.get(order=order)
    assert entitlement.kind == Entitlement.Kind.ARTICLE
    assert entitlement.article == order.article
    assert entitlement.visitor == order.visitor
    assert PaymentEvent.objects.filter(order=order, provider_event_id=event_id_of(body)).exists()


def test_it_grants_once_for_duplicate_notifications(client, backend, order, sandbox_keys):
    body, meta = signed_notification(sandbox_keys, paid_resource(order, sandbox_keys))

    first = post_notification(client, body, meta)
    # WeChat resends the same event, freshly signed.
    _, meta_again = signed_notification(sandbox_keys, body=body)
    second = post_notification(client, body, meta_again)

    assert (first.status_code, second.status_code) == (204, 204)
    assert Entitlement.objects.filter(order=order).count() == 1


def test_a_second_event_for_the_same_payment_is_acknowledged_without_a_second_grant(
    client, backend, order, sandbox_keys
):
    resource = paid_resource(order, sandbox_keys)
    first = post_notification(client, *signed_notification(sandbox_keys, resource))
    second = post_notification(client, *signed_notification(sandbox_keys, resource))

    assert (first.status_code, second.status_code) == (204, 204)
    assert Entitlement.objects.filter(order=order).count() == 1


def test_it_settles_on_amount_total_even_when_a_coupon_lowered_payer_total(
    client, backend, order, sandbox_keys
):
    resource = paid_resource(order, sandbox_keys, amount={"payer_total": order.amount_fen - 100})

    response = post_notification(client, *signed_notification(sandbox_keys, resource))

    assert response.status_code == 204
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_a_pass_notification_grants_thirty_days(client, backend, xiaoming, sandbox_keys, pass_plan):
    order = sandbox_order(xiaoming, None, sandbox_keys, plan_code=pass_plan.code)

    response = post_notification(
        client, *signed_notification(sandbox_keys, paid_resource(order, sandbox_keys))
    )

    assert response.status_code == 204
    entitlement = Entitlement.objects.get(order=order)
    assert entitlement.kind == Entitlement.Kind.PASS
    assert (entitlement.ends_at - entitlement.starts_at).days == 30


# --- notifications that are not provably from WeChat ----------------------------------------


def test_it_rejects_a_bad_signature(client, backend, order, sandbox_keys, payments_log):
    body, meta = signed_notification(sandbox_keys, paid_resource(order, sandbox_keys))
    signature = base64.b64decode(meta["HTTP_WECHATPAY_SIGNATURE"])
    meta["HTTP_WECHATPAY_SIGNATURE"] = base64.b64encode(
        bytes([signature[0] ^ 1]) + signature[1:]
    ).decode()

    assert_rejected(post_notification(client, body, meta), order, payments_log, status=401)


def test_it_rejects_a_body_changed_after_signing(
    client, backend, order, sandbox_keys, payments_log
):
    body, meta = signed_notification(sandbox_keys, paid_resource(order, sandbox_keys))
    changed = body.replace('"TRANSACTION.SUCCESS"', '"TRANSACTION.SUCCESS" ')

    assert_rejected(post_notification(client, changed, meta), order, payments_log, status=401)


def test_it_rejects_a_notification_signed_by_another_platform_key(
    client, backend, order, sandbox_keys, tmp_path, payments_log
):
    generate_keys(tmp_path / "impostor")
    impostor = load_keys(tmp_path / "impostor")
    # Same serial and APIv3 key as ours, so only the RSA signature can tell.
    body = notification_body(sandbox_keys, paid_resource(order, sandbox_keys))
    meta = as_meta(platform_headers(impostor, body, serial=sandbox_keys.public_key_id))

    assert_rejected(post_notification(client, body, meta), order, payments_log, status=401)


def test_it_rejects_wechats_probe_signature(client, backend, order, sandbox_keys, payments_log):
    body, meta = signed_notification(
        sandbox_keys,
        paid_resource(order, sandbox_keys),
        signature="WECHATPAY/SIGNTEST/" + "A" * 300,
    )

    response = post_notification(client, body, meta)

    assert_rejected(response, order, payments_log, status=401)
    assert response.json()["message"] == "probe signature"


def test_it_rejects_an_unknown_serial_before_any_network_call(
    client, backend, order, sandbox_keys, payments_log, monkeypatch
):
    # The SDK would fetch platform certificates for an unknown serial; we must not get that far.
    def no_network(*args, **kwargs):
        raise AssertionError("the SDK was asked to fetch certificates")

    monkeypatch.setattr("requests.get", no_network)
    body, meta = signed_notification(
        sandbox_keys,
        paid_resource(order, sandbox_keys),
        serial="PUB_KEY_ID_0199999999999999999999999999",
    )

    response = post_notification(client, body, meta)

    assert_rejected(response, order, payments_log, status=401)
    assert response.json()["message"] == "unknown serial"


# A future stamp must clear the window by more than the seconds a slow machine takes to
# get from signing to checking, or the test would see it slide back inside.
@pytest.mark.parametrize("offset", [-301, 330, -3600])
def test_it_rejects_a_timestamp_more_than_five_minutes_off(
    client, backend, order, sandbox_keys, payments_log, offset
):
    body, meta = signed_notification(
        sandbox_keys, paid_resource(order, sandbox_keys), timestamp=int(time.time()) + offset
    )

    response = post_notification(client, body, meta)

    assert_rejected(response, order, payments_log, status=401)
    assert response.json()["message"] == "timestamp out of range"


def test_it_accepts_a_timestamp_within_five_minutes(client, backend, order, sandbox_keys):
    body, meta = signed_notification(
        sandbox_keys, paid_resource(order, sandbox_keys), timestamp=int(time.time()) - 240
    )

    assert post_notification(client, body, meta).status_code == 204


def test_it_rejects_missing_signature_headers(client, backend, order, sandbox_keys, payments_log):
    body, meta = signed_notification(sandbox_keys, paid_resource(order, sandbox_keys))
    del meta["HTTP_WECHATPAY_NONCE"]

    assert_rejected(post_notification(client, body, meta), order, payments_log, status=400)


def test_it_rejects_a_tampered_ciphertext_even_when_the_body_is_signed(
    client, backend, order, sandbox_keys, payments_log
):
    event = json.loads(notification_body(sandbox_keys, paid_resource(order, sandbox_keys)))
    ciphertext = bytearray(base64.b64decode(event["resource"]["ciphertext"]))
    ciphertext[5] ^= 0x01
    event["resource"]["ciphertext"] = base64.b64encode(bytes(ciphertext)).decode()
    body, meta = signed_notification(sandbox_keys, body=json.dumps(event))

    response = post_notification(client, body, meta)

    assert_rejected(response, order, payments_log, status=400)
    assert response.json()["message"] == "resource decryption failed"


def test_it_rejects_a_resource_with_other_associated_data(
    client, backend, order, sandbox_keys, payments_log
):
    event = json.loads(notification_body(sandbox_keys, paid_resource(order, sandbox_keys)))
    event["resource"]["associated_data"] = "refund"
    body, meta = signed_notification(sandbox_keys, body=json.dumps(event))

    assert_rejected(post_notification(client, body, meta), order, payments_log, status=400)


# --- genuine notifications that do not match the order --------------------------------------


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"amount": {"total": 1}}, "amount"),
        ({"amount": {"currency": "USD"}}, "currency"),
        ({"mchid": "1999999999"}, "mchid"),
        ({"appid": "wx0000000000000000"}, "appid"),
    ],
    ids=["amount", "currency", "mchid", "appid"],
)
def test_it_rejects_a_genuine_notification_that_does_not_match_the_order(
    client, backend, order, sandbox_keys, payments_log, overrides, reason
):
    response = post_notification(
        client, *signed_notification(sandbox_keys, paid_resource(order, sandbox_keys, **overrides))
    )

    assert_rejected(response, order, payments_log, status=400)
    event = PaymentEvent.objects.get(order=order)
    assert event.outcome.startswith(f"rejected ({reason})")
    assert event.provider_event_id is None


def test_it_rejects_a_notification_for_an_unknown_order(
    client, backend, order, sandbox_keys, payments_log
):
    resource = paid_resource(order, sandbox_keys, out_trade_no="20990101NOSUCHORDER0000000000")

    response = post_notification(client, *signed_notification(sandbox_keys, resource))

    assert_rejected(response, order, payments_log, status=404)
    assert PaymentEvent.objects.filter(
        out_trade_no="20990101NOSUCHORDER0000000000", order=None
    ).exists()


def test_only_trade_state_success_settles(client, backend, order, sandbox_keys, payments_log):
    resource = paid_resource(order, sandbox_keys, trade_state="NOTPAY")

    response = post_notification(client, *signed_notification(sandbox_keys, resource))

    assert_rejected(response, order, payments_log, status=400)


def test_a_rejected_event_is_checked_again_when_it_is_resent(
    client, backend, order, sandbox_keys, payments_log
):
    # The first delivery failed (here: the wrong amount); the event id must not be burnt by it.
    bad = paid_resource(order, sandbox_keys, amount={"total": 1})
    event_id = "EV-resent-0001"
    first = post_notification(client, *signed_notification(sandbox_keys, bad, event_id=event_id))
    good = paid_resource(order, sandbox_keys)
    second = post_notification(client, *signed_notification(sandbox_keys, good, event_id=event_id))

    assert (first.status_code, second.status_code) == (400, 204)
    assert Entitlement.objects.filter(order=order).count() == 1


def test_get_is_not_a_notification(client, backend):
    assert client.get("/pay/notify/wechat/").status_code == 405


def test_a_notification_for_an_unconfigured_alias_is_refused(
    client, backend, order, sandbox_keys, payments_log
):
    response = post_notification(
        client,
        *signed_notification(sandbox_keys, paid_resource(order, sandbox_keys)),
        path="/pay/notify/wechat/nosuch/",
    )

    assert_rejected(response, order, payments_log, status=404)


# --- refund events --------------------------------------------------------------------------


def test_a_refund_success_event_completes_a_requested_refund_and_revokes_access(
    client, backend, order, sandbox_keys, kefu
):
    from fanwen.orders.actions import do_refund

    post_notification(
        client, *signed_notification(sandbox_keys, paid_resource(order, sandbox_keys))
    )
    order = do_refund(Order.objects.get(pk=order.pk), reason="买错了", staff=kefu)
    resource = {
        "mchid": sandbox_keys.mchid,
        "out_trade_no": order.out_trade_no,
        "transaction_id": order.provider_txn_id,
        "out_refund_no": order.out_refund_no,
        "refund_id": "50399000000000000000000001",
        "refund_status": "SUCCESS",
        "amount": {"total": order.amount_fen, "refund": order.amount_fen},
    }

    response = post_notification(
        client, *signed_notification(sandbox_keys, resource, event_type="REFUND.SUCCESS")
    )

    assert response.status_code == 204
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert Entitlement.objects.get(order=order).revoked_at is not None
