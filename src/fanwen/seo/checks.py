"""Push settings that cannot work say so at start-up instead of pushing nothing quietly."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register

INDEXNOW_KEY = re.compile(r"^[A-Za-z0-9-]{8,128}$")


@register()
def push_settings(app_configs: Any = None, **kwargs: Any) -> list:
    problems: list = []
    asked = settings.FANWEN_BAIDU_PUSH_TOKEN or settings.FANWEN_INDEXNOW_KEY
    if asked and not settings.FANWEN_PUSH_ORIGIN:
        problems.append(
            Warning(
                "A Baidu token or IndexNow key is set but no origin for the pushed URLs: "
                "nothing is pushed.",
                hint="Set FANWEN_SITE_URL (or FANWEN_PUSH_ORIGIN), e.g. https://www.example.cn.",
                id="fanwen.W101",
            )
        )
    if settings.FANWEN_INDEXNOW_KEY and not INDEXNOW_KEY.match(settings.FANWEN_INDEXNOW_KEY):
        problems.append(
            Error(
                "FANWEN_INDEXNOW_KEY must be 8-128 letters, digits or dashes.",
                hint="e.g. the output of: python -c 'import uuid; print(uuid.uuid4().hex)'",
                id="fanwen.E101",
            )
        )
    return problems
