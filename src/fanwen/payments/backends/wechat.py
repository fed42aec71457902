"""WeChat Pay API v3 through the `wechatpayv3` SDK, in public-key mode (no platform certificates).

OPTIONS: mchid, appid, private_key (merchant API key, PEM), cert_serial_no (of the merchant
certificate), apiv3_key (32 chars), public_key (WeChat Pay public key, PEM), public_key_id
("PUB_KEY_ID_..."), notify_url, and optionally gateway (another API host, e.g. the sandbox
emulator), timeout ((connect, read) seconds) and provider (the Order.provider it takes).
JSAPI also needs app_secret (of the official account `appid`, for OAuth snsapi_base, which
gives the payer's openid); oauth_authorize_url and oauth_token_url point OAuth elsewhere.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import hmac
import io
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3.utils import aes_decrypt, load_public_key, rsa_verify

from fanwen.lib import money
from fanwen.payments.backends.base import (
    CLOSED,
    PAID,
    PENDING,
    REFUNDED,
    UNKNOWN,
    PaymentBackend,
    ProviderReport,
)
from fanwen.payments.errors import (
    BadSignature,
    GatewayError,
    MalformedNotification,
    MissingHeaders,
    ProbeSignature,
    StaleTimestamp,
    UnableToTakePayment,
    UndecryptableResource,
    UnknownSerial,
)

log = logging.getLogger("fanwen.payments")

DEFAULT_GATEWAY = "https://api.mch.weixin.qq.com"
DEFAULT_OAUTH_AUTHORIZE_URL = "https://open.weixin.qq.com/connect/oauth2/authorize"
DEFAULT_OAUTH_TOKEN_URL = "https://api.weixin.qq.com/sns/oauth2/access_token"
# OAuth errcodes that blame the code (invalid, already used, missing): the buyer starts again.
OAUTH_CODE_ERRCODES = {40029, 40163, 41008}
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
PROBE_PREFIX = "WECHATPAY/SIGNTEST/"
# WeChat's own rule for notifications: a timestamp further off than this is a replay.
MAX_CLOCK_SKEW_SECONDS = 300
BEIJING = ZoneInfo("Asia/Shanghai")
PAY_TYPES = {"native": WeChatPayType.NATIVE, "h5": WeChatPayType.H5, "jsapi": WeChatPayType.JSAPI}
# Provider codes worth retrying with the same parameters; the rest are answers, not accidents.
RETRYABLE_CODES = {"SYSTEM_ERROR", "SYSTEMERROR", "FREQUENCY_LIMITED", "BANK_ERROR"}
USER_MESSAGES = {
    "ORDERPAID": "这笔订单已经支付过了。",
    "ORDER_CLOSED": "订单已关闭，请重新下单。",
    "OUT_TRADE_NO_USED": "订单号已使用，请重新下单。",
    "NO_AUTH": "商户暂时无法收款，请联系客服。",
    "RULE_LIMIT": "支付受限，请换一种方式或联系客服。",
}
NOTIFICATION_HEADERS = ("timestamp", "nonce", "signature", "serial")
# trade_state → ProviderReport.state.
STATES = {
    "SUCCESS": PAID,
    "NOTPAY": PENDING,
    "USERPAYING": PENDING,
    "CLOSED": CLOSED,
    "REVOKED": CLOSED,
    "PAYERROR": CLOSED,
    "REFUND": REFUNDED,
}


@dataclass(frozen=True)
class WeChatConfig:
    mchid: str
    appid: str
    private_key: str
    cert_serial_no: str
    apiv3_key: str
    public_key: str
    public_key_id: str
    notify_url: str
    gateway: str
    timeout: tuple[float, float]
    provider: str
    app_secret: str = ""
    oauth_authorize_url: str = DEFAULT_OAUTH_AUTHORIZE_URL
    oauth_token_url: str = DEFAULT_OAUTH_TOKEN_URL


class WeChatPayBackend(PaymentBackend):
    provider = "wechat"
    channels = ("native", "h5", "jsapi")
    qr_prefixes = ("weixin://",)

    def __init__(self, alias: str, options: dict[str, Any]) -> None:
        super().__init__(alias, options)
        self._config: WeChatConfig | None = None
        self._client: WeChatPay | None = None
        self._platform_key: Any = None
        self._lock = threading.Lock()

    # --- configuration and the SDK client, both built on first use -------------------------

    def resolve_options(self) -> dict[str, Any]:
        """The options the client is built from; the sandbox fills in its generated keys here."""
        return dict(self.options)

    @property
    def config(self) -> WeChatConfig:
        if self._config is None:
            self._config = self._build_config(self.resolve_options())
        return self._config

    def _build_config(self, options: dict[str, Any]) -> WeChatConfig:
        required = (
            "mchid",
            "appid",
            "private_key",
            "cert_serial_no",
            "apiv3_key",
            "public_key",
            "public_key_id",
        )
        missing = [name for name in required if not options.get(name)]
        if missing:
            raise ImproperlyConfigured(
                f"payment backend {self.alias!r} lacks OPTIONS {', '.join(missing)}"
            )
        if not str(options["public_key_id"]).startswith("PUB_KEY_ID_"):
            raise ImproperlyConfigured(
                f"payment backend {self.alias!r}: public_key_id must start with PUB_KEY_ID_"
            )
        if len(str(options["apiv3_key"]).encode()) != 32:
            raise ImproperlyConfigured(
                f"payment backend {self.alias!r}: apiv3_key must be 32 bytes"
            )
        timeout = tuple(options.get("timeout") or (5, 10))
        return WeChatConfig(
            mchid=str(options["mchid"]),
            appid=str(options["appid"]),
            private_key=options["private_key"],
            cert_serial_no=str(options["cert_serial_no"]),
            apiv3_key=str(options["apiv3_key"]),
            public_key=options["public_key"],
            public_key_id=str(options["public_key_id"]),
            notify_url=options.get("notify_url") or self.default_notify_url(),
            gateway=str(options.get("gateway") or DEFAULT_GATEWAY).rstrip("/"),
            timeout=(float(timeout[0]), float(timeout[1])),
            provider=str(options.get("provider") or self.provider),
            app_secret=str(options.get("app_secret") or ""),
            oauth_authorize_url=str(
                options.get("oauth_authorize_url") or DEFAULT_OAUTH_AUTHORIZE_URL
            ),
            oauth_token_url=str(options.get("oauth_token_url") or DEFAULT_OAUTH_TOKEN_URL),
        )

    def default_notify_url(self) -> str:
        if not settings.SITE_URL:
            raise ImproperlyConfigured(
                f"payment backend {self.alias!r} needs OPTIONS notify_url or SITE_URL"
            )
        return settings.SITE_URL + self.notify_path()

    def notify_path(self) -> str:
        if self.alias == settings.PAYMENT_WECHAT_BACKEND:
            return reverse("payments:wechat-notify")
        return reverse("payments:wechat-notify-alias", args=[self.alias])

    @property
    def mchid(self) -> str:
        return self.config.mchid

    @property
    def appid(self) -> str:
        return self.config.appid

    @property
    def order_provider(self) -> str:
        return self.config.provider

    @property
    def client(self) -> WeChatPay:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._build_client()
        return self._client

    def _build_client(self) -> WeChatPay:
        config = self.config
        # Public-key mode: the constructor does no network I/O (certificate mode would).
        client = WeChatPay(
            wechatpay_type=WeChatPayType.NATIVE,
            mchid=config.mchid,
            private_key=config.private_key,
            cert_serial_no=config.cert_serial_no,
            appid=config.appid,
            apiv3_key=config.apiv3_key,
            notify_url=config.notify_url,
            public_key=config.public_key,
            public_key_id=config.public_key_id,
            timeout=config.timeout,
        )
        # The SDK has no argument for the host; the sandbox and tests point it elsewhere.
        client._core._gate_way = config.gateway
        return client

    @property
    def platform_public_key(self) -> Any:
        if self._platform_key is None:
            self._platform_key = load_public_key(self.config.public_key)
        return self._platform_key

    # --- calls ------------------------------------------------------------------------------

    def _call(
        self, action: str, method: Callable[..., tuple[int, Any]], **kwargs: Any
    ) -> tuple[int, dict]:
        """Run one SDK call; return (status, parsed JSON) for 2xx and the provider's 4xx answers."""
        try:
            status, text = method(**kwargs)
        except requests.RequestException as exc:
            raise GatewayError(f"wechat {action}: {type(exc).__name__}: {exc}") from exc
        except Exception as exc:
            # The SDK raises bare Exceptions, e.g. for an answer whose signature does not verify.
            raise GatewayError(f"wechat {action}: {exc}") from exc
        data = _json_or_empty(text)
        if 200 <= status < 300:
            return status, data
        code = str(data.get("code", "")) if isinstance(data, dict) else ""
        message = str(data.get("message", "")) if isinstance(data, dict) else ""
        if status == 429 or status >= 500 or code in RETRYABLE_CODES:
            raise GatewayError(
                f"wechat {action}: {status} {code} {message}",
                provider_code=code,
                http_status=status,
            )
        return status, {"code": code, "message": message, "_status": status}

    def _refuse(self, action: str, answer: dict) -> UnableToTakePayment:
        code, status = answer.get("code", ""), answer.get("_status")
        # A sign error is our configuration, not the buyer's doing: staff must hear of it.
        level = (
            logging.ERROR
            if code in {"SIGN_ERROR", "PARAM_ERROR", "INVALID_REQUEST"}
            else logging.WARNING
        )
        log.log(level, "wechat %s refused (%s): %s %s", action, self.alias, status, answer)
        return UnableToTakePayment(
            f"wechat {action}: {status} {code} {answer.get('message', '')}",
            user_message=USER_MESSAGES.get(code),
            provider_code=code,
            http_status=status,
        )

    def create(
        self,
        order: Any,
        channel: str,
        client_ip: str,
        openid: str | None = None,
        return_url: str | None = None,
    ) -> dict:
        """NATIVE → {"code_url"}, H5 → {"h5_url"}, JSAPI → {"prepay_id", and WeixinJSBridge's params}."""
        pay_type = PAY_TYPES.get(channel)
        if pay_type is None:
            raise UnableToTakePayment(f"channel {channel!r} is not WeChat Pay")
        if order.status != "pending":
            raise UnableToTakePayment(
                f"order {order.out_trade_no} is {order.status}",
                user_message="订单已支付或已关闭，请刷新页面。",
            )
        if order.is_expired():
            raise UnableToTakePayment(
                f"order {order.out_trade_no} expired", user_message="订单已过期，请重新下单。"
            )
        kwargs: dict[str, Any] = {
            "description": self.describe(order),
            "out_trade_no": order.out_trade_no,
            "amount": {"total": order.amount_fen, "currency": order.currency},
            "time_expire": rfc3339(order.expires_at),
            "pay_type": pay_type,
        }
        if pay_type == WeChatPayType.H5:
            kwargs["scene_info"] = {"payer_client_ip": client_ip, "h5_info": {"type": "Wap"}}
        elif pay_type == WeChatPayType.JSAPI:
            if not openid:
                raise UnableToTakePayment(
                    "JSAPI needs the payer's openid", user_message="请在微信中打开本页面再支付。"
                )
            kwargs["payer"] = {"openid": openid}
        status, data = self._call("create", self.client.pay, **kwargs)
        if "_status" in data:
            raise self._refuse("create", data)
        if pay_type == WeChatPayType.NATIVE:
            return {"code_url": _required(data, "code_url", "create")}
        if pay_type == WeChatPayType.H5:
            return {"h5_url": _required(data, "h5_url", "create")}
        prepay_id = _required(data, "prepay_id", "create")
        return {"prepay_id": prepay_id, **self.jsapi_params(prepay_id)}

    def jsapi_params(self, prepay_id: str) -> dict:
        """The parameters of WeixinJSBridge.invoke('getBrandWCPayRequest', ...), signed by us."""
        timestamp = str(int(time.time()))
        nonce = secrets.token_hex(16)
        package = f"prepay_id={prepay_id}"
        pay_sign = self.client.sign([self.appid, timestamp, nonce, package])
        return {
            "appId": self.appid,
            "timeStamp": timestamp,
            "nonceStr": nonce,
            "package": package,
            "signType": "RSA",
            "paySign": pay_sign,
        }

    # --- OAuth snsapi_base: the payer's openid for JSAPI ---------------------------------------

    @property
    def supports_oauth(self) -> bool:
        return bool(self.config.app_secret)

    def oauth_authorize_url(self, redirect_uri: str, state: str) -> str:
        """Where the browser goes inside WeChat; WeChat comes back to redirect_uri?code=...&state=..."""
        # WeChat wants the parameters in this order.
        query = urlencode(
            {
                "appid": self.appid,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": "snsapi_base",
                "state": state,
            }
        )
        return f"{self.config.oauth_authorize_url}?{query}#wechat_redirect"

    def oauth_openid(self, code: str) -> str:
        """Exchange an OAuth code for the payer's openid; UnableToTakePayment on WeChat's errcode."""
        config = self.config
        if not config.app_secret:
            raise UnableToTakePayment(
                f"payment backend {self.alias!r} has no app_secret for OAuth",
                user_message="本站暂未开通微信内支付，请使用扫码支付。",
            )
        host = urlsplit(config.oauth_token_url).netloc
        try:
            response = requests.get(
                config.oauth_token_url,
                params={
                    "appid": config.appid,
                    "secret": config.app_secret,
                    "code": code,
                    "grant_type": "authorization_code",
                },
                timeout=config.timeout,
            )
        except requests.RequestException as exc:
            # The exception's text carries the URL, secret included: only its kind is kept.
            raise GatewayError(f"wechat oauth: {type(exc).__name__} from {host}") from None
        data = _json_or_empty(response.content)
        if response.status_code != 200:
            raise GatewayError(f"wechat oauth: HTTP {response.status_code} from {host}")
        errcode = data.get("errcode")
        if errcode not in (None, 0, "0"):
            errmsg = str(data.get("errmsg", ""))[:200]
            expired = _as_int(errcode) in OAUTH_CODE_ERRCODES
            log.log(
                logging.WARNING if expired else logging.ERROR,
                "wechat oauth (%s): errcode %s %s",
                self.alias,
                errcode,
                errmsg,
            )
            user_message = (
                f"微信授权已失效（错误码 {errcode}），请返回页面重新点击支付。"
                if expired
                else f"微信授权失败（错误码 {errcode}），请稍后再试或联系客服。"
            )
            raise UnableToTakePayment(
                f"wechat oauth: errcode {errcode} {errmsg}",
                user_message=user_message,
                provider_code=str(errcode),
            )
        openid = data.get("openid")
        if not isinstance(openid, str) or not openid or len(openid) > 128:
            raise GatewayError(f"wechat oauth: answer from {host} has no usable openid")
        return openid

    def describe(self, order: Any) -> str:
        text = f"{settings.SITE_NAME}-{order.plan.name}"
        if order.article_id:
            text += f"：{order.article.title}"
        # WeChat's limit is 127 characters.
        return text[:127]

    def query(self, out_trade_no: str) -> ProviderReport | None:
        status, data = self._call("query", self.client.query, out_trade_no=out_trade_no)
        if "_status" in data:
            if data["code"] == "ORDER_NOT_EXIST" or data["_status"] == 404:
                return None
            raise self._refuse("query", data)
        return transaction_report(data)

    def close(self, out_trade_no: str) -> None:
        """Close the payment at WeChat so it can no longer be paid; a paid order raises."""
        status, data = self._call("close", self.client.close, out_trade_no=out_trade_no)
        if "_status" in data:
            # Never created there (e.g. the page never asked for a QR code): nothing to close.
            if data["code"] == "ORDER_NOT_EXIST" or data["_status"] == 404:
                return
            raise self._refuse("close", data)

    def refund(self, order: Any, *, out_refund_no: str | None = None, reason: str = "") -> dict:
        """A full refund under a fixed out_refund_no (the same number never refunds twice)."""
        from fanwen.orders.models import refund_no_for

        out_refund_no = out_refund_no or order.out_refund_no or refund_no_for(order.out_trade_no)
        kwargs: dict[str, Any] = {
            "out_refund_no": out_refund_no,
            "amount": {
                "refund": order.amount_fen,
                "total": order.amount_fen,
                "currency": order.currency,
            },
            "reason": reason[:80] or None,
        }
        if order.provider_txn_id:
            kwargs["transaction_id"] = order.provider_txn_id
        else:
            kwargs["out_trade_no"] = order.out_trade_no
        status, data = self._call("refund", self.client.refund, **kwargs)
        if "_status" in data:
            raise self._refuse("refund", data)
        return normalize_refund(data)

    def query_refund(self, out_refund_no: str) -> dict | None:
        status, data = self._call(
            "query_refund", self.client.query_refund, out_refund_no=out_refund_no
        )
        if "_status" in data:
            if data["code"] == "RESOURCE_NOT_EXISTS" or data["_status"] == 404:
                return None
            raise self._refuse("query_refund", data)
        return normalize_refund(data)

    # --- bills -----------------------------------------------------------------------------

    def trade_bill(self, bill_date: dt.date, bill_type: str = "ALL") -> list[dict]:
        """The day's trade bill (Asia/Shanghai), rows normalized; [] when WeChat has none.

        The bill is downloaded with the signed request the SDK makes and checked against the
        SHA1 WeChat gave (of the uncompressed file); a mismatch raises GatewayError.
        """
        status, data = self._call(
            "trade_bill",
            self.client.trade_bill,
            bill_date=bill_date.isoformat(),
            bill_type=bill_type,
        )
        if "_status" in data:
            # WeChat's answer for a day without a single transaction.
            if data["code"] in {"NO_STATEMENT_EXIST", "STATEMENT_NOT_EXIST"}:
                return []
            raise GatewayError(
                f"wechat trade_bill: {data['_status']} {data['code']} {data['message']}",
                provider_code=data["code"],
                http_status=data["_status"],
            )
        url = _required(data, "download_url", "trade_bill")
        hash_type = str(data.get("hash_type", "")).upper()
        expected = str(data.get("hash_value", "")).lower()
        if hash_type != "SHA1" or not expected:
            raise GatewayError(f"wechat trade_bill: hash {hash_type!r} is not SHA1")
        # The SDK signs the download and would send that to any host: only our gateway's.
        if not url.startswith(self.config.gateway + "/"):
            raise GatewayError(f"wechat trade_bill: download_url {url!r} is not on the gateway")
        try:
            status, content = self.client.download_bill(url)
        except requests.RequestException as exc:
            raise GatewayError(f"wechat download_bill: {type(exc).__name__}: {exc}") from exc
        except Exception as exc:
            raise GatewayError(f"wechat download_bill: {exc}") from exc
        if status != 200 or not isinstance(content, bytes):
            raise GatewayError(f"wechat download_bill: {status} {str(content)[:200]}")
        raw = _gunzip(content)
        actual = hashlib.sha1(raw).hexdigest()
        if not hmac.compare_digest(actual, expected):
            raise GatewayError(
                f"wechat download_bill: SHA1 {actual} does not match hash_value {expected}"
            )
        return parse_trade_bill(raw)

    # --- notifications ---------------------------------------------------------------------

    def parse_notification(self, headers: Mapping[str, Any], body: bytes | str) -> ProviderReport:
        """Verify a notification, decrypt its resource and report what it says.

        `headers` may be request.META or any mapping of HTTP header names. The report's raw is
        the event (id, event_type, create_time, summary) with `resource` as its plaintext.
        Cheap checks run first, so probes, replays and foreign serials never reach the crypto
        (and an unknown serial never makes the SDK fetch certificates).
        """
        found = notification_headers(headers)
        missing = [name for name in NOTIFICATION_HEADERS if not found.get(name)]
        if missing:
            raise MissingHeaders(
                f"missing Wechatpay-{', Wechatpay-'.join(h.title() for h in missing)}"
            )
        signature, serial, timestamp, nonce = (
            found["signature"],
            found["serial"],
            found["timestamp"],
            found["nonce"],
        )
        if signature.startswith(PROBE_PREFIX):
            raise ProbeSignature(f"probe signature from serial {serial!r}")
        if serial != self.config.public_key_id:
            raise UnknownSerial(
                f"serial {serial!r} is not our WeChat Pay public key {self.config.public_key_id!r}"
            )
        try:
            skew = abs(time.time() - int(timestamp))
        except ValueError:
            raise StaleTimestamp(f"timestamp {timestamp!r} is not a number") from None
        if skew > MAX_CLOCK_SKEW_SECONDS:
            raise StaleTimestamp(f"timestamp {timestamp} is {int(skew)} s off")
        signature_type = found.get("signature-type") or SIGNATURE_TYPE
        if signature_type != SIGNATURE_TYPE:
            raise BadSignature(f"signature type {signature_type!r} is not supported")
        try:
            text = body.decode("utf-8") if isinstance(body, bytes) else body
        except UnicodeDecodeError:
            raise MalformedNotification("body is not UTF-8") from None
        if not rsa_verify(timestamp, nonce, text, signature, self.platform_public_key):
            raise BadSignature(f"RSA-SHA256 signature does not verify (serial {serial})")
        return event_report(self._decrypt_event(text))

    def _decrypt_event(self, text: str) -> dict:
        try:
            event = json.loads(text)
        except ValueError:
            raise MalformedNotification("body is not JSON") from None
        resource = event.get("resource") if isinstance(event, dict) else None
        if not isinstance(resource, dict) or event.get("resource_type") != "encrypt-resource":
            raise MalformedNotification("no encrypted resource")
        if resource.get("algorithm") != "AEAD_AES_256_GCM":
            raise MalformedNotification(
                f"algorithm {resource.get('algorithm')!r} is not AEAD_AES_256_GCM"
            )
        nonce, ciphertext = resource.get("nonce"), resource.get("ciphertext")
        if not (isinstance(nonce, str) and isinstance(ciphertext, str) and nonce and ciphertext):
            raise MalformedNotification("resource lacks nonce or ciphertext")
        associated_data = resource.get("associated_data") or ""
        try:
            plaintext = aes_decrypt(
                nonce=nonce,
                ciphertext=ciphertext,
                associated_data=associated_data,
                apiv3_key=self.config.apiv3_key,
            )
        except (ValueError, TypeError) as exc:
            raise UndecryptableResource(f"resource does not decode: {exc}") from exc
        if plaintext is None:
            raise UndecryptableResource(
                "AES-256-GCM tag does not match: tampered ciphertext or wrong APIv3 key"
            )
        try:
            decrypted = json.loads(plaintext)
        except ValueError:
            raise MalformedNotification("decrypted resource is not JSON") from None
        if not isinstance(decrypted, dict):
            raise MalformedNotification("decrypted resource is not an object")
        return {
            "id": str(event.get("id", "")),
            "event_type": str(event.get("event_type", "")),
            "create_time": event.get("create_time", ""),
            "resource_type": event.get("resource_type"),
            "summary": event.get("summary", ""),
            "associated_data": associated_data,
            "resource": decrypted,
        }


# --- helpers -----------------------------------------------------------------------------


def notification_headers(headers: Mapping[str, Any]) -> dict[str, str]:
    """Wechatpay-* headers from request.META (HTTP_WECHATPAY_*) or any header mapping, any case."""
    lowered = {str(key).lower(): value for key, value in headers.items()}
    found: dict[str, str] = {}
    for name in (*NOTIFICATION_HEADERS, "signature-type"):
        meta_key = "http_wechatpay_" + name.replace("-", "_")
        value = lowered.get(meta_key, lowered.get("wechatpay-" + name))
        if value is not None:
            found[name] = str(value).strip()
    return found


def rfc3339(moment: dt.datetime) -> str:
    """WeChat wants RFC 3339 with the +08:00 offset, to the second."""
    return moment.astimezone(BEIJING).isoformat(timespec="seconds")


def parse_time(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=BEIJING)


def transaction_report(
    data: dict, *, event_id: str | None = None, event_type: str = "", raw: dict | None = None
) -> ProviderReport:
    """A query answer or a decrypted TRANSACTION.* resource as a report."""
    amount = data.get("amount") or {}
    payer = data.get("payer") or {}
    trade_state = str(data.get("trade_state", ""))
    total = amount.get("total")
    return ProviderReport(
        out_trade_no=str(data.get("out_trade_no", "")),
        state=STATES.get(trade_state, UNKNOWN),
        provider_state=trade_state,
        txn_id=str(data.get("transaction_id", "")),
        # amount.total is the order's price; payer_total can be lower when coupons paid part.
        amount_fen=total if isinstance(total, int) and not isinstance(total, bool) else None,
        currency=str(amount.get("currency", "CNY")),
        mchid=str(data.get("mchid", "")),
        appid=str(data.get("appid", "")),
        paid_at=parse_time(data.get("success_time")),
        payer_ref=str(payer.get("openid", "")),
        event_id=event_id,
        event_type=event_type,
        raw=raw if raw is not None else data,
    )


def event_report(event: dict) -> ProviderReport:
    """A verified, decrypted notification event as a report: a payment's, a refund's, or other."""
    resource = event["resource"]
    event_type = event["event_type"]
    raw = {key: event[key] for key in ("id", "event_type", "create_time", "summary")} | {
        "resource": resource
    }
    event_id = event["id"] or None
    if event_type.startswith("TRANSACTION."):
        return transaction_report(resource, event_id=event_id, event_type=event_type, raw=raw)
    refund_status = str(resource.get("refund_status", ""))
    return ProviderReport(
        out_trade_no=str(resource.get("out_trade_no", "")),
        state=REFUNDED if refund_status == "SUCCESS" else UNKNOWN,
        provider_state=refund_status,
        txn_id=str(resource.get("transaction_id", "")),
        mchid=str(resource.get("mchid", "")),
        event_id=event_id,
        event_type=event_type,
        out_refund_no=str(resource.get("out_refund_no", "")),
        refund_status=refund_status,
        raw=raw,
    )


def bill_report(row: dict) -> ProviderReport:
    """A row of the trade bill (parse_trade_bill) as a report; the bill is fetched signed."""
    return ProviderReport(
        out_trade_no=row["out_trade_no"],
        state=STATES.get(row["state"], UNKNOWN),
        provider_state=row["state"],
        txn_id=row["txn_id"],
        amount_fen=row["amount_fen"],
        currency=row["currency"] or "CNY",
        mchid=row["mchid"],
        appid=row["appid"],
        paid_at=row["paid_at"],
        payer_ref=row["payer_ref"],
        raw=row["raw"],
    )


BILL_SUMMARY_FIRST_COLUMN = "总交易单数"
BILL_COLUMNS = {
    "paid_at": "交易时间",
    "appid": "公众账号ID",
    "mchid": "商户号",
    "txn_id": "微信订单号",
    "out_trade_no": "商户订单号",
    "payer_ref": "用户标识",
    "state": "交易状态",
    "currency": "货币种类",
    "out_refund_no": "商户退款单号",
    "refund_id": "微信退款单号",
}


def yuan_to_fen(value: str) -> int:
    """ "5.99" → 599, exactly (fanwen.lib.money); anything but whole fen raises GatewayError."""
    try:
        return money.yuan_to_fen(value)
    except money.AmountError as exc:
        raise GatewayError(f"bill amount: {exc}") from None


def _gunzip(content: bytes) -> bytes:
    if content[:2] != b"\x1f\x8b":
        return content
    try:
        return gzip.decompress(content)
    except (OSError, EOFError) as exc:
        raise GatewayError(f"wechat download_bill: bad gzip: {exc}") from exc


def parse_trade_bill(raw: bytes) -> list[dict]:
    """WeChat's trade bill CSV (values prefixed with a backtick) → rows, read by header name."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise GatewayError("trade bill is not UTF-8") from None
    lines = [line for line in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in line)]
    if not lines:
        return []
    header = [cell.strip() for cell in lines[0]]
    needed = [*BILL_COLUMNS.values()]
    missing = [name for name in needed if name not in header]
    if missing or ("订单金额" not in header and "应结订单金额" not in header):
        raise GatewayError(f"trade bill lacks columns {', '.join(missing) or '订单金额'}")
    amount_column = "订单金额" if "订单金额" in header else "应结订单金额"
    rows: list[dict] = []
    for line in lines[1:]:
        if line and line[0].strip() == BILL_SUMMARY_FIRST_COLUMN:
            break
        if len(line) != len(header):
            raise GatewayError(f"trade bill row has {len(line)} columns, header {len(header)}")
        record = {
            name: value.strip().removeprefix("`") for name, value in zip(header, line, strict=True)
        }
        row: dict[str, Any] = {key: record.get(column, "") for key, column in BILL_COLUMNS.items()}
        try:
            paid_at = dt.datetime.strptime(row["paid_at"], "%Y-%m-%d %H:%M:%S")
        except ValueError:
            raise GatewayError(f"trade bill time {row['paid_at']!r} is not valid") from None
        row["paid_at"] = paid_at.replace(tzinfo=BEIJING)
        row["amount_fen"] = yuan_to_fen(record.get(amount_column, ""))
        row["refund_fen"] = yuan_to_fen(record.get("退款金额") or "0")
        row["raw"] = record
        rows.append(row)
    return rows


def normalize_refund(data: dict) -> dict:
    amount = data.get("amount") or {}
    return {
        "out_refund_no": str(data.get("out_refund_no", "")),
        "refund_id": str(data.get("refund_id", "")),
        "status": str(data.get("status") or data.get("refund_status") or ""),
        "amount_fen": amount.get("refund"),
        "out_trade_no": str(data.get("out_trade_no", "")),
        "raw": data,
    }


def _json_or_empty(text: Any) -> dict:
    if not text:
        return {}
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except ValueError:
        return {"message": str(text)[:200]}
    return data if isinstance(data, dict) else {}


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _required(data: dict, field: str, action: str) -> str:
    value = data.get(field)
    if not value:
        raise GatewayError(f"wechat {action}: answer has no {field}")
    return str(value)
