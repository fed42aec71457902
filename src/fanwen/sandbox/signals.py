"""Forget loaded sandbox keys when a test overrides the settings they are read from."""

from __future__ import annotations

from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver

WATCHED = {"VAR_DIR", "FANWEN_SANDBOX_DIR", "FANWEN_SANDBOX_ORIGIN"}


@receiver(setting_changed)
def forget_keys(*, setting: str, **kwargs: Any) -> None:
    if setting in WATCHED:
        from fanwen.sandbox.keys import forget_loaded_keys

        forget_loaded_keys()
