"""Per-day counters: a view or a paywall opening is one cache incr; the database gets batches."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import timezone

from fanwen.library import fastpath
from fanwen.ops.management.commands.worker import JOBS
from fanwen.stats import counters
from fanwen.stats.models import DailyCount, Metric

pytestmark = pytest.mark.django_db

BAIDU = "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)"


def in_db(metric: Metric, day: dt.date | None = None) -> int:
    row = DailyCount.objects.filter(metric=metric, day=day or timezone.localdate()).first()
    return row.count if row else 0


def pending(metric: Metric) -> int:
    return counters.daily.pending([(metric.value, timezone.localdate())]).get(
        (metric.value, timezone.localdate()), 0
    )


def test_counts_reach_the_database_in_batches_and_add_up(settings):
    settings.FANWEN_STATS_FLUSH_EVERY = 10
    for _ in range(25):
        counters.record(Metric.PAYWALL_OPEN)
    assert in_db(Metric.PAYWALL_OPEN) == 20 and pending(Metric.PAYWALL_OPEN) == 5
    assert counters.flush_recent() == (5, 1)
    assert in_db(Metric.PAYWALL_OPEN) == 25 and pending(Metric.PAYWALL_OPEN) == 0
    # The same day again: the row grows, no second row.
    for _ in range(10):
        counters.record(Metric.PAYWALL_OPEN)
    assert DailyCount.objects.get(metric=Metric.PAYWALL_OPEN).count == 35


def test_each_day_has_its_own_row(settings):
    settings.FANWEN_STATS_FLUSH_EVERY = 1000
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    counters.record(Metric.ARTICLE_VIEW, day=yesterday)
    counters.record(Metric.ARTICLE_VIEW)
    counters.record(Metric.ARTICLE_VIEW)
    counters.flush_recent()
    assert (in_db(Metric.ARTICLE_VIEW, yesterday), in_db(Metric.ARTICLE_VIEW)) == (1, 2)


def test_the_worker_flushes_what_is_pending(settings):
    settings.FANWEN_STATS_FLUSH_EVERY = 1000
    for _ in range(3):
        counters.record(Metric.ARTICLE_VIEW)
    assert JOBS["flush_counters"]() == {"hits": 3, "counters": 1}
    assert JOBS["flush_counters"]() == {}
    assert in_db(Metric.ARTICLE_VIEW) == 3
    counters.record(Metric.ARTICLE_VIEW)
    call_command("worker", "--once", stdout=io.StringIO())
    assert in_db(Metric.ARTICLE_VIEW) == 4


def test_article_pages_count_a_view_each_cached_or_not(client, article, settings):
    settings.FANWEN_STATS_FLUSH_EVERY = 1000
    responses = [client.get(article.get_absolute_url()) for _ in range(3)]
    assert [r["X-Page-Cache"] for r in responses] == ["miss", "hit", "hit"]
    assert pending(Metric.ARTICLE_VIEW) == 3


def test_the_wsgi_fast_path_counts_the_view_too(client, article, settings):
    settings.FANWEN_STATS_FLUSH_EVERY = 1000
    client.get(article.get_absolute_url())  # renders and caches the page: one view
    environ = RequestFactory()._base_environ(PATH_INFO=article.get_absolute_url())

    def start_response(status, headers):
        assert status == "200 OK"

    body = b"".join(fastpath.wrap(lambda e, s: [b""])(environ, start_response))
    assert article.title.encode() in body
    assert pending(Metric.ARTICLE_VIEW) == 2


def test_a_search_crawler_is_not_a_reader(client, article, settings):
    settings.FANWEN_STATS_FLUSH_EVERY = 1000
    client.get(article.get_absolute_url(), HTTP_USER_AGENT=BAIDU)
    client.get(article.get_absolute_url(), HTTP_USER_AGENT=BAIDU)
    assert pending(Metric.ARTICLE_VIEW) == 0
    client.get(article.get_absolute_url())
    assert pending(Metric.ARTICLE_VIEW) == 1


def test_pages_nobody_may_read_count_nothing(client, article, settings):
    settings.FANWEN_STATS_FLUSH_EVERY = 1000
    client.get("/a/99999.html")
    assert pending(Metric.ARTICLE_VIEW) == 0
