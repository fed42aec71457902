"""The sandbox on a production site lets anyone "pay" with one click: refuse to start."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register


@register()
def sandbox_not_in_production(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    # Registered by the sandbox app, which is installed only while FANWEN_SANDBOX is on.
    if getattr(settings, "PRODUCTION", False) and getattr(settings, "FANWEN_SANDBOX", False):
        return [
            Error(
                "FANWEN_SANDBOX is on with FANWEN_PRODUCTION: the payment emulators at /sandbox/ "
                "would grant access without a real payment.",
                hint="Unset FANWEN_SANDBOX (or set it to 0) on a production site.",
                id="fanwen.E001",
            )
        ]
    return []
