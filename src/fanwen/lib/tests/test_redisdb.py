"""The test plugin that gives each xdist worker a Redis database of its own."""

import pytest

from fanwen.lib.tests import redisdb


def test_each_worker_gets_the_named_database_plus_its_number():
    url = "redis://127.0.0.1:6379/8"
    urls = {
        worker: redisdb.with_database(url, redisdb.database_of(url) + redisdb.worker_index(worker))
        for worker in (None, "gw0", "gw1", "gw5")
    }
    assert urls == {
        None: "redis://127.0.0.1:6379/8",
        "gw0": "redis://127.0.0.1:6379/8",
        "gw1": "redis://127.0.0.1:6379/9",
        "gw5": "redis://127.0.0.1:6379/13",
    }
    assert redisdb.with_database("redis://:pw@cache:6380/2", 11) == "redis://:pw@cache:6380/11"


def test_a_url_without_a_database_number_is_refused():
    for url in ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379/?db=8"):
        with pytest.raises(pytest.UsageError, match="REDIS_URL"):
            redisdb.database_of(url)


def test_more_workers_than_databases_stop_the_run_saying_so(monkeypatch):
    monkeypatch.setattr(redisdb, "databases_on", lambda url: 16)
    redisdb.check_room("redis://127.0.0.1:6379/8", 8)  # 8–15: room
    with pytest.raises(pytest.UsageError, match=r"9 test process\(es\) need Redis databases 8–16"):
        redisdb.check_room("redis://127.0.0.1:6379/8", 9)
