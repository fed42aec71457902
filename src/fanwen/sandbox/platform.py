"""The platform side of the WeChat Pay v3 protocol: what the emulator (and tests acting as WeChat) do.

Signs answers and notifications with the platform key, encrypts resources with the APIv3
key, and verifies the merchant's Authorization header with the merchant's public key.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import string
import time
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from django.utils import timezone

from fanwen.payments.backends.wechat import MAX_CLOCK_SKEW_SECONDS, SIGNATURE_TYPE, rfc3339
from fanwen.sandbox.keys import SandboxKeys

_AUTH_PARAM = re.compile(r'(\w+)="([^"]*)"')
EVENT_SUMMARIES = {
    "TRANSACTION.SUCCESS": "支付成功",
    "REFUND.SUCCESS": "退款成功",
    "REFUND.ABNORMAL": "退款异常",
    "REFUND.CLOSED": "退款关闭",
}


def rsa_sign(private_key: Any, message: str) -> str:
    signature = private_key.sign(message.encode("utf-8"), PKCS1v15(), SHA256())
    return base64.b64encode(signature).decode()


def nonce_str(length: int = 32) -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(length))


def platform_headers(
    keys: SandboxKeys,
    body: str,
    *,
    timestamp: int | str | None = None,
    nonce: str | None = None,
    signature: str | None = None,
    serial: str | None = None,
) -> dict[str, str]:
    """Wechatpay-* headers for `body`, signed with the platform key; tests override single parts."""
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or nonce_str()
    if signature is None:
        signature = rsa_sign(keys.platform_private_key, f"{timestamp}\n{nonce}\n{body}\n")
    return {
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": signature,
        "Wechatpay-Serial": serial or keys.public_key_id,
        "Wechatpay-Signature-Type": SIGNATURE_TYPE,
    }


def as_meta(headers: dict[str, str]) -> dict[str, str]:
    """HTTP headers as Django's test client takes them (HTTP_WECHATPAY_TIMESTAMP=...)."""
    return {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}


def encrypt_resource(
    keys: SandboxKeys, plaintext: dict | str, associated_data: str
) -> dict[str, str]:
    text = plaintext if isinstance(plaintext, str) else json.dumps(plaintext, ensure_ascii=False)
    # WeChat's nonce is 12 printable characters, used as the 12-byte GCM nonce.
    nonce = nonce_str(12)
    ciphertext = AESGCM(keys.apiv3_key.encode()).encrypt(
        nonce.encode(), text.encode("utf-8"), associated_data.encode()
    )
    return {
        "original_type": associated_data,
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": base64.b64encode(ciphertext).decode(),
        "associated_data": associated_data,
        "nonce": nonce,
    }


def notification_body(
    keys: SandboxKeys,
    resource: dict,
    *,
    event_type: str = "TRANSACTION.SUCCESS",
    event_id: str | None = None,
    associated_data: str | None = None,
) -> str:
    """A notification exactly as WeChat sends it: the resource encrypted with the APIv3 key."""
    if associated_data is None:
        associated_data = "refund" if event_type.startswith("REFUND.") else "transaction"
    event = {
        "id": event_id or str(uuid.uuid4()),
        "create_time": rfc3339(timezone.now()),
        "resource_type": "encrypt-resource",
        "event_type": event_type,
        "summary": EVENT_SUMMARIES.get(event_type, event_type),
        "resource": encrypt_resource(keys, resource, associated_data),
    }
    return json.dumps(event, ensure_ascii=False)


@dataclass(frozen=True)
class MerchantAuth:
    mchid: str
    serial_no: str


class AuthError(Exception):
    pass


def verify_merchant_request(
    keys: SandboxKeys, method: str, path: str, body: str, authorization: str
) -> MerchantAuth:
    """Check a request's Authorization header as WeChat does; raise AuthError with the reason."""
    scheme, _, params_text = authorization.partition(" ")
    if scheme != "WECHATPAY2-SHA256-RSA2048":
        raise AuthError("Authorization 头缺失或认证类型错误")
    params = dict(_AUTH_PARAM.findall(params_text))
    for name in ("mchid", "nonce_str", "signature", "timestamp", "serial_no"):
        if not params.get(name):
            raise AuthError(f"Authorization 头缺少 {name}")
    if params["mchid"] != keys.mchid:
        raise AuthError("商户号与签名不匹配")
    if params["serial_no"] != keys.merchant_serial:
        raise AuthError("商户证书序列号有误")
    try:
        skew = abs(time.time() - int(params["timestamp"]))
    except ValueError:
        raise AuthError("timestamp 格式错误") from None
    if skew > MAX_CLOCK_SKEW_SECONDS:
        raise AuthError("请求时间戳已过期")
    message = f"{method}\n{path}\n{params['timestamp']}\n{params['nonce_str']}\n{body}\n"
    try:
        signature = base64.b64decode(params["signature"], validate=True)
        keys.merchant_public_key.verify(signature, message.encode("utf-8"), PKCS1v15(), SHA256())
    except (InvalidSignature, ValueError):
        raise AuthError("签名错误") from None
    return MerchantAuth(mchid=params["mchid"], serial_no=params["serial_no"])
