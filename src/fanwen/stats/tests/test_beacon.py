"""The paywall's beacon: POST /a/<id>/opened counts one paywall opening and answers 204."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from fanwen.library.models import Article
from fanwen.library.tests.factories import make_article
from fanwen.stats import counters
from fanwen.stats.models import DailyCount, Metric

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def unbatched(settings):
    settings.FANWEN_STATS_FLUSH_EVERY = 1000
    settings.FANWEN_BEACON_LIMIT = 5
    settings.FANWEN_BEACON_WINDOW = 600


def opened() -> int:
    counters.flush_recent()
    row = DailyCount.objects.filter(metric=Metric.PAYWALL_OPEN, day=timezone.localdate()).first()
    return row.count if row else 0


def beacon_url(article: Article | int) -> str:
    return f"/a/{getattr(article, 'pk', article)}/opened"


def test_a_beacon_counts_once_and_answers_204_without_a_body(article):
    # No CSRF token: sendBeacon cannot send one, and the endpoint changes nothing but a counter.
    client = Client(enforce_csrf_checks=True)
    response = client.post(beacon_url(article))
    assert response.status_code == 204
    assert response.content == b""
    assert opened() == 1
    assert (
        client.post(beacon_url(article), data=b"ignored", content_type="text/plain").status_code
        == 204
    )
    assert opened() == 2


def test_beacons_are_rate_limited_per_client(article):
    client = Client(REMOTE_ADDR="203.0.113.7")
    answers = [client.post(beacon_url(article)).status_code for _ in range(7)]
    assert answers == [204] * 5 + [429] * 2
    assert opened() == 5
    # Another address has its own allowance.
    assert Client(REMOTE_ADDR="203.0.113.8").post(beacon_url(article)).status_code == 204
    assert opened() == 6


def test_a_bad_article_id_is_not_found_and_not_counted(client, year_end):
    draft = make_article(year_end, status=Article.Status.DRAFT)
    assert client.post(beacon_url(999999)).status_code == 404
    assert client.post(beacon_url(draft)).status_code == 404
    assert client.post(beacon_url(2**63)).status_code == 404
    assert client.post("/a/abc/opened").status_code == 404
    assert opened() == 0


def test_a_get_is_refused(client, article):
    assert client.get(beacon_url(article)).status_code == 405
    assert opened() == 0


def test_the_article_page_tells_the_paywall_where_to_send_it(client, article):
    page = client.get(article.get_absolute_url()).content.decode()
    assert f'"opened": "/a/{article.pk}/opened"' in page
