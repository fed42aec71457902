"""Playing Alipay in tests: generated keys, notifications signed as Alipay signs them, a fake gateway.

The SDK reaches Alipay through one call (`alipay.urlopen`); the fake gateway replaces it, checks
our request signature with the app's public key and signs its answers with "Alipay's" key, so
the SDK's own verification runs for real.
"""

from __future__ import annotations

import base64
import itertools
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.utils import timezone

from fanwen.orders.models import Order, Plan
from fanwen.orders.tests.fixtures import make_order
from fanwen.payments.backends import backends
from fanwen.payments.backends.alipay import AlipayBackend, fen_to_yuan

APPID = "2021000000000001"
SELLER_ID = "2088000000000001"
GATEWAY = "https://alipay.test/gateway.do"
NOTIFY_PATH = "/pay/notify/alipay/"
_seq = itertools.count(1)


@dataclass(frozen=True)
class KeyPair:
    private: rsa.RSAPrivateKey
    private_pem: str
    public_pem: str

    def sign(self, message: str) -> str:
        signature = self.private.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode()

    def verify(self, message: str, signature: str) -> bool:
        try:
            self.private.public_key().verify(
                base64.b64decode(signature), message.encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except Exception:
            return False
        return True


def generate_key_pair() -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return KeyPair(key, private_pem, public_pem)


@dataclass(frozen=True)
class AlipayKeys:
    app: KeyPair  # ours: signs requests
    alipay: KeyPair  # Alipay's: signs notifications and answers


@pytest.fixture(scope="session")
def alipay_keys() -> AlipayKeys:
    return AlipayKeys(app=generate_key_pair(), alipay=generate_key_pair())


@pytest.fixture
def alipay_backend(alipay_keys, settings) -> AlipayBackend:
    settings.PAYMENT_BACKENDS = {
        **settings.PAYMENT_BACKENDS,
        "alipay": {
            "BACKEND": "fanwen.payments.backends.alipay.AlipayBackend",
            "OPTIONS": {
                "appid": APPID,
                # Bare base64, as Alipay's console hands it out.
                "app_private_key": "".join(alipay_keys.app.private_pem.splitlines()[1:-1]),
                "alipay_public_key": alipay_keys.alipay.public_pem,
                "seller_id": SELLER_ID,
                "notify_url": "https://fanwen.test" + NOTIFY_PATH,
                "gateway": GATEWAY,
            },
        },
    }
    settings.PAYMENT_ALIPAY_BACKEND = "alipay"
    return backends["alipay"]


def canonical(data: dict[str, str], *, exclude: tuple[str, ...]) -> str:
    """Alipay's string to sign: sorted k=v joined by &, without the excluded keys."""
    return "&".join(f"{k}={v}" for k, v in sorted(data.items()) if k not in exclude)


def alipay_order(
    visitor: Any, article: Any, plan_code: str = Plan.Code.ARTICLE_COPY, **merchant: Any
) -> Order:
    """An Alipay QR order; `merchant` overrides provider, mchid (seller_id) and appid."""
    return make_order(
        visitor,
        plan_code,
        article if plan_code == Plan.Code.ARTICLE_COPY else None,
        **{
            "provider": Order.Provider.ALIPAY,
            "channel": Order.Channel.ALIPAY_QR,
            "mchid": SELLER_ID,
            "appid": APPID,
            **merchant,
        },
    )


def notification(keys: AlipayKeys, order: Order, **overrides: str) -> dict[str, str]:
    """The form fields of a TRADE_SUCCESS notification for `order`, signed by "Alipay"."""
    now = timezone.localtime().strftime("%Y-%m-%d %H:%M:%S")
    n = next(_seq)
    data = {
        "notify_time": now,
        "notify_type": "trade_status_sync",
        "notify_id": f"ac05099524730693a8b330c5ecf72da{n:05d}",
        "charset": "utf-8",
        "version": "1.0",
        "app_id": APPID,
        "seller_id": SELLER_ID,
        "trade_no": f"2026112922001400{n:012d}",
        "out_trade_no": order.out_trade_no,
        "buyer_id": "2088102122524333",
        "buyer_logon_id": "159****5620",
        "trade_status": "TRADE_SUCCESS",
        "total_amount": fen_to_yuan(order.amount_fen),
        "receipt_amount": fen_to_yuan(order.amount_fen),
        "buyer_pay_amount": fen_to_yuan(order.amount_fen),
        "subject": "范文网-单篇复制/下载",
        "gmt_create": now,
        "gmt_payment": now,
    }
    data.update(overrides)
    data["sign_type"] = "RSA2"
    data["sign"] = keys.alipay.sign(canonical(data, exclude=("sign", "sign_type")))
    return data


@dataclass
class FakeAlipayGateway:
    """The part of the Alipay open API fanwen calls, in memory."""

    keys: AlipayKeys
    trades: dict[str, dict[str, str]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def __call__(self, url: str, timeout: float | None = None) -> Any:
        params = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
        sign = params.pop("sign")
        method = params["method"]
        self.calls.append(method)
        response_type = method.replace(".", "_") + "_response"
        if not self.keys.app.verify(canonical(params, exclude=()), sign):
            body = {
                "code": "40002",
                "msg": "Invalid Arguments",
                "sub_code": "isv.invalid-signature",
            }
        else:
            biz = json.loads(params["biz_content"])
            body = getattr(self, method.replace("alipay.trade.", ""))(biz)
        body_json = json.dumps(body, ensure_ascii=False)
        raw = f'{{"{response_type}":{body_json},"sign":"{self.keys.alipay.sign(body_json)}"}}'
        return _Answer(raw.encode())

    def pay(self, out_trade_no: str) -> dict[str, str]:
        """The buyer scans and pays."""
        trade = self.trades[out_trade_no]
        trade.update(
            trade_status="TRADE_SUCCESS",
            trade_no=f"2026112922001400{next(_seq):012d}",
            send_pay_date=timezone.localtime().strftime("%Y-%m-%d %H:%M:%S"),
            buyer_user_id="2088102122524333",
        )
        return trade

    def precreate(self, biz: dict) -> dict:
        no = biz["out_trade_no"]
        self.trades[no] = {
            "out_trade_no": no,
            "total_amount": biz["total_amount"],
            "trade_status": "WAIT_BUYER_PAY",
        }
        return {
            "code": "10000",
            "msg": "Success",
            "out_trade_no": no,
            "qr_code": f"https://qr.alipay.com/bax{no}",
        }

    def query(self, biz: dict) -> dict:
        trade = self.trades.get(biz["out_trade_no"])
        # A precreated trade exists at Alipay only once the buyer scanned (here: paid) it.
        if trade is None or "trade_no" not in trade:
            return _not_exist()
        return {"code": "10000", "msg": "Success", **trade}

    def close(self, biz: dict) -> dict:
        trade = self.trades.get(biz["out_trade_no"])
        if trade is None:
            return _not_exist()
        if trade["trade_status"] != "WAIT_BUYER_PAY":
            return {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_STATUS_ERROR"}
        trade["trade_status"] = "TRADE_CLOSED"
        return {"code": "10000", "msg": "Success", "out_trade_no": biz["out_trade_no"]}

    def refund(self, biz: dict) -> dict:
        trade = self.trades[biz["out_trade_no"]]
        trade["refunded_by"] = biz["out_request_no"]
        return {
            "code": "10000",
            "msg": "Success",
            "out_trade_no": biz["out_trade_no"],
            "trade_no": trade["trade_no"],
            "refund_fee": biz["refund_amount"],
            "fund_change": "Y",
        }


def _not_exist() -> dict:
    return {
        "code": "40004",
        "msg": "Business Failed",
        "sub_code": "ACQ.TRADE_NOT_EXIST",
        "sub_msg": "交易不存在",
    }


class _Answer:
    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    def read(self) -> bytes:
        return self.raw


@pytest.fixture
def alipay_gateway(alipay_keys, alipay_backend, monkeypatch) -> FakeAlipayGateway:
    gateway = FakeAlipayGateway(alipay_keys)
    monkeypatch.setattr("alipay.urlopen", gateway)
    return gateway
