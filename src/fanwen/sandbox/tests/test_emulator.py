"""The emulator speaks WeChat Pay v3: it signs every answer and refuses what WeChat would refuse."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.hashes import SHA256
from wechatpayv3.utils import build_authorization, load_private_key

from fanwen.sandbox.models import SandboxTransaction

pytestmark = pytest.mark.django_db

NATIVE = "/sandbox/wechat/v3/pay/transactions/native"


def order_body(keys, **changes) -> dict:
    body = {
        "appid": keys.appid,
        "mchid": keys.mchid,
        "description": "范文网-单篇复制/下载",
        "out_trade_no": "20260101TESTORDER0000000001",
        "notify_url": "http://127.0.0.1:8000/pay/notify/wechat/",
        "amount": {"total": 599, "currency": "CNY"},
    }
    body.update(changes)
    return body


def signed_post(client, keys, path: str, body: dict, private_pem: str | None = None):
    text = json.dumps(body)
    auth = build_authorization(
        path.removeprefix("/sandbox/wechat"),
        "POST",
        keys.mchid,
        keys.merchant_serial,
        load_private_key(private_pem or keys.merchant_private_pem),
        data=text,
    )
    return client.post(path, data=text, content_type="application/json", HTTP_AUTHORIZATION=auth)


def assert_signed_by_platform(response, keys) -> None:
    message = f"{response['Wechatpay-Timestamp']}\n{response['Wechatpay-Nonce']}\n{response.content.decode()}\n"
    assert response["Wechatpay-Serial"] == keys.public_key_id
    public_key = serialization.load_pem_public_key(keys.platform_public_pem.encode())
    public_key.verify(
        base64.b64decode(response["Wechatpay-Signature"]), message.encode(), PKCS1v15(), SHA256()
    )


def test_a_signed_order_request_gets_a_signed_code_url(client, sandbox_keys):
    response = signed_post(client, sandbox_keys, NATIVE, order_body(sandbox_keys))

    assert response.status_code == 200
    assert "/sandbox/pay/" in response.json()["code_url"]
    assert_signed_by_platform(response, sandbox_keys)


def test_an_unsigned_request_gets_401_sign_error(client, sandbox_keys):
    response = client.post(
        NATIVE, data=json.dumps(order_body(sandbox_keys)), content_type="application/json"
    )

    assert response.status_code == 401
    assert response.json()["code"] == "SIGN_ERROR"
    assert_signed_by_platform(response, sandbox_keys)
    assert not SandboxTransaction.objects.exists()


def test_a_body_changed_after_signing_gets_401(client, sandbox_keys):
    body = order_body(sandbox_keys)
    text = json.dumps(body)
    auth = build_authorization(
        "/v3/pay/transactions/native",
        "POST",
        sandbox_keys.mchid,
        sandbox_keys.merchant_serial,
        load_private_key(sandbox_keys.merchant_private_pem),
        data=text,
    )
    tampered = text.replace("599", "1")

    response = client.post(
        NATIVE, data=tampered, content_type="application/json", HTTP_AUTHORIZATION=auth
    )

    assert response.status_code == 401
    assert not SandboxTransaction.objects.exists()


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"amount": {"total": 0, "currency": "CNY"}}, "PARAM_ERROR"),
        ({"amount": {"total": 599, "currency": "USD"}}, "PARAM_ERROR"),
        ({"out_trade_no": "abc"}, "PARAM_ERROR"),
        ({"description": "长" * 128}, "PARAM_ERROR"),
        ({"notify_url": "http://127.0.0.1:8000/pay/notify/wechat/?a=1"}, "PARAM_ERROR"),
        ({"appid": "wx0000000000000000"}, "APPID_MCHID_NOT_MATCH"),
        ({"time_expire": "tomorrow"}, "PARAM_ERROR"),
    ],
    ids=[
        "zero-amount",
        "currency",
        "short-number",
        "long-description",
        "notify-query",
        "appid",
        "time-expire",
    ],
)
def test_an_invalid_order_is_refused_with_wechats_error_code(client, sandbox_keys, changes, code):
    response = signed_post(client, sandbox_keys, NATIVE, order_body(sandbox_keys, **changes))

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not SandboxTransaction.objects.exists()


def test_an_h5_order_needs_the_payer_ip(client, sandbox_keys):
    response = signed_post(
        client, sandbox_keys, "/sandbox/wechat/v3/pay/transactions/h5", order_body(sandbox_keys)
    )

    assert response.status_code == 400
    assert "payer_client_ip" in response.json()["message"]


def test_the_payer_page_is_labelled_sandbox_and_is_gone_when_the_sandbox_is_off(
    client, sandbox_keys, settings
):
    signed_post(client, sandbox_keys, NATIVE, order_body(sandbox_keys))
    url = f"/sandbox/pay/{SandboxTransaction.objects.get().token}/"

    page = client.get(url)
    assert page.status_code == 200
    assert "沙箱" in page.content.decode()
    settings.FANWEN_SANDBOX = False

    assert client.get(url).status_code == 404
    assert signed_post(client, sandbox_keys, NATIVE, order_body(sandbox_keys)).status_code == 404
