"""System checks of the protection app."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register

from fanwen.lib.ratelimit import uses_shared_store


@register()
def rate_counters_shared(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Production counts limits where all workers see them, or each worker lets its own quota by."""
    if not settings.PRODUCTION or uses_shared_store():
        return []
    return [
        Error(
            "Rate-limit counters are per process: with several workers each counts alone.",
            hint="Set REDIS_URL, or FANWEN_RATE_STORE=database.",
            id="protection.E001",
        )
    ]
