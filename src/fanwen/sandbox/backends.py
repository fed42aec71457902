"""The embedded default: the real WeChat Pay backend, pointed at the local emulator with generated keys.

Only the keys and the host differ from production, so the demo and the tests run the real
signing, answer verification and notification decryption code.

OPTIONS (all optional): gateway (default FANWEN_SANDBOX_ORIGIN + /sandbox/wechat),
notify_url (default FANWEN_SANDBOX_ORIGIN + the notify path), timeout, provider ("sandbox"),
oauth_authorize_url and oauth_token_url (default: the emulated WeChat OAuth at that origin).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from fanwen.payments.backends.alipay import AlipayBackend
from fanwen.payments.backends.wechat import WeChatPayBackend
from fanwen.sandbox.alipay_keys import load_alipay_keys
from fanwen.sandbox.keys import load_keys


def sandbox_origin() -> str:
    """Where the emulators are served, as the backends reach them (and they reach us back)."""
    return str(
        getattr(settings, "FANWEN_SANDBOX_ORIGIN", "")
        or settings.SITE_URL
        or "http://127.0.0.1:8000"
    ).rstrip("/")


def _sandbox_page(data: str, name: str) -> bool:
    # A payer page of the emulator, on whatever host the site is reached at.
    prefix = reverse(name, args=["TOKEN"]).removesuffix("TOKEN/")
    return urlsplit(data).path.startswith(prefix)


class SandboxBackend(WeChatPayBackend):
    provider = "sandbox"
    qr_is_page = True

    def resolve_options(self) -> dict[str, Any]:
        # With the emulator off, sandbox keys must not settle anything either.
        if not getattr(settings, "FANWEN_SANDBOX", False):
            raise ImproperlyConfigured("the sandbox payment backend needs FANWEN_SANDBOX on")
        options = load_keys().backend_options()
        origin = self.origin()
        options["gateway"] = origin + reverse("sandbox:create-native").split("/v3/")[0]
        options["oauth_authorize_url"] = origin + reverse("sandbox:oauth-authorize")
        options["oauth_token_url"] = origin + reverse("sandbox:oauth-token")
        options.update({key: value for key, value in self.options.items() if value})
        return options

    def origin(self) -> str:
        return sandbox_origin()

    def is_qr_link(self, data: str) -> bool:
        return super().is_qr_link(data) or _sandbox_page(data, "sandbox:pay")

    def create(
        self,
        order: Any,
        channel: str,
        client_ip: str,
        openid: str | None = None,
        return_url: str | None = None,
    ) -> dict:
        result = super().create(order, channel, client_ip, openid, return_url)
        if channel == "jsapi":
            # WeixinJSBridge exists only inside WeChat: the sandbox payer page stands in for it.
            result["pay_page_url"] = reverse("sandbox:pay-prepay", args=[result["prepay_id"]])
        return result

    def default_notify_url(self) -> str:
        # The emulator posts here, so it must reach this server: the same origin it is served from.
        return self.origin() + self.notify_path()


class AlipaySandboxBackend(AlipayBackend):
    """The real Alipay backend (python-alipay-sdk), pointed at the emulated gateway with generated keys.

    OPTIONS (all optional): gateway (default FANWEN_SANDBOX_ORIGIN + /sandbox/alipay/gateway.do),
    notify_url (default FANWEN_SANDBOX_ORIGIN + the notify path), return_url, timeout, provider.
    """

    provider = "alipay_sbx"
    qr_is_page = True

    def __init__(self, alias: str, options: dict[str, Any]) -> None:
        if not getattr(settings, "FANWEN_SANDBOX", False):
            raise ImproperlyConfigured("the Alipay sandbox backend needs FANWEN_SANDBOX on")
        merged = load_alipay_keys().backend_options()
        merged["gateway"] = sandbox_origin() + reverse("sandbox:alipay-gateway")
        merged.update({key: value for key, value in options.items() if value})
        super().__init__(alias, merged)

    def is_qr_link(self, data: str) -> bool:
        return super().is_qr_link(data) or _sandbox_page(data, "sandbox:alipay-pay")

    def notify_url(self) -> str:
        if self.options.get("notify_url"):
            return str(self.options["notify_url"])
        # The emulator posts here, so it must reach this server: the origin it is served from.
        if self.alias == getattr(settings, "PAYMENT_ALIPAY_BACKEND", ""):
            return sandbox_origin() + reverse("payments:alipay-notify")
        return sandbox_origin() + reverse("payments:alipay-notify-alias", args=[self.alias])
