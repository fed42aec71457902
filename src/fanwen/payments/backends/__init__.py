"""PAYMENT_BACKENDS: payment backends by alias, built on first use and cached (like STORAGES).

PAYMENT_BACKENDS = {
    "sandbox": {"BACKEND": "fanwen.payments.backends.sandbox.SandboxBackend", "OPTIONS": {}},
    "wechat": {"BACKEND": "fanwen.payments.backends.wechat.WeChatPayBackend", "OPTIONS": {...}},
}

from fanwen.payments.backends import get_backend
backend = get_backend("sandbox")
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from fanwen.payments.backends.base import PaymentBackend


class InvalidBackendError(ImproperlyConfigured):
    pass


class PaymentBackends:
    def __init__(self) -> None:
        self._backends: dict[str, PaymentBackend] = {}
        # Two first requests at once must not build two clients for one alias.
        self._lock = threading.Lock()

    @property
    def configured(self) -> dict[str, dict[str, Any]]:
        return getattr(settings, "PAYMENT_BACKENDS", {})

    def __getitem__(self, alias: str) -> PaymentBackend:
        try:
            return self._backends[alias]
        except KeyError:
            pass
        with self._lock:
            if alias not in self._backends:
                self._backends[alias] = self.create_backend(alias)
            return self._backends[alias]

    def __contains__(self, alias: str) -> bool:
        return alias in self.configured

    def create_backend(self, alias: str) -> PaymentBackend:
        try:
            params = self.configured[alias]
        except KeyError:
            raise InvalidBackendError(
                f"payment backend {alias!r} is not in PAYMENT_BACKENDS"
            ) from None
        backend_path = params.get("BACKEND")
        if not backend_path:
            raise InvalidBackendError(f"payment backend {alias!r} has no BACKEND")
        try:
            backend_class = import_string(backend_path)
        except ImportError as exc:
            raise InvalidBackendError(
                f"cannot import payment backend {backend_path!r}: {exc}"
            ) from exc
        return backend_class(alias, dict(params.get("OPTIONS", {})))

    def reset(self) -> None:
        with self._lock:
            self._backends.clear()


backends = PaymentBackends()


def get_backend(alias: str | None = None) -> PaymentBackend:
    """The backend for `alias`; without one, the backend that takes WeChat Pay here."""
    return backends[alias or settings.PAYMENT_WECHAT_BACKEND]


def alias_for_channel(channel: str) -> str:
    """The alias that takes `channel` here ("" when that provider is not configured)."""
    if channel.startswith("alipay_"):
        alias = getattr(settings, "PAYMENT_ALIPAY_BACKEND", "")
    else:
        alias = settings.PAYMENT_WECHAT_BACKEND
    return alias if alias and alias in backends else ""


def backend_for_provider(provider: str) -> PaymentBackend | None:
    """The backend that settles orders of `provider` (an Order.provider value), or None."""
    alipay = getattr(settings, "PAYMENT_ALIPAY_BACKEND", "")
    preferred = [alipay, settings.PAYMENT_WECHAT_BACKEND]
    if provider != "alipay":
        preferred.reverse()
    for alias in dict.fromkeys([*preferred, *backends.configured]):
        if not alias or alias not in backends:
            continue
        params = backends.configured[alias]
        # Decided from the settings, so no other alias gets built (or its keys loaded) on the way.
        try:
            backend_class = import_string(params.get("BACKEND", ""))
        except ImportError:
            continue
        options = params.get("OPTIONS") or {}
        if str(options.get("provider") or getattr(backend_class, "provider", "")) == provider:
            return backends[alias]
    return None
