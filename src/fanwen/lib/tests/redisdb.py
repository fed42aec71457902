"""A pytest plugin (`-p fanwen.lib.tests.redisdb`): a Redis database per test process.

With REDIS_URL set, Django's cache is Redis, and RedisCache.clear() is FLUSHDB: test processes
sharing a database would empty each other's cache (and counters) mid-test. xdist worker gwN
gets the database REDIS_URL names plus N (redis://host/8: gw0 → 8, gw1 → 9, …); a run without
xdist keeps the named one. REDIS_URL is rewritten before pytest-django loads the settings, so
the live server of the browser tests and the processes tests start use that database too.
Without REDIS_URL nothing changes (the in-process cache).
"""

from __future__ import annotations

import os
from urllib.parse import parse_qs, urlsplit, urlunsplit

import pytest
import redis


def database_of(url: str) -> int:
    parts = urlsplit(url)
    if "db" in parse_qs(parts.query):
        raise pytest.UsageError(f"REDIS_URL={url}: name the database in the path (…/8), not ?db=")
    path = parts.path.strip("/")
    if not path.isdigit():
        raise pytest.UsageError(f"REDIS_URL={url}: the path must be a database number (…/8)")
    return int(path)


def with_database(url: str, db: int) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{db}"))


def worker_index(worker: str | None) -> int:
    """gw3 → 3; 0 outside xdist."""
    return int(worker.removeprefix("gw")) if worker else 0


def databases_on(url: str) -> int:
    """How many databases the server has (`databases` in redis.conf, 16 by default)."""
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        return int(client.config_get("databases")["databases"])
    except redis.exceptions.ConnectionError as exc:
        raise pytest.UsageError(f"REDIS_URL={url}: no Redis answers there ({exc})") from exc
    except (redis.exceptions.ResponseError, KeyError):
        return 16  # CONFIG disabled (a managed Redis): the default
    finally:
        client.close()


def check_room(url: str, processes: int) -> None:
    base = database_of(url)
    have = databases_on(url)
    if base + processes > have:
        raise pytest.UsageError(
            f"REDIS_URL={url}: {processes} test process(es) need Redis databases "
            f"{base}–{base + processes - 1}, but the server has {have} (0–{have - 1}); "
            "run fewer workers (-n) or name a lower database"
        )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    # Before pytest-django's hook of the same name, which loads the settings.
    url = os.environ.get("REDIS_URL")
    if not url:
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is not None:
        os.environ["REDIS_URL"] = with_database(url, database_of(url) + worker_index(worker))


def pytest_configure(config: pytest.Config) -> None:
    url = os.environ.get("REDIS_URL")
    if not url or os.environ.get("PYTEST_XDIST_WORKER") is not None:
        return
    # The controller knows how many workers -n starts (numbers already resolved by xdist);
    # saying so here beats one of them failing to start.
    processes = config.getoption("numprocesses", None) or 1
    check_room(url, processes if isinstance(processes, int) else 1)


@pytest.fixture(autouse=True, scope="session")
def _empty_redis_database() -> None:
    """What an earlier (or killed) run left in this process's database goes before the first
    test, as an in-process cache starts empty."""
    url = os.environ.get("REDIS_URL")
    if url:
        client = redis.Redis.from_url(url)
        try:
            client.flushdb()
        finally:
            client.close()
