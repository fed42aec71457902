"""Redis down: pages come from the database, limits and counts go there, nothing stale after."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from fanwen.library import fastpath, pagecache
from fanwen.library.models import Article
from fanwen.protection.models import RateCounter

pytestmark = pytest.mark.django_db
NOBODY = "redis://127.0.0.1:1/0"  # nothing listens there: connection refused at once


class Outage:
    """Takes the site's Redis away and gives it back (its address, not the server)."""

    def __init__(self, settings) -> None:
        self.settings = settings
        self.caches = settings.CACHES

    def up(self) -> None:
        self.settings.CACHES = self.caches

    def down(self) -> None:
        self.settings.CACHES = {"default": {**self.caches["default"], "LOCATION": NOBODY}}


@pytest.fixture
def outage(settings, redis_cache):
    settings.FANWEN_RATE_STORE = "cache"
    switch = Outage(settings)
    yield switch
    switch.up()
    pagecache._bump_owed = False


def views_in_db(article: Article) -> int:
    return Article.objects.values_list("view_count", flat=True).get(pk=article.pk)


def test_pages_are_rendered_from_the_database_while_redis_is_down(client, article, outage):
    outage.down()
    for path in (article.get_absolute_url(), "/", article.category.get_absolute_url()):
        response = client.get(path)
        assert response.status_code == 200, path
    page = client.get(article.get_absolute_url())
    assert article.title in page.content.decode()
    assert page["X-Page-Cache"] == "miss"  # nothing kept while the cache is away
    # Each view went straight to the database.
    assert views_in_db(article) == 2


def test_page_limits_still_hold_counted_in_the_database(client, article, outage, settings):
    settings.FANWEN_PAGE_IP_RATE_LIMIT = 3
    outage.down()
    codes = [client.get(article.get_absolute_url()).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert RateCounter.objects.filter(hits=5).exists()


def test_the_wsgi_fast_path_hands_the_request_to_django_while_redis_is_down(article, outage):
    outage.down()
    reached = []

    def django_app(environ, start_response):
        reached.append(environ["PATH_INFO"])
        start_response("200 OK", [])
        return [b"django"]

    environ = RequestFactory()._base_environ(PATH_INFO=article.get_absolute_url())
    body = b"".join(fastpath.wrap(django_app)(environ, lambda status, headers: None))
    assert (body, reached) == (b"django", [article.get_absolute_url()])


def test_an_edit_made_during_the_outage_shows_once_redis_is_back(client, article, outage):
    assert client.get(article.get_absolute_url())["X-Page-Cache"] == "miss"
    assert client.get(article.get_absolute_url())["X-Page-Cache"] == "hit"
    outage.down()
    # Saved by another process (no signal here): its bump could not reach Redis either.
    Article.objects.filter(pk=article.pk).update(title="停电期间改过的标题")
    assert "停电期间改过的标题" in client.get(article.get_absolute_url()).content.decode()
    outage.up()
    page = client.get(article.get_absolute_url())
    assert "停电期间改过的标题" in page.content.decode()


def test_an_edit_saved_here_during_the_outage_is_announced_when_redis_is_back(
    client, article, outage
):
    client.get(article.get_absolute_url())
    outage.down()
    article.title = "本进程停电时保存的标题"
    article.save()  # the signal's bump fails: owed
    outage.up()
    assert "本进程停电时保存的标题" in client.get(article.get_absolute_url()).content.decode()
