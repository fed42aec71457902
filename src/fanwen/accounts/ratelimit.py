"""Fixed-window attempt counters in Django's cache (locmem by default, Redis when configured)."""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest

# A restore number has 100 random bits, but a transaction number is shorter: keep guessing slow.
RESTORE_LIMIT = 5
RESTORE_WINDOW_SECONDS = 600


def client_ip(request: HttpRequest) -> str:
    # REMOTE_ADDR only: behind a proxy, the proxy must set it (X-Forwarded-For is forgeable).
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def hit(key: str, *, limit: int, window: int) -> bool:
    """Count one attempt under `key`; False once more than `limit` were made in the window."""
    cache_key = f"fanwen:rl:{key}"
    # add() starts the window only if none is running; incr() is atomic on Redis and locmem.
    cache.add(cache_key, 0, timeout=window)
    try:
        count = cache.incr(cache_key)
    except ValueError:
        # The window expired between add() and incr().
        cache.set(cache_key, 1, timeout=window)
        count = 1
    return count <= limit


def restore_allowed(ip: str, visitor_id: str | None) -> bool:
    """One attempt by this IP (and this visitor, when the browser has one); all keys are counted."""
    keys = [f"restore:ip:{ip}"]
    if visitor_id:
        keys.append(f"restore:visitor:{visitor_id}")
    results = [hit(key, limit=RESTORE_LIMIT, window=RESTORE_WINDOW_SECONDS) for key in keys]
    return all(results)
