"""Settings every test starts from (the tests that need otherwise change them back)."""

import os
import uuid

import pytest


@pytest.fixture(autouse=True)
def reading_defaults(settings, tmp_path_factory):
    # Tests read pages many times from one IP; the page limit tests turn the limits on.
    settings.FANWEN_PAGE_RATE_LIMIT = 0
    settings.FANWEN_PAGE_IP_RATE_LIMIT = 0
    # Building a protection font takes seconds: only the tests about fonts and the paywall
    # ask for the font level (and get a directory of their own).
    settings.FANWEN_PROTECTION = "js"
    settings.FANWEN_FONT_DIR = str(tmp_path_factory.getbasetemp() / "fonts")
    # State files (the page-cache stamp, sandbox keys) of this run only: a run beside another
    # (or beside `make run`) must not see that one's edits.
    settings.VAR_DIR = tmp_path_factory.getbasetemp() / "var"
    # No search-engine pushes (the sandbox would aim them at 127.0.0.1:8000): the tests of
    # fanwen.seo set the engines they push to.
    settings.SEO_PUSH_ENGINES = {}
    # No search-log check before a search: tests say when the index catches up (apply_outbox).
    settings.FANWEN_SEARCH_SYNC_SECONDS = 0
    # Counter hits reach the cache at once: the tests of batchcount turn the buffer on.
    settings.FANWEN_COUNT_BUFFER_SECONDS = 0
    # Test processes share the machine with their live servers and browsers: no thread of
    # theirs (the font builder) gives way; tests of fanwen.lib.priority set their own.
    settings.FANWEN_BACKGROUND_NICE = 0


def _serialized(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    return bool(marker and marker.kwargs.get("serialized_rollback"))


def _transactional(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", [])
    return bool(marker and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(fixtures)
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Tests with serialized_rollback restore the content types by id: they must run before any
    # other transactional test, whose flush recreates those rows under new ids. pytest-django
    # has grouped the transactional tests already; the serialized ones go to the group's front.
    # The minutes-long tests (not transactional: those keep their place) start first, one per
    # test process, instead of leaving one process busy long after the other has finished.
    slow = [item for item in items if item.get_closest_marker("slow") and not _transactional(item)]
    items[:] = slow + [item for item in items if item not in slow]
    serialized = [item for item in items if _serialized(item)]
    rest = [item for item in items if not _serialized(item)]
    first = next((n for n, item in enumerate(rest) if _transactional(item)), len(rest))
    items[:] = rest[:first] + serialized + rest[first:]


REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_cache(settings):
    """The site's cache on a real Redis (REDIS_URL's, or the local default) under a key prefix
    of this test only; yields the prefix. Skips where no Redis answers."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"fanwen-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "fanwen.lib.rediscache.ForgivingRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
