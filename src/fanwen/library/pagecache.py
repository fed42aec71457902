"""Rendered anonymous pages and shared fragments in Django's cache.

Every entry is stored as (generation, value). Any edit of an Article, Piece or Category
bumps the one generation number (see signals.py), so an entry written before the edit no
longer matches and is re-rendered: edits show at once, with no list of keys to purge.
A hit costs one cache round trip (get_many of the generation and the entry).

With a per-process cache (locmem, the default) the generation cannot live in the cache:
an edit saved by one gunicorn worker would leave the other workers serving the old page.
There it is the modification time of a stamp file under VAR_DIR, which every process on
the host sees for the price of one stat() call.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from redis.exceptions import RedisError

from fanwen.lib import gather, rediscache

GEN_KEY = "fw:gen"
T = TypeVar("T")


def _cache_is_per_process() -> bool:
    return settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")


def _stamp_path():
    return settings.VAR_DIR / "page-generation"


def _stamp_generation() -> int:
    try:
        return os.stat(_stamp_path()).st_mtime_ns
    except FileNotFoundError:
        _bump_stamp()
        return os.stat(_stamp_path()).st_mtime_ns


def _bump_stamp() -> None:
    path = _stamp_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        previous = os.stat(path).st_mtime_ns
    except FileNotFoundError:
        path.touch()
        previous = 0
    # Strictly increasing even when two bumps land within the clock's resolution.
    stamp = max(time.time_ns(), previous + 1000)
    os.utime(path, ns=(stamp, stamp))


# Set when this process saw Redis down: an edit made meanwhile (here or in another process)
# could not bump the generation, so pages kept from before it are dropped once Redis is back.
_bump_owed = False


def generation() -> int | None:
    """The current generation; None while the shared cache cannot be reached."""
    global _bump_owed
    if _cache_is_per_process():
        return _stamp_generation()
    if _bump_owed:
        _bump()
    gen = cache.get(GEN_KEY)
    if gen is None:
        # A fresh, ever-larger start value: a lost key can never revive entries of an old one.
        cache.add(GEN_KEY, time.time_ns(), timeout=None)
        gen = cache.get(GEN_KEY)
        if gen is None:
            _bump_owed = True  # the cache is down
    return gen


def _bump() -> None:
    global _bump_owed
    if _cache_is_per_process():
        _bump_stamp()
        return
    _bump_owed = False
    try:
        cache.incr(GEN_KEY)
    except ValueError:
        generation()
    except RedisError:
        _bump_owed = True


def purge_all() -> None:
    """Make every cached page and fragment stale; call after writes that skip signals."""
    # Inside bulk.coalesced(): once, when the block ends.
    if gather.gather_purge():
        return
    _bump()
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        # A page rendered before the commit would show the old rows: bump again after it,
        # once per transaction however many rows it saves.
        if not any(entry[1] is _bump for entry in connection.run_on_commit):
            transaction.on_commit(_bump)


def page_seconds() -> int:
    return settings.FANWEN_PAGE_CACHE_SECONDS


def lookup(key: str) -> tuple[Any, int]:
    """(value or None, current generation) in one round trip."""
    if _cache_is_per_process():
        gen = _stamp_generation()
        entry = cache.get(key)
        if entry is not None and entry[0] == gen:
            return entry[1], gen
        return None, gen
    if _bump_owed:
        _bump()
    got = cache.get_many([GEN_KEY, key])
    gen = got.get(GEN_KEY)
    if gen is None:
        return None, generation()
    entry = got.get(key)
    if entry is not None and entry[0] == gen:
        return entry[1], gen
    return None, gen


def owes_bump() -> bool:
    return _bump_owed


def queue_lookup(pipe: Any, key: str) -> None:
    """lookup() on a redis-py pipeline of the default cache's client (see looked_up)."""
    pipe.mget([rediscache.full_key(GEN_KEY), rediscache.full_key(key)])


def looked_up(reply: list[bytes | None]) -> Any:
    """The value of a queue_lookup reply when it is of the current generation, else None."""
    gen, entry = (rediscache.loads(raw) for raw in reply)
    if gen is not None and entry is not None and entry[0] == gen:
        return entry[1]
    return None


def store(key: str, value: Any, gen: int, seconds: int) -> None:
    # `gen` is the generation read before rendering, so a concurrent edit wins; without one
    # (the shared cache is down) nothing is kept.
    if seconds > 0 and gen is not None:
        cache.set(key, (gen, value), seconds)


def remember(name: str, build: Callable[[], T], seconds: int = 300) -> T:
    """A shared fragment (category tree, counts, related lists), rebuilt after any edit."""
    key = f"fw:f:{name}"
    value, gen = lookup(key)
    if value is None:
        value = build()
        store(key, value, gen, seconds)
    return value
