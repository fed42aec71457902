"""/healthz: ok, degraded when the worker is late, 503 when the database is down."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from fanwen.ops import health
from fanwen.ops.models import WorkerHeartbeat
from fanwen.stats.models import DailyCount

pytestmark = pytest.mark.django_db


def beat(age: timedelta) -> None:
    seen = timezone.now() - age
    WorkerHeartbeat.objects.create(host="node-1", pid=1, started_at=seen, seen_at=seen)


def test_all_checks_pass_with_a_live_worker(client, settings):
    beat(timedelta(seconds=5))

    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok", body
    # Redis is pinged only when REDIS_URL is set (the Redis test run sets it).
    redis = {"redis"} if settings.REDIS_URL else set()
    assert set(body["checks"]) == {"database", "cache", "search", "worker"} | redis
    for check in body["checks"].values():
        assert check["ok"] is True and check["error"] is None and check["ms"] >= 0
    assert body["checks"]["worker"]["age_seconds"] < 60


def test_it_is_never_cached_sets_no_cookie_and_counts_no_view(client):
    beat(timedelta(seconds=5))

    response = client.get("/healthz")

    assert "no-store" in response["Cache-Control"]
    assert not response.cookies
    assert not DailyCount.objects.exists()


def test_it_is_not_held_by_the_page_rate_limit(client, settings):
    settings.FANWEN_PAGE_IP_RATE_LIMIT = 2
    beat(timedelta(seconds=5))
    statuses = {client.get("/healthz").status_code for _ in range(5)}
    assert statuses == {200}


def test_a_stale_worker_degrades_but_keeps_the_node_in(client, settings):
    settings.FANWEN_WORKER_STALE_SECONDS = 120
    beat(timedelta(minutes=10))

    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["worker"]["ok"] is False
    assert "old (limit 120s)" in body["checks"]["worker"]["error"]
    assert body["checks"]["database"]["ok"] is True


def test_an_index_far_behind_the_search_log_degrades(client, settings, monkeypatch):
    from fanwen.search import follow
    from fanwen.search.models import SearchOutbox

    settings.FANWEN_WORKER_STALE_SECONDS = 120
    beat(timedelta(seconds=5))
    SearchOutbox.objects.create(
        article_id=1, op="index", created_at=timezone.now() - timedelta(minutes=10)
    )
    # This node applies nothing (as when its index cannot be written).
    monkeypatch.setattr(follow, "pending", lambda backend=None: SearchOutbox.objects.order_by("pk"))

    body = client.get("/healthz").json()

    assert body["status"] == "degraded"
    assert "behind the search log" in body["checks"]["search"]["error"]


def test_no_worker_at_all_is_degraded(client):
    body = client.get("/healthz").json()
    assert body["status"] == "degraded"
    assert "no worker heartbeat" in body["checks"]["worker"]["error"]


def test_a_database_that_fails_takes_the_node_out(client, monkeypatch):
    class BrokenCursor:
        def __enter__(self):
            raise OperationalError("could not connect to server: Connection refused")

        def __exit__(self, *exc) -> None:
            return None

    monkeypatch.setattr(health.connection, "cursor", lambda: BrokenCursor())

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["checks"]["database"]["ok"] is False
    assert "Connection refused" in body["checks"]["database"]["error"]


def test_redis_is_checked_when_configured(client, settings, monkeypatch):
    settings.REDIS_URL = "redis://127.0.0.1:6379/5"
    monkeypatch.setattr(health, "_redis_client", None)
    beat(timedelta(seconds=5))

    body = client.get("/healthz").json()

    assert body["checks"]["redis"]["ok"] is True, body
    monkeypatch.setattr(health, "_redis_client", None)
    settings.REDIS_URL = "redis://127.0.0.1:1/5"  # nothing listens there

    body = client.get("/healthz").json()

    assert body["status"] == "degraded" and body["checks"]["redis"]["ok"] is False
