"""Batched counters: buffered in the process, sent to Redis in one pipeline, never lost or doubled."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

from django.core.cache import cache

from fanwen.lib import ratelimit, rediscache
from fanwen.lib.batchcount import BatchCounter

HOUR = 3600  # a window no test run crosses


class Written:
    """A counter whose database is a dict: what reached it, and how many writes it took."""

    def __init__(self, every: int = 1000) -> None:
        self.rows: dict[str, int] = {}
        self.writes = 0
        self.counter = BatchCounter(lambda k: f"fw:test:{k}", self.write, lambda: every)

    def write(self, ident: str, n: int) -> None:
        self.rows[ident] = self.rows.get(ident, 0) + n
        self.writes += 1


def test_buffered_hits_reach_redis_together_after_the_interval(redis_cache, settings):
    settings.FANWEN_COUNT_BUFFER_SECONDS = 0.3
    written = Written()
    for n in range(30):
        written.counter.record("a" if n % 3 else "b")
    assert written.counter.pending(["a", "b"]) == {}  # still in this process
    time.sleep(0.6)  # the timer sends them
    assert written.counter.pending(["a", "b"]) == {"a": 20, "b": 10}


def test_a_hit_after_the_interval_sends_the_buffer_at_once(redis_cache, settings, monkeypatch):
    settings.FANWEN_COUNT_BUFFER_SECONDS = 60
    written = Written()
    written.counter.record("a")
    monkeypatch.setattr(written.counter, "_sent_at", time.monotonic() - 61)
    written.counter.record("a")
    assert written.counter.pending(["a"]) == {"a": 2}


def test_sent_counts_over_the_threshold_are_written_once(redis_cache, settings):
    settings.FANWEN_COUNT_BUFFER_SECONDS = 60
    written = Written(every=10)
    for _ in range(25):
        written.counter.record("a")
    written.counter.send_buffered()
    assert (written.rows, written.writes) == ({"a": 25}, 1)
    assert written.counter.pending(["a"]) == {}


def test_hits_from_many_threads_add_up_exactly(redis_cache, settings):
    settings.FANWEN_COUNT_BUFFER_SECONDS = 0.05
    written = Written(every=10**9)

    def read() -> None:
        for n in range(500):
            written.counter.record(f"a{n % 5}")

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    written.counter.send_buffered()
    assert written.counter.pending([f"a{n}" for n in range(5)]) == {f"a{n}": 800 for n in range(5)}


def test_hits_wait_in_memory_while_redis_is_down(redis_cache, settings):
    settings.FANWEN_COUNT_BUFFER_SECONDS = 60
    written = Written()
    up = settings.CACHES
    settings.CACHES = {
        "default": {**up["default"], "LOCATION": "redis://127.0.0.1:1/0"}  # nothing listens
    }
    for _ in range(7):
        written.counter.record("a")
    written.counter.send_buffered()  # fails, keeps them
    written.counter.record("a")
    settings.CACHES = up
    written.counter.send_buffered()
    assert written.counter.pending(["a"]) == {"a": 8}


def test_a_process_that_exits_sends_what_it_buffered(redis_cache):
    code = (
        "import django; django.setup()\n"
        "from fanwen.library import viewcount\n"
        "for _ in range(5): viewcount.record_view(424242)\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fanwen.settings",
        "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15",
        "FANWEN_CACHE_PREFIX": redis_cache,
        "FANWEN_COUNT_BUFFER_SECONDS": "3600",
    }
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    from fanwen.library import viewcount

    assert viewcount.pending_views([424242]) == {424242: 5}


def test_without_a_buffer_each_hit_is_in_redis_at_once(redis_cache, settings):
    settings.FANWEN_COUNT_BUFFER_SECONDS = 0
    written = Written()
    written.counter.record("a", 3)
    assert written.counter.pending(["a"]) == {"a": 3}
    assert cache.get("fw:test:a") == 3  # the cache API reads what INCRBY wrote


def test_redis_rate_counters_count_expire_and_do_not_undercount(redis_cache):
    assert [ratelimit.incr("t", "ip:a", window=HOUR) for _ in range(3)] == [1, 2, 3]
    assert ratelimit.count("t", "ip:a", window=HOUR) == 3
    bucket = int(time.time() // HOUR)
    client, key = rediscache.raw(f"fanwen:rl:t:ip:a:{bucket}")
    assert 0 < client.ttl(key) <= HOUR + 1
    ratelimit.decr("t", "ip:a", window=HOUR)
    assert ratelimit.count("t", "ip:a", window=HOUR) == 2

    seen: list[int] = []

    def hit() -> None:
        seen.extend(ratelimit.incr("t", "ip:b", window=HOUR) for _ in range(100))

    threads = [threading.Thread(target=hit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == list(range(1, 401))
