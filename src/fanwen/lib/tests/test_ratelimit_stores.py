"""The counter stores: the cache (Redis or per process) and the database, and who may use which."""

from __future__ import annotations

import time
import types

import pytest

from fanwen.lib import ratelimit
from fanwen.protection.checks import rate_counters_shared
from fanwen.protection.models import RateCounter

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/0",
    }
}


@pytest.mark.django_db
def test_database_counters_count_take_back_and_start_again_each_window(settings, monkeypatch):
    settings.FANWEN_RATE_STORE = "database"
    assert [ratelimit.incr("t", "ip:a", window=60) for _ in range(3)] == [1, 2, 3]
    assert ratelimit.count("t", "ip:a", window=60) == 3
    assert ratelimit.count("t", "ip:b", window=60) == 0
    ratelimit.decr("t", "ip:a", window=60)
    ratelimit.decr("t", "ip:b", window=60)
    assert ratelimit.count("t", "ip:a", window=60) == 2
    assert ratelimit.count("t", "ip:b", window=60) == 0
    assert [ratelimit.hit("t", "ip:a", limit=3, window=60) for _ in range(2)] == [True, False]

    later = time.time() + 60
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(time=lambda: later))
    assert ratelimit.count("t", "ip:a", window=60) == 0
    assert ratelimit.hit("t", "ip:a", limit=3, window=60)


@pytest.mark.django_db
def test_expired_database_counters_are_swept(settings, monkeypatch):
    settings.FANWEN_RATE_STORE = "database"
    monkeypatch.setattr(ratelimit, "SWEEP_ONE_IN", 1)
    RateCounter.objects.create(name="fanwen:rl:t:old:1", hits=5, expires=int(time.time()) - 1)
    ratelimit.incr("t", "ip:a", window=60)
    assert list(RateCounter.objects.values_list("hits", flat=True)) == [1]


@pytest.mark.parametrize(
    ("production", "store", "caches", "refused"),
    [
        (True, "cache", LOCMEM, True),
        (True, "database", LOCMEM, False),
        (True, "cache", REDIS, False),
        # The demo: one process, its own counters are everyone's.
        (False, "cache", LOCMEM, False),
    ],
)
def test_production_refuses_counters_each_worker_keeps_alone(
    settings, production, store, caches, refused
):
    settings.PRODUCTION = production
    settings.FANWEN_RATE_STORE = store
    settings.CACHES = caches
    errors = rate_counters_shared()
    assert [e.id for e in errors] == (["protection.E001"] if refused else [])


def test_production_without_redis_counts_in_the_database_by_default(monkeypatch):
    import importlib

    from fanwen import settings as site_settings

    monkeypatch.setenv("FANWEN_PRODUCTION", "1")
    monkeypatch.setenv("SECRET_KEY", "x" * 50)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("FANWEN_RATE_STORE", raising=False)
    try:
        assert importlib.reload(site_settings).FANWEN_RATE_STORE == "database"
        monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
        assert importlib.reload(site_settings).FANWEN_RATE_STORE == "cache"
        monkeypatch.delenv("FANWEN_PRODUCTION")
        monkeypatch.delenv("REDIS_URL")
        assert importlib.reload(site_settings).FANWEN_RATE_STORE == "cache"
    finally:
        monkeypatch.undo()
        importlib.reload(site_settings)
