"""A provider alias that names no configured backend is a typo, not "payments off": say so."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register


@register()
def provider_aliases_exist(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors = []
    for setting in ("PAYMENT_WECHAT_BACKEND", "PAYMENT_ALIPAY_BACKEND"):
        alias = getattr(settings, setting, "")
        if alias and alias not in getattr(settings, "PAYMENT_BACKENDS", {}):
            errors.append(
                Error(
                    f"{setting}={alias!r} names no backend in PAYMENT_BACKENDS.",
                    hint="Set the provider's keys (WECHATPAY_MCHID / ALIPAY_APPID), turn the "
                    "sandbox on for a sandbox alias (FANWEN_SANDBOX=1, never in production), "
                    "or leave it unset.",
                    id="fanwen.E002",
                )
            )
    return errors
