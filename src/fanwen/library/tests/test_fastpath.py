"""The WSGI-level fast path for cached anonymous article pages."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from fanwen.library import fastpath
from fanwen.library.models import Article


def environ_for(path: str, method: str = "GET", **extra) -> dict:
    return RequestFactory()._base_environ(PATH_INFO=path, REQUEST_METHOD=method, **extra)


class Inner:
    """Django's application as the wrapper sees it: records whether it was reached."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        start_response("418 I'm a teapot", [])
        return [b"django"]


def call(app, environ) -> tuple[str, dict, bytes]:
    seen = {}

    def start_response(status, headers):
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], body


# Both paths answer with the request id they were sent, so their headers can be compared whole.
REQUEST_ID = {"HTTP_X_REQUEST_ID": "probe-1"}


@pytest.fixture
def cached(client, article) -> tuple[Article, bytes, dict]:
    client.get(article.get_absolute_url())
    response = client.get(article.get_absolute_url(), **REQUEST_ID)
    assert response["X-Page-Cache"] == "hit"
    return article, response.content, dict(response.headers)


def test_a_cached_page_is_served_without_reaching_django_with_the_same_bytes_and_headers(cached):
    article, content, django_headers = cached
    inner = Inner()
    status, headers, body = call(
        fastpath.wrap(inner), environ_for(article.get_absolute_url(), **REQUEST_ID)
    )
    assert inner.calls == 0
    assert status == "200 OK"
    assert body == content
    assert headers == django_headers
    # The comparison includes what shared caches are told, not only the security headers.
    assert headers["Cache-Control"].startswith("public,") and headers["Vary"] == "Cookie"


def test_the_fast_path_still_counts_the_view(cached, settings):
    from fanwen.library import viewcount

    article, _, _ = cached
    before = viewcount.pending_views([article.pk]).get(article.pk, 0)
    call(fastpath.wrap(Inner()), environ_for(article.get_absolute_url()))
    assert viewcount.pending_views([article.pk]).get(article.pk, 0) == before + 1


@pytest.mark.parametrize(
    "extra",
    [
        {"REQUEST_METHOD": "POST"},
        {"HTTP_COOKIE": "sessionid=abc"},
        {"HTTP_HOST": "evil.example"},
        {"PATH_INFO": "/a/987654.html"},
        {"PATH_INFO": "/c/nianzhong/"},
    ],
)
def test_everything_else_goes_to_django(cached, extra):
    article, _, _ = cached
    environ = environ_for(article.get_absolute_url())
    environ.update(extra)
    inner = Inner()
    status, _, body = call(fastpath.wrap(inner), environ)
    assert inner.calls == 1 and body == b"django"


def test_an_edit_makes_the_fast_path_fall_through_to_a_fresh_render(cached):
    article, _, _ = cached
    Article.objects.get(pk=article.pk).save()
    inner = Inner()
    call(fastpath.wrap(inner), environ_for(article.get_absolute_url()))
    assert inner.calls == 1


# Browsers always send Host; without it Django would add the server port to the https origin.
HTTPS_BEHIND_PROXY = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_HOST": "testserver"}


@pytest.fixture
def https_production(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True


def test_plain_http_under_ssl_redirect_goes_to_django_to_be_redirected(cached, https_production):
    article, _, _ = cached
    inner = Inner()
    call(fastpath.wrap(inner), environ_for(article.get_absolute_url()))
    assert inner.calls == 1


def test_https_behind_a_trusted_proxy_is_served_fast_with_the_headers_django_sends(
    https_production, client, article
):
    url = article.get_absolute_url()
    client.get(url, **HTTPS_BEHIND_PROXY)
    django = client.get(url, **HTTPS_BEHIND_PROXY, **REQUEST_ID)
    assert django["X-Page-Cache"] == "hit"
    inner = Inner()

    status, headers, body = call(
        fastpath.wrap(inner), environ_for(url, **HTTPS_BEHIND_PROXY, **REQUEST_ID)
    )

    assert inner.calls == 0
    assert status == "200 OK" and body == django.content
    assert headers == dict(django.headers)
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert "script-src 'self'" in headers["Content-Security-Policy"]
