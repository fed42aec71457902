"""Fixed-window attempt counters that every worker shares.

Two stores (FANWEN_RATE_STORE): "cache" is Django's default cache — Redis when REDIS_URL is
set, where add() + incr() are atomic across processes; without Redis it is the in-process
locmem cache, right for the single-process demo only (each gunicorn worker would count
alone). "database" is one row per counter, bumped by an atomic upsert: correct with any
number of workers, for production without Redis. The system check protection.E001 refuses a
production start that would count per process.
"""

from __future__ import annotations

import ipaddress
import math
import random
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F
from django.http import HttpRequest
from redis.exceptions import RedisError

from fanwen.lib import rediscache
from fanwen.lib.clientip import client_ip

__all__ = [
    "allowed",
    "client_ip",
    "count",
    "decr",
    "hit",
    "incr",
    "ip_key",
    "seconds_left",
    "uses_shared_store",
]

# One in this many database hits also deletes expired counters.
SWEEP_ONE_IN = 500


def uses_shared_store() -> bool:
    """Whether every worker sees the same counters."""
    if settings.FANWEN_RATE_STORE == "database":
        return True
    backend = settings.CACHES["default"]["BACKEND"]
    return not backend.endswith(("LocMemCache", "DummyCache"))


def ip_key(ip: str) -> str:
    """The counter name of an address: an IPv6 client owns a whole /64, so that is one counter."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return "ip:" + ip
    if address.version == 6:
        return "ip:" + str(ipaddress.ip_network(f"{address}/64", strict=False))
    return "ip:" + str(address)


def _window(window: int) -> tuple[int, int]:
    """(this window's number, its end in epoch seconds)."""
    bucket = int(time.time() // window)
    return bucket, (bucket + 1) * window


def seconds_left(window: int) -> int:
    """Seconds until the current fixed window ends (at least 1)."""
    return max(1, math.ceil(window - time.time() % window))


def _key(scope: str, ident: str, bucket: int) -> str:
    return f"fanwen:rl:{scope}:{ident}:{bucket}"


def queue_incr(pipe: Any, scope: str, ident: str, *, window: int) -> None:
    """Queue one hit on a redis-py pipeline of the default cache's client: two replies (the
    count, then the expiry's) come back from pipe.execute()."""
    bucket, _ = _window(window)
    full_key = rediscache.full_key(_key(scope, ident, bucket))
    pipe.incr(full_key)
    # Every hit renews the expiry: the window is in the key's name, so this only cleans up.
    pipe.expire(full_key, window + 1)


def _cache_incr(key: str, window: int) -> int:
    redis = rediscache.raw(key)
    if redis is not None:
        client, full_key = redis
        try:
            # INCR + EXPIRE in one round trip (RedisCache's add + incr take three).
            pipe = client.pipeline(transaction=False)
            pipe.incr(full_key)
            pipe.expire(full_key, window + 1)
            return int(pipe.execute()[0])
        except RedisError:
            # Redis is down: the limit still holds, counted in the database until it is back.
            return _db_incr(key, _window(window)[1])
    # add() then incr(): atomic on locmem too, so parallel requests cannot undercount.
    cache.add(key, 0, timeout=window + 1)
    try:
        return cache.incr(key)
    except ValueError:
        # Evicted between add and incr: count this hit as the first.
        cache.set(key, 1, timeout=window + 1)
        return 1


def _db_incr(key: str, expires: int) -> int:
    from fanwen.protection.models import RateCounter

    table = connection.ops.quote_name(RateCounter._meta.db_table)
    # One statement: concurrent workers each get their own, strictly increasing count.
    sql = (
        f"INSERT INTO {table} (name, hits, expires) VALUES (%s, 1, %s) "
        f"ON CONFLICT (name) DO UPDATE SET hits = {table}.hits + 1 RETURNING hits"
    )
    # atomic(): on SQLite the write then queues on the project's write lock like any other.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [key, expires])
        hits = cursor.fetchone()[0]
        if random.randrange(SWEEP_ONE_IN) == 0:
            RateCounter.objects.filter(expires__lt=int(time.time())).delete()
    return hits


def incr(scope: str, ident: str, *, window: int) -> int:
    """Count one hit for `ident` in the current window; the count after it."""
    bucket, ends = _window(window)
    key = _key(scope, ident, bucket)
    if settings.FANWEN_RATE_STORE == "database":
        return _db_incr(key, ends)
    return _cache_incr(key, window)


def decr(scope: str, ident: str, *, window: int) -> None:
    """Take back one hit counted in the current window (nothing when there is none)."""
    bucket, _ = _window(window)
    key = _key(scope, ident, bucket)
    if settings.FANWEN_RATE_STORE == "database":
        from fanwen.protection.models import RateCounter

        RateCounter.objects.filter(name=key, hits__gt=0).update(hits=F("hits") - 1)
        return
    try:
        cache.decr(key)
    except (ValueError, RedisError):
        pass


def count(scope: str, ident: str, *, window: int) -> int:
    """This window's count for `ident`, without counting."""
    bucket, _ = _window(window)
    key = _key(scope, ident, bucket)
    if settings.FANWEN_RATE_STORE == "database":
        from fanwen.protection.models import RateCounter

        row = RateCounter.objects.filter(name=key).values_list("hits", flat=True).first()
        return row or 0
    return cache.get(key, 0)


def hit(scope: str, ident: str, *, limit: int, window: int) -> bool:
    """Count one hit for `ident` in the current window; False once it is over `limit`."""
    if limit <= 0:
        return True
    return incr(scope, ident, window=window) <= limit


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
    checks = [hit(scope, ip_key(client_ip(request)), limit=ip_limit, window=window)]
    if visitor_id:
        checks.append(hit(scope, "v:" + visitor_id, limit=limit, window=window))
    return all(checks)
