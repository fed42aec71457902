"""Fixed-window attempt counters in Django's cache (locmem by default, Redis when configured)."""

from __future__ import annotations

import time

from django.core.cache import cache
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    # REMOTE_ADDR only: behind nginx the proxy setup must set it (X-Forwarded-For is forgeable).
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


def allowed(
    request: HttpRequest,
    scope: str,
    visitor_id: str | None,
    *,
    limit: int,
    ip_limit: int,
    window: int,
) -> bool:
    """Count one attempt for this IP and (when known) this visitor; False if either is over."""
    checks = [hit(scope, "ip:" + client_ip(request), limit=ip_limit, window=window)]
    if visitor_id:
        checks.append(hit(scope, "v:" + visitor_id, limit=limit, window=window))
    return all(checks)
