"""/healthz: is this node able to serve, and is the rest of the site keeping up?

Each check is timed and reports its error. The database failing is "down" (503: take the
node out of the balancer); anything else failing is "degraded" (200: pages are still served,
someone should look). Cheap enough for a probe every few seconds: one SELECT 1, one cache
round trip, a Redis PING, a search for a word and the index's lag behind the search log, the
newest heartbeat row.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

# Checks whose failure takes the node out; the others only degrade it.
CRITICAL = {"database"}
# The probe's Redis client: short timeouts, so a hung Redis answers "degraded" quickly.
REDIS_TIMEOUT_SECONDS = 1.0


class Late(Exception):
    """A check that answered, with an answer that is not good enough (a stale heartbeat)."""


def check_database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {}


def check_cache() -> dict[str, Any]:
    key = "healthz:probe"
    value = str(time.time_ns())
    cache.set(key, value, 30)
    if cache.get(key) != value:
        raise Late("the cache did not return what was just stored")
    return {}


_redis_client = None


def check_redis() -> dict[str, Any] | None:
    if not settings.REDIS_URL:
        return None  # not configured: not reported
    global _redis_client
    if _redis_client is None:
        import redis

        _redis_client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )
    _redis_client.ping()
    return {}


def check_search() -> dict[str, Any]:
    from fanwen import search
    from fanwen.ops.models import stale_seconds
    from fanwen.search import follow

    # Opens the index (once per process) and runs a real query through the facade.
    results = search.search("范文", per_page=1)
    # The oldest change on the search log this node's index has not applied yet.
    oldest = follow.pending().values_list("created_at", flat=True).first()
    behind = 0.0 if oldest is None else (timezone.now() - oldest) / timedelta(seconds=1)
    if behind > stale_seconds():
        raise Late(f"the index is {behind:.0f}s behind the search log")
    return {"documents_matched": results.total, "behind_seconds": round(behind, 1)}


def check_worker() -> dict[str, Any]:
    from fanwen.ops.models import WorkerHeartbeat, stale_seconds

    newest = WorkerHeartbeat.objects.order_by("-seen_at").values_list("seen_at", flat=True).first()
    limit = stale_seconds()
    if newest is None:
        raise Late("no worker heartbeat: is `fanwen worker` running?")
    age = (timezone.now() - newest) / timedelta(seconds=1)
    if age > limit:
        raise Late(f"the newest worker heartbeat is {age:.0f}s old (limit {limit}s)")
    return {"age_seconds": round(age, 1)}


CHECKS: dict[str, Callable[[], dict[str, Any] | None]] = {
    "database": check_database,
    "cache": check_cache,
    "redis": check_redis,
    "search": check_search,
    "worker": check_worker,
}


def run_checks() -> tuple[str, dict[str, dict[str, Any]]]:
    """("ok" | "degraded" | "down", {check: {"ok", "ms", "error", ...}})."""
    results: dict[str, dict[str, Any]] = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            detail = check()
        except Exception as exc:  # any failure is the check's answer, not the probe's crash
            detail, error = {}, f"{type(exc).__name__}: {exc}"[:500]
        else:
            if detail is None:
                continue
            error = None
        results[name] = {
            "ok": error is None,
            "ms": round((time.perf_counter() - started) * 1000, 2),
            "error": error,
            **detail,
        }
        if name == "database" and error is not None:
            # The heartbeat read needs the database too: it has answered already.
            break
    failed = {name for name, result in results.items() if not result["ok"]}
    if failed & CRITICAL:
        status = "down"
    elif failed:
        status = "degraded"
    else:
        status = "ok"
    return status, results
