"""Counters kept in the cache and written to the database in batches, not on every hit.

A hit is one cache incr. When a counter's pending count reaches `every()` the request that saw
it hands the batch to `write(ident, n)` (one UPDATE or upsert); a flush job writes whatever is
pending below the threshold. Works with any Django cache whose incr/decr are atomic (locmem,
Redis). With the in-process locmem cache each worker keeps its own counters, so pending
counts below the threshold die with the process.

With FANWEN_COUNT_BUFFER_SECONDS > 0 (the default with Redis) a process first adds its hits
up in memory and sends them all in one pipeline every that many seconds, at the latest from
a timer, and when the process exits: a page view then costs a dict update, not a round trip.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from redis.exceptions import RedisError

from fanwen.lib import rediscache

K = TypeVar("K", bound=Hashable)

LOCK_SECONDS = 30
log = logging.getLogger(__name__)


class BatchCounter(Generic[K]):
    def __init__(
        self,
        key: Callable[[K], str],
        write: Callable[[K, int], None],
        every: Callable[[], int],
    ) -> None:
        self.key = key
        self.write = write
        self.every = every
        # Hits of this process not yet sent to the cache (FANWEN_COUNT_BUFFER_SECONDS > 0).
        self._buffer: dict[K, int] = {}
        self._buffer_lock = threading.Lock()
        self._sent_at = time.monotonic()
        self._timer: threading.Timer | None = None
        atexit.register(self.send_buffered)

    def record(self, ident: K, n: int = 1) -> None:
        seconds = settings.FANWEN_COUNT_BUFFER_SECONDS
        if seconds <= 0:
            try:
                pending = self._increment({ident: n})
            except RedisError:
                # Redis is down: this hit goes straight to the database instead.
                self.write(ident, n)
                return
            self._flush_full(pending)
            return
        with self._buffer_lock:
            self._buffer[ident] = self._buffer.get(ident, 0) + n
            due = time.monotonic() - self._sent_at >= seconds
            if not due and self._timer is None:
                # A quiet process sends its last hits too, not only at the next hit or exit.
                self._timer = threading.Timer(seconds, self._send_from_timer)
                self._timer.daemon = True
                self._timer.start()
        if due:
            self.send_buffered()

    def _send_from_timer(self) -> None:
        try:
            self.send_buffered()
        finally:
            # A flush may have opened this thread's own database connection: not to be leaked.
            connections.close_all()

    def send_buffered(self) -> None:
        """Send this process's buffered hits to the cache (and flush those over the threshold)."""
        with self._buffer_lock:
            batch, self._buffer = self._buffer, {}
            self._sent_at = time.monotonic()
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        if not batch:
            return
        try:
            pending = self._increment(batch)
        except RedisError:
            # Redis is down: keep the hits for the next send rather than lose them.
            with self._buffer_lock:
                for ident, n in batch.items():
                    self._buffer[ident] = self._buffer.get(ident, 0) + n
            log.warning("counter hits kept in memory: the cache did not take them", exc_info=True)
            return
        self._flush_full(pending)

    def _increment(self, hits: dict[K, int]) -> dict[K, int]:
        """Add the hits to the shared counters; their pending counts after it."""
        keys = {ident: self.key(ident) for ident in hits}
        redis = rediscache.raw(next(iter(keys.values())))
        if redis is not None:
            client, _ = redis
            # INCRBY creates a missing counter (no expiry, like add()): one round trip for all.
            pipe = client.pipeline(transaction=False)
            for ident, key in keys.items():
                pipe.incrby(rediscache.full_key(key), hits[ident])
            return dict(zip(keys, pipe.execute(), strict=True))
        return {ident: self._local_incr(keys[ident], n) for ident, n in hits.items()}

    def _flush_full(self, pending: dict[K, int]) -> None:
        every = max(1, self.every())
        for ident, count in pending.items():
            if count >= every:
                self.flush(ident)

    @staticmethod
    def _local_incr(key: str, n: int) -> int:
        try:
            return cache.incr(key, n)
        except ValueError:
            # First hit since the last flush: create the counter, unless another request just did.
            return n if cache.add(key, n, timeout=None) else cache.incr(key, n)

    def flush(self, ident: K) -> int:
        """Move the pending count of one counter into the database; returns how many hits."""
        key = self.key(ident)
        # Only one flusher at a time, so the counter never goes below zero.
        if not cache.add(f"{key}:lock", 1, timeout=LOCK_SECONDS):
            return 0
        try:
            pending = cache.get(key) or 0
            if pending <= 0:
                return 0
            cache.decr(key, pending)
            try:
                self.write(ident, pending)
            except Exception:
                cache.incr(key, pending)
                raise
            return pending
        finally:
            cache.delete(f"{key}:lock")

    def pending(self, idents: Iterable[K]) -> dict[K, int]:
        keys = {self.key(ident): ident for ident in idents}
        return {keys[k]: v for k, v in cache.get_many(list(keys)).items() if v and v > 0}

    def flush_many(self, idents: Iterable[K]) -> tuple[int, int]:
        """Flush the pending counts of these counters: (hits written, counters touched)."""
        hits = touched = 0
        for ident in self.pending(idents):
            written = self.flush(ident)
            if written:
                hits, touched = hits + written, touched + 1
        return hits, touched
