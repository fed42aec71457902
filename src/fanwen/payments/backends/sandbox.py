"""The embedded default: the real WeChat Pay backend, pointed at the local emulator with generated keys.

Only the keys and the host differ from production, so the demo and the tests run the real
signing, answer verification and notification decryption code.

OPTIONS (all optional): gateway (default FANWEN_SANDBOX_ORIGIN + /sandbox/wechat),
notify_url (default FANWEN_SANDBOX_ORIGIN + the notify path), timeout, provider ("sandbox"),
oauth_authorize_url and oauth_token_url (default: the emulated WeChat OAuth at that origin).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from fanwen.payments.backends.wechat import WeChatPayBackend
from fanwen.payments.sandbox.keys import load_keys


class SandboxBackend(WeChatPayBackend):
    provider = "sandbox"

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
        return str(
            getattr(settings, "FANWEN_SANDBOX_ORIGIN", "")
            or settings.SITE_URL
            or "http://127.0.0.1:8000"
        ).rstrip("/")

    def create(self, order: Any, channel: str, client_ip: str, openid: str | None = None) -> dict:
        result = super().create(order, channel, client_ip, openid)
        if channel == "jsapi":
            # WeixinJSBridge exists only inside WeChat: the sandbox payer page stands in for it.
            result["sandbox_pay_url"] = reverse("sandbox:pay-prepay", args=[result["prepay_id"]])
        return result

    def default_notify_url(self) -> str:
        # The emulator posts here, so it must reach this server: the same origin it is served from.
        return self.origin() + self.notify_path()
