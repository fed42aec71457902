"""A fixed-window counter in Django's cache: enough to stop a script hammering order creation."""

from __future__ import annotations

import time

from django.core.cache import cache
from django.http import HttpRequest, JsonResponse

MESSAGE = "操作太频繁，请稍后再试。"


def client_ip(request: HttpRequest) -> str:
    # Behind nginx, REMOTE_ADDR must be set from the proxy header by the proxy setup, not here.
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def hit(scope: str, ident: str, *, limit: int, window: int) -> bool:
    """Count one hit for `ident` in the current window; False once it is over `limit`."""
    if limit <= 0:
        return True
    bucket = int(time.time() // window)
    key = f"fanwen:rl:{scope}:{ident}:{bucket}"
    # add() then incr(): atomic on Redis and locmem, so parallel requests cannot undercount.
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key)
    except ValueError:
        # Evicted between add and incr: count this hit as the first.
        cache.set(key, 1, timeout=window + 1)
        count = 1
    return count <= limit


def limited(
    request: HttpRequest,
    scope: str,
    visitor_id: str | None,
    *,
    limit: int,
    ip_limit: int,
    window: int,
) -> JsonResponse | None:
    """A 429 answer when this visitor or this IP went over its limit, else None (both are counted).

    The IP limit is the higher one: a school or an office shares one address.
    """
    checks = [hit(scope, "ip:" + client_ip(request), limit=ip_limit, window=window)]
    if visitor_id:
        checks.append(hit(scope, "v:" + visitor_id, limit=limit, window=window))
    if all(checks):
        return None
    response = JsonResponse({"code": "RateLimited", "message": MESSAGE}, status=429)
    response["Retry-After"] = str(window)
    return response
