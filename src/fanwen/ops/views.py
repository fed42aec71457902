"""/healthz for load balancers and monitors (checks in fanwen.ops.health)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from fanwen.ops.health import run_checks


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    # Reads no session or visitor cookie and sets none; not a reading page, so not rate-limited.
    status, checks = run_checks()
    return JsonResponse(
        {"status": status, "checks": checks},
        status=503 if status == "down" else 200,
        json_dumps_params={"ensure_ascii": False},
    )
