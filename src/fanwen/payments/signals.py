"""Forget built backends when a test overrides the settings they read."""

from __future__ import annotations

from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver

WATCHED = {
    "PAYMENT_BACKENDS",
    "PAYMENT_WECHAT_BACKEND",
    "VAR_DIR",
    "FANWEN_SANDBOX_DIR",
    "FANWEN_SANDBOX_ORIGIN",
    "PAYMENT_ALIPAY_BACKEND",
}


@receiver(setting_changed)
def reset_payment_backends(*, setting: str, **kwargs: Any) -> None:
    if setting in WATCHED:
        from fanwen.payments.backends import backends

        backends.reset()
