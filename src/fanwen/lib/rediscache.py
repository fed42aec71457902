"""Redis as Django's cache, where an outage is a miss rather than an error page.

ForgivingRedisCache (the backend whenever REDIS_URL is set) answers a read as a miss and
drops a write while Redis cannot be reached, logging once per outage: pages are then
rendered from the database, which is slower but right. The counters that must not be
dropped handle the error themselves (ratelimit falls back to database counters, batchcount
keeps its hits in memory, pagecache owes the generation bump), so incr/decr still raise.

raw() gives the redis-py client behind the cache for the few hot paths that need one round
trip: Django's RedisCache.incr() checks EXISTS before INCRBY, and add() + incr() make three.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
# Seconds between two "Redis is down" warnings of one process.
WARN_EVERY = 10.0


class ForgivingRedisCache(RedisCache):
    _warned_at = 0.0

    def _unavailable(self, operation: str) -> None:
        now = time.monotonic()
        if now - ForgivingRedisCache._warned_at >= WARN_EVERY:
            ForgivingRedisCache._warned_at = now
            log.warning("Redis unreachable (%s): serving without the cache", operation)

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except RedisError:
            self._unavailable("get")
            return default

    def get_many(self, keys: Any, version: int | None = None) -> dict:
        try:
            return super().get_many(keys, version)
        except RedisError:
            self._unavailable("get_many")
            return {}

    def has_key(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().has_key(key, version)
        except RedisError:
            self._unavailable("has_key")
            return False

    def add(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except RedisError:
            self._unavailable("add")
            return False

    def set(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> None:
        try:
            super().set(key, value, timeout, version)
        except RedisError:
            self._unavailable("set")

    def set_many(self, data: dict, timeout: Any = None, version: int | None = None) -> list:
        try:
            return super().set_many(data, timeout, version)
        except RedisError:
            self._unavailable("set_many")
            return list(data)

    def touch(self, key: Any, timeout: Any = None, version: int | None = None) -> bool:
        try:
            return super().touch(key, timeout, version)
        except RedisError:
            self._unavailable("touch")
            return False

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().delete(key, version)
        except RedisError:
            self._unavailable("delete")
            return False

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        try:
            super().delete_many(keys, version)
        except RedisError:
            self._unavailable("delete_many")


def full_key(key: str) -> str:
    """The key as the default cache stores it (prefix and version added)."""
    return caches["default"].make_and_validate_key(key)


def raw(key: str) -> tuple[Any, str] | None:
    """(the redis-py client for writing `key`, the key as the cache stores it), or None when
    the default cache is not Redis. Its commands raise RedisError while Redis is down."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    full = backend.make_and_validate_key(key)
    # RedisCache keeps its client pool behind _cache (Django's own since 4.0).
    return backend._cache.get_client(full, write=True), full


def loads(raw: bytes | None) -> Any:
    """A value read with the raw client, decoded as the cache would (None stays None)."""
    if raw is None:
        return None
    return caches["default"]._cache._serializer.loads(raw)
