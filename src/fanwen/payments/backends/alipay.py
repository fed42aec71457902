"""Alipay through `python-alipay-sdk`: precreate (PC QR), wap pay (mobile redirect), notify, query, close, refund.

OPTIONS: appid, app_private_key (ours, PEM or bare base64), alipay_public_key (Alipay's, PEM
or bare base64), and optionally seller_id (the merchant PID 2088..., checked on every
notification when set), notify_url (default SITE_URL + /pay/notify/alipay/), return_url
(where wap pay sends the buyer back; not proof of payment), gateway (another host, e.g. a
test emulator), debug (Alipay's sandbox gateway), timeout (seconds, default 15) and provider.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import urllib.error
from typing import Any
from zoneinfo import ZoneInfo

from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError
from alipay.utils import AliPayConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import timezone

from fanwen.lib import money
from fanwen.lib.money import fen_to_yuan
from fanwen.payments.backends.base import (
    CLOSED,
    PAID,
    PENDING,
    UNKNOWN,
    PaymentBackend,
    ProviderReport,
)
from fanwen.payments.errors import (
    BadSignature,
    GatewayError,
    MalformedNotification,
    UnableToTakePayment,
)

log = logging.getLogger("fanwen.payments")

BEIJING = ZoneInfo("Asia/Shanghai")
SUCCESS_CODE = "10000"
# 20000: Alipay's "service unavailable"; 40004 with these sub-codes is a definite answer.
RETRYABLE_CODES = {"20000", "ACQ.SYSTEM_ERROR", "aop.ACQ.SYSTEM_ERROR"}
NOT_EXIST = "ACQ.TRADE_NOT_EXIST"
# trade_status → ProviderReport.state (TRADE_CLOSED also ends a fully refunded trade).
STATES = {
    "TRADE_SUCCESS": PAID,
    "TRADE_FINISHED": PAID,
    "WAIT_BUYER_PAY": PENDING,
    "TRADE_CLOSED": CLOSED,
}
USER_MESSAGES = {
    "ACQ.TRADE_HAS_SUCCESS": "这笔订单已经支付过了。",
    "ACQ.TRADE_HAS_CLOSE": "订单已关闭，请重新下单。",
    "ACQ.TOTAL_FEE_EXCEED": "订单金额超过支付宝限额。",
}


def yuan_to_fen(value: Any) -> int | None:
    """'5.99' → 599 exactly (fanwen.lib.money); None for anything that is not whole fen."""
    try:
        return money.yuan_to_fen(value)
    except money.AmountError:
        return None


def as_pem(key: str, kind: str) -> str:
    """Alipay's console hands out bare base64; the SDK wants PEM."""
    key = (key or "").strip()
    if key.startswith("-----"):
        return key
    body = "\n".join(key[i : i + 64] for i in range(0, len(key), 64))
    label = "PRIVATE KEY" if kind == "private" else "PUBLIC KEY"
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"


def parse_time(value: Any) -> dt.datetime | None:
    # Alipay reports "YYYY-MM-DD HH:MM:SS" in Beijing time.
    try:
        return dt.datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
    except ValueError:
        return None


class AlipayBackend(PaymentBackend):
    provider = "alipay"
    channels = ("alipay_qr", "alipay_wap")
    qr_prefixes = ("https://qr.alipay.com/",)

    def __init__(self, alias: str, options: dict[str, Any]) -> None:
        super().__init__(alias, options)
        self._client: AliPay | None = None
        self._lock = threading.Lock()
        missing = [
            name
            for name in ("appid", "app_private_key", "alipay_public_key")
            if not options.get(name)
        ]
        if missing:
            raise ImproperlyConfigured(
                f"payment backend {alias!r} lacks OPTIONS {', '.join(missing)}"
            )

    @property
    def appid(self) -> str:
        return str(self.options["appid"])

    @property
    def mchid(self) -> str:
        # Alipay's merchant is the seller_id (PID); empty means "not checked".
        return str(self.options.get("seller_id") or "")

    @property
    def gateway(self) -> str:
        return self.client._gateway

    def notify_url(self) -> str:
        if self.options.get("notify_url"):
            return str(self.options["notify_url"])
        if not settings.SITE_URL:
            raise ImproperlyConfigured(
                f"payment backend {self.alias!r} needs OPTIONS notify_url or SITE_URL"
            )
        if self.alias == getattr(settings, "PAYMENT_ALIPAY_BACKEND", ""):
            return settings.SITE_URL + reverse("payments:alipay-notify")
        return settings.SITE_URL + reverse("payments:alipay-notify-alias", args=[self.alias])

    @property
    def client(self) -> AliPay:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._build_client()
        return self._client

    def _build_client(self) -> AliPay:
        client = AliPay(
            appid=self.appid,
            app_notify_url=self.notify_url(),
            app_private_key_string=as_pem(self.options["app_private_key"], "private"),
            alipay_public_key_string=as_pem(self.options["alipay_public_key"], "public"),
            sign_type="RSA2",
            debug=bool(self.options.get("debug")),
            config=AliPayConfig(timeout=float(self.options.get("timeout") or 15)),
        )
        if self.options.get("gateway"):
            # The SDK has no argument for the host; tests point it at a fake gateway.
            client._gateway = str(self.options["gateway"])
        return client

    # --- calls ------------------------------------------------------------------------------

    def _call(self, action: str, method: Any, **kwargs: Any) -> dict:
        """One signed API call; the verified response body, or GatewayError for a retryable failure."""
        try:
            data = method(**kwargs)
        except AliPayValidationError as exc:
            raise GatewayError(f"alipay {action}: answer signature does not verify") from exc
        except AliPayException as exc:
            raise GatewayError(f"alipay {action}: {exc}") from exc
        except (OSError, urllib.error.URLError, ValueError) as exc:
            raise GatewayError(f"alipay {action}: {type(exc).__name__}: {exc}") from exc
        if not isinstance(data, dict):
            raise GatewayError(f"alipay {action}: unexpected answer")
        code = str(data.get("code", ""))
        sub_code = str(data.get("sub_code", ""))
        if code != SUCCESS_CODE and (code in RETRYABLE_CODES or sub_code in RETRYABLE_CODES):
            raise GatewayError(
                f"alipay {action}: {code} {sub_code} {data.get('sub_msg', '')}",
                provider_code=sub_code or code,
            )
        return data

    def _refuse(self, action: str, data: dict) -> UnableToTakePayment:
        sub_code = str(data.get("sub_code") or data.get("code") or "")
        log.warning("alipay %s refused (%s): %s", action, self.alias, data)
        return UnableToTakePayment(
            f"alipay {action}: {data.get('code')} {sub_code} {data.get('sub_msg', '')}",
            user_message=USER_MESSAGES.get(sub_code),
            provider_code=sub_code,
        )

    def describe(self, order: Any) -> str:
        text = f"{settings.SITE_NAME}-{order.plan.name}"
        if order.article_id:
            text += f"：{order.article.title}"
        # Alipay's subject is limited to 256 characters.
        return text[:256]

    def create(
        self,
        order: Any,
        channel: str,
        client_ip: str,
        openid: str | None = None,
        return_url: str | None = None,
    ) -> dict:
        """alipay_qr → {"code_url"} (the precreate qr_code), alipay_wap → {"redirect_url"}.

        `return_url` is where wap pay sends the buyer back (default: OPTIONS return_url).
        """
        if channel not in self.channels:
            raise UnableToTakePayment(f"channel {channel!r} is not Alipay")
        if order.status != "pending" or order.is_expired():
            raise UnableToTakePayment(
                f"order {order.out_trade_no} is {order.status}",
                user_message="订单已支付、已关闭或已过期，请重新下单。",
            )
        minutes = max(1, int((order.expires_at - timezone.now()).total_seconds() // 60))
        common = {
            "subject": self.describe(order),
            "out_trade_no": order.out_trade_no,
            "total_amount": fen_to_yuan(order.amount_fen),
            "timeout_express": f"{minutes}m",
        }
        if channel == "alipay_wap":
            # Wap pay is a signed redirect: no call to Alipay until the buyer's browser goes there.
            query = self.client.api_alipay_trade_wap_pay(
                return_url=return_url or self.options.get("return_url") or None, **common
            )
            return {"redirect_url": f"{self.gateway}?{query}"}
        data = self._call("precreate", self.client.api_alipay_trade_precreate, **common)
        if data.get("code") != SUCCESS_CODE:
            raise self._refuse("precreate", data)
        if not data.get("qr_code"):
            raise GatewayError("alipay precreate: answer has no qr_code")
        return {"code_url": str(data["qr_code"])}

    def query(self, out_trade_no: str) -> ProviderReport | None:
        data = self._call("query", self.client.api_alipay_trade_query, out_trade_no=out_trade_no)
        if data.get("code") != SUCCESS_CODE:
            # A precreated trade exists at Alipay only after the scan: unknown means unpaid.
            if data.get("sub_code") == NOT_EXIST:
                return None
            raise self._refuse("query", data)
        # The answer is signed by Alipay for our app's request: its merchant and app are ours.
        return self.report(data, mchid=self.mchid, appid=self.appid)

    def close(self, out_trade_no: str) -> None:
        data = self._call("close", self.client.api_alipay_trade_close, out_trade_no=out_trade_no)
        if data.get("code") != SUCCESS_CODE and data.get("sub_code") != NOT_EXIST:
            raise self._refuse("close", data)

    def refund(self, order: Any, *, out_refund_no: str | None = None, reason: str = "") -> dict:
        """A full refund; out_request_no makes asking again harmless. Alipay answers synchronously."""
        from fanwen.orders.models import refund_no_for

        out_refund_no = out_refund_no or order.out_refund_no or refund_no_for(order.out_trade_no)
        data = self._call(
            "refund",
            self.client.api_alipay_trade_refund,
            refund_amount=fen_to_yuan(order.amount_fen),
            out_trade_no=order.out_trade_no,
            out_request_no=out_refund_no,
            refund_reason=reason[:80] or None,
        )
        if data.get("code") != SUCCESS_CODE:
            raise self._refuse("refund", data)
        return {
            "out_refund_no": out_refund_no,
            "refund_id": str(data.get("trade_no", "")),
            "status": "SUCCESS",
            "amount_fen": yuan_to_fen(data.get("refund_fee", "")),
            "out_trade_no": str(data.get("out_trade_no", "")),
            "raw": data,
        }

    # --- notifications ---------------------------------------------------------------------

    def parse_notification(self, headers: Any, body: Any) -> ProviderReport:
        """Verify an asynchronous notification (the form fields as a dict) and normalize it.

        `body` is request.POST.dict(); `headers` is unused (Alipay signs the fields only).
        """
        data = {str(key): str(value) for key, value in dict(body).items()}
        sign = data.pop("sign", "")
        if not sign:
            raise BadSignature("notification has no sign")
        fields = dict(data)
        try:
            verified = self.client.verify(fields, sign)
        except AliPayException as exc:
            raise BadSignature(f"notification sign_type refused: {exc}") from exc
        except (ValueError, TypeError) as exc:
            raise BadSignature(f"notification sign does not decode: {exc}") from exc
        if not verified:
            raise BadSignature("RSA2 signature of the notification does not verify")
        if not data.get("out_trade_no"):
            raise MalformedNotification("notification has no out_trade_no")
        return self.report(
            data,
            mchid=data.get("seller_id", ""),
            appid=data.get("app_id", ""),
            event_id=data.get("notify_id") or None,
        )

    def report(
        self, data: dict, *, mchid: str, appid: str, event_id: str | None = None
    ) -> ProviderReport:
        """A query answer or notification as a report (the same type as WeChat's)."""
        status = str(data.get("trade_status", ""))
        return ProviderReport(
            out_trade_no=str(data.get("out_trade_no", "")),
            state=STATES.get(status, UNKNOWN),
            provider_state=status,
            txn_id=str(data.get("trade_no", "")),
            # total_amount is the order's price; buyer_pay_amount can be lower with coupons.
            amount_fen=yuan_to_fen(data.get("total_amount", "")),
            currency="CNY",
            mchid=str(mchid or ""),
            appid=str(appid or ""),
            paid_at=parse_time(data.get("gmt_payment") or data.get("send_pay_date")),
            payer_ref=str(
                data.get("buyer_id")
                or data.get("buyer_user_id")
                or data.get("buyer_logon_id")
                or ""
            ),
            event_id=event_id,
            event_type=status,
            raw=data,
        )
