"""PAYMENT_BACKENDS: payment backends by alias, built on first use and cached (like STORAGES).

PAYMENT_BACKENDS = {
    "wechat": {"BACKEND": "fanwen.payments.backends.wechat.WeChatPayBackend", "OPTIONS": {...}},
    "alipay": {"BACKEND": "fanwen.payments.backends.alipay.AlipayBackend", "OPTIONS": {...}},
}

from fanwen.payments.backends import get_backend
backend = get_backend("wechat")
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from fanwen.lib.backends import BackendHandler, InvalidBackendError
from fanwen.payments.backends.base import PaymentBackend

__all__ = ["InvalidBackendError", "backends"]


class PaymentBackends(BackendHandler[PaymentBackend]):
    setting = "PAYMENT_BACKENDS"
    kind = "payment"


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


def is_payment_link(data: str) -> bool:
    """Whether `data` is what a configured backend's QR codes carry (the QR view draws no other)."""
    for alias in backends.configured:
        try:
            if backends[alias].is_qr_link(data):
                return True
        except (ImproperlyConfigured, InvalidBackendError):
            continue
    return False
