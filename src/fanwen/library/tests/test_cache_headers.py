"""What each page variant tells browsers and shared caches (nginx) they may keep.

Only the page every reader without a right gets may sit in a shared cache, briefly; a page
chosen for one reader (a buyer's or a crawler's clean text, staff, a login) is never stored.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from django.test import Client

from fanwen.library import fastpath
from fanwen.library.models import Article
from fanwen.library.tests.test_fastpath import Inner, call, environ_for
from fanwen.orders.tests.fixtures import make_order, plans, settle  # noqa: F401  (fixtures)
from fanwen.protection import crawlers, fonts
from fanwen.protection.tests.test_paywall import body_texts, buy, reader

pytestmark = pytest.mark.django_db

GOOGLE_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def directives(headers: Mapping[str, str]) -> set[str]:
    return {part.strip() for part in headers.get("Cache-Control", "").split(",") if part.strip()}


def varies_by_cookie(headers: Mapping[str, str]) -> bool:
    return "cookie" in {part.strip().lower() for part in headers.get("Vary", "").split(",")}


def assert_private(headers: Mapping[str, str]) -> None:
    """Nobody but this reader's browser may keep it, and not even that browser may store it."""
    found = directives(headers)
    assert {"private", "no-store"} <= found, headers.get("Cache-Control")
    assert "public" not in found and not any(d.startswith("s-maxage") for d in found)


def assert_shared_briefly(headers: Mapping[str, str], seconds: int = 10) -> None:
    """Shared caches may keep it `seconds`; browsers ask again each time; cookies tell apart."""
    assert directives(headers) == {"public", "max-age=0", f"s-maxage={seconds}"}
    assert varies_by_cookie(headers)


@pytest.fixture
def font_level(settings, tmp_path):
    settings.FANWEN_PROTECTION = "font"
    settings.FANWEN_FONT_DIR = str(tmp_path / "fonts")
    yield settings
    fonts.wait_for_builds()


@pytest.fixture
def protected(font_level, article) -> Article:
    fonts.build_font(article)
    return article


@pytest.fixture
def googlebot(monkeypatch, settings) -> Client:
    settings.FANWEN_CRAWLER_VERIFY = True
    monkeypatch.setattr(crawlers, "reverse_dns", lambda ip: "crawl-66-249-66-1.googlebot.com")
    monkeypatch.setattr(crawlers, "forward_dns", lambda host: {"127.0.0.1"})
    return Client(HTTP_USER_AGENT=GOOGLE_UA)


# --- the anonymous page ---


def test_the_anonymous_article_page_may_be_kept_briefly_by_shared_caches(client, article):
    first = client.get(article.get_absolute_url())
    second = client.get(article.get_absolute_url())
    assert (first["X-Page-Cache"], second["X-Page-Cache"]) == ("miss", "hit")
    assert_shared_briefly(first.headers)
    assert_shared_briefly(second.headers)


def test_the_protected_page_is_the_anonymous_page_shared_caches_may_keep(client, protected):
    for _ in range(2):
        response = client.get(protected.get_absolute_url())
        assert 'data-variant="protected"' in response.content.decode()
        assert_shared_briefly(response.headers)


def test_shared_caches_never_keep_a_page_longer_than_the_page_cache(client, article, settings):
    settings.FANWEN_PAGE_CACHE_SECONDS = 4
    assert_shared_briefly(client.get(article.get_absolute_url()).headers, seconds=4)
    settings.FANWEN_PAGE_CACHE_SECONDS = 0
    assert_shared_briefly(client.get("/").headers, seconds=0)


def test_home_and_category_pages_may_be_kept_briefly_by_shared_caches(client, article):
    for path in ("/", "/c/nianzhong/"):
        first, second = client.get(path), client.get(path)
        assert (first["X-Page-Cache"], second["X-Page-Cache"]) == ("miss", "hit")
        assert_shared_briefly(first.headers)
        assert_shared_briefly(second.headers)


def test_the_fast_paths_anonymous_page_says_what_the_django_path_says(client, article):
    client.get(article.get_absolute_url())
    # The same request id on both paths: it is echoed back, so the headers can be compared whole.
    django = client.get(article.get_absolute_url(), HTTP_X_REQUEST_ID="rid-anonymous")
    inner = Inner()
    environ = environ_for(article.get_absolute_url(), HTTP_X_REQUEST_ID="rid-anonymous")
    status, headers, body = call(fastpath.wrap(inner), environ)
    assert (status, inner.calls, body) == ("200 OK", 0, django.content)
    assert_shared_briefly(headers)
    assert headers == dict(django.headers)


def test_an_article_whose_font_was_never_built_goes_out_protected_and_shared_briefly(
    client, font_level, article
):
    # The font is built before the page goes out: there is no clean stopgap to keep private.
    response = client.get(article.get_absolute_url())
    assert 'data-variant="protected"' in response.content.decode()
    assert_shared_briefly(response.headers)


# --- pages chosen for one reader ---


def test_a_buyers_clean_page_is_private_and_never_stored(protected, plans):  # noqa: F811
    browser, visitor = reader()
    buy(visitor, protected)
    first = browser.get(protected.get_absolute_url())
    second = browser.get(protected.get_absolute_url())
    assert (first["X-Page-Cache"], second["X-Page-Cache"]) == ("miss", "hit")
    for response in (first, second):
        assert 'data-variant="clean"' in response.content.decode()
        assert_private(response.headers)
        assert varies_by_cookie(response.headers)


def test_a_buyers_clean_page_from_the_fast_path_is_private_like_the_django_path(
    protected,
    plans,  # noqa: F811
):
    browser, visitor = reader()
    buy(visitor, protected)
    browser.get(protected.get_absolute_url())
    django = browser.get(protected.get_absolute_url(), HTTP_X_REQUEST_ID="rid-buyer")
    cookie = "; ".join(f"{m.key}={m.coded_value}" for m in browser.cookies.values())
    inner = Inner()
    environ = environ_for(
        protected.get_absolute_url(), HTTP_COOKIE=cookie, HTTP_X_REQUEST_ID="rid-buyer"
    )
    status, headers, body = call(fastpath.wrap(inner), environ)
    assert (status, inner.calls, body) == ("200 OK", 0, django.content)
    assert body_texts(protected)[0] in body.decode()
    assert_private(headers)
    assert headers == dict(django.headers)


def test_a_visitor_without_the_right_gets_a_page_no_cache_keeps(client, article):
    # Their next page may follow a purchase: a stored copy would hide the clean text.
    browser, _ = reader()
    for _ in range(2):
        response = browser.get(article.get_absolute_url())
        assert_private(response.headers)


def test_a_verified_crawlers_clean_page_is_private_and_never_stored(protected, googlebot):
    # A shared cache would hand the crawler's clean copy to every reader after it.
    first = googlebot.get(protected.get_absolute_url())
    second = googlebot.get(protected.get_absolute_url())
    assert (first["X-Page-Cache"], second["X-Page-Cache"]) == ("miss", "hit")
    for response in (first, second):
        assert body_texts(protected)[0] in response.content.decode()
        assert_private(response.headers)


def test_a_false_crawlers_page_is_kept_by_no_shared_cache(protected, monkeypatch, settings):
    settings.FANWEN_CRAWLER_VERIFY = True
    monkeypatch.setattr(crawlers, "reverse_dns", lambda ip: "1.0.0.127.bc.googleusercontent.com")
    monkeypatch.setattr(crawlers, "forward_dns", lambda host: {"127.0.0.1"})
    response = Client(HTTP_USER_AGENT=GOOGLE_UA).get(protected.get_absolute_url())
    assert 'data-variant="protected"' in response.content.decode()
    assert_private(response.headers)


def test_staff_pages_and_previews_are_private_and_never_stored(admin_client, article, year_end):
    draft = Article.objects.create(
        category=year_end, title="草稿范文", status=Article.Status.DRAFT, piece_count=0
    )
    for path in ("/", "/c/nianzhong/", article.get_absolute_url(), draft.get_absolute_url()):
        response = admin_client.get(path)
        assert response.status_code == 200, path
        assert_private(response.headers)


def test_the_staff_mark_lookup_page_is_kept_only_per_session(admin_client):
    # A shared cache may only hand it back to the same session cookie, i.e. the same staff.
    response = admin_client.get("/staff/mark/")
    assert response.status_code == 200
    assert varies_by_cookie(response.headers)
    assert "public" not in directives(response.headers)


def test_a_logged_in_readers_pages_are_private_and_never_stored(client, article, django_user_model):
    client.get(article.get_absolute_url())  # the anonymous copies are in the page cache
    client.force_login(django_user_model.objects.create_user("reader", password="x-secret-9"))
    for path in ("/", "/c/nianzhong/", article.get_absolute_url()):
        assert_private(client.get(path).headers)


# --- the other answers of the reading site ---


def test_access_json_is_private_and_never_stored(client, article):
    response = client.get(f"/a/{article.pk}/access.json")
    assert response.status_code == 200
    assert_private(response.headers)


def test_the_too_many_pages_answer_is_private_and_never_stored(client, article, settings):
    settings.FANWEN_PAGE_IP_RATE_LIMIT = 1
    client.get(article.get_absolute_url())
    refused = client.get(article.get_absolute_url())
    assert refused.status_code == 429
    assert_private(refused.headers)
    # …and the same on the fast path.
    status, headers, _ = call(fastpath.wrap(Inner()), environ_for(article.get_absolute_url()))
    assert status.startswith("429")
    assert_private(headers)


def test_search_results_are_kept_by_no_shared_cache(client, article):
    response = client.get("/search", {"q": "志愿服务"})
    assert response.status_code == 200
    found = directives(response.headers)
    assert "private" in found or "no-store" in found
    assert "public" not in found and not any(d.startswith("s-maxage") for d in found)


@pytest.mark.parametrize("path", ["/account/login/", "/account/signup/", "/account/purchases/"])
def test_account_pages_are_private_and_never_stored(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert_private(response.headers)


def test_an_account_page_of_a_logged_in_reader_is_private_and_never_stored(
    client, django_user_model
):
    client.force_login(django_user_model.objects.create_user("buyer", password="x-secret-9"))
    assert_private(client.get("/account/purchases/").headers)
