"""View counts gather in the cache and reach the database in batches."""

from __future__ import annotations

import io
import math

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fanwen.library import viewcount
from fanwen.library.models import Article
from fanwen.library.tests.factories import make_article

pytestmark = pytest.mark.django_db


def updates(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]


def views_in_db(article: Article) -> int:
    return Article.objects.values_list("view_count", flat=True).get(pk=article.pk)


def test_a_view_is_counted_in_the_cache_not_written_to_the_database(client, article, settings):
    settings.FANWEN_VIEW_FLUSH_EVERY = 50
    with CaptureQueriesContext(connection) as queries:
        client.get(article.get_absolute_url())
    assert updates(queries) == []
    assert viewcount.pending_views([article.pk]) == {article.pk: 1}
    assert views_in_db(article) == 0


@pytest.mark.parametrize("hits, flush_every", [(95, 10), (7, 3), (40, 40), (12, 1)])
def test_n_hits_write_at_most_ceil_n_over_flush_every_updates(
    client, article, settings, hits, flush_every
):
    settings.FANWEN_VIEW_FLUSH_EVERY = flush_every
    with CaptureQueriesContext(connection) as queries:
        for _ in range(hits):
            assert client.get(article.get_absolute_url()).status_code == 200
        call_command("flush_views", stdout=io.StringIO())
    assert len(updates(queries)) <= math.ceil(hits / flush_every)
    assert views_in_db(article) == hits
    assert viewcount.pending_views([article.pk]) == {}


def test_cached_page_hits_are_counted_too(client, article, settings):
    settings.FANWEN_VIEW_FLUSH_EVERY = 1000
    responses = [client.get(article.get_absolute_url()) for _ in range(5)]
    assert [r["X-Page-Cache"] for r in responses] == ["miss", "hit", "hit", "hit", "hit"]
    assert viewcount.pending_views([article.pk]) == {article.pk: 5}


def test_flush_views_command_writes_every_articles_pending_views(
    client, year_end, settings, capsys
):
    settings.FANWEN_VIEW_FLUSH_EVERY = 1000
    first, second = make_article(year_end, view_count=10), make_article(year_end)
    for _ in range(3):
        client.get(first.get_absolute_url())
    client.get(second.get_absolute_url())
    call_command("flush_views")
    assert "已写入 4 次阅读，涉及 2 篇文章" in capsys.readouterr().out
    assert (views_in_db(first), views_in_db(second)) == (13, 1)
    call_command("flush_views")  # nothing pending: nothing written twice
    assert (views_in_db(first), views_in_db(second)) == (13, 1)


def test_views_of_pages_that_are_not_public_are_not_counted(client, admin_client, year_end):
    draft = make_article(year_end, status=Article.Status.DRAFT)
    admin_client.get(draft.get_absolute_url())
    client.get(draft.get_absolute_url())
    client.get("/a/99999.html")
    assert viewcount.pending_views([draft.pk, 99999]) == {}


def test_a_flush_in_progress_is_not_repeated_by_another_request(article, settings):
    settings.FANWEN_VIEW_FLUSH_EVERY = 2
    cache.add(f"{viewcount.counter_key(article.pk)}:lock", 1)  # another worker is flushing
    for _ in range(3):
        viewcount.record_view(article.pk)
    assert views_in_db(article) == 0
    cache.delete(f"{viewcount.counter_key(article.pk)}:lock")
    viewcount.record_view(article.pk)
    assert views_in_db(article) == 4


def test_counting_and_page_cache_work_with_redis_too(client, article, settings, redis_cache):
    settings.FANWEN_VIEW_FLUSH_EVERY = 4
    responses = [client.get(article.get_absolute_url()) for _ in range(10)]
    assert responses[0]["X-Page-Cache"] == "miss" and responses[-1]["X-Page-Cache"] == "hit"
    assert views_in_db(article) == 8
    call_command("flush_views", stdout=io.StringIO())
    assert views_in_db(article) == 10
    article.title = "换了标题的总结"
    article.save()
    assert "换了标题的总结" in client.get(article.get_absolute_url()).content.decode()
