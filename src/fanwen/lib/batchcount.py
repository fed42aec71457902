"""Counters kept in the cache and written to the database in batches, not on every hit.

A hit is one cache incr. When a counter's pending count reaches `every()` the request that saw
it hands the batch to `write(ident, n)` (one UPDATE or upsert); a flush job writes whatever is
pending below the threshold. Works with any Django cache whose incr/decr are atomic (locmem,
Redis). With the in-process locmem cache each worker keeps its own counters, so pending
counts below the threshold die with the process.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

from django.core.cache import cache

K = TypeVar("K", bound=Hashable)

LOCK_SECONDS = 30


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

    def record(self, ident: K, n: int = 1) -> None:
        key = self.key(ident)
        try:
            pending = cache.incr(key, n)
        except ValueError:
            # First hit since the last flush: create the counter, unless another request just did.
            pending = n if cache.add(key, n, timeout=None) else cache.incr(key, n)
        if pending >= max(1, self.every()):
            self.flush(ident)

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
