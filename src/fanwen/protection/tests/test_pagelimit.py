"""Page rate limits: per IP and per signed visitor, on the Django path and the WSGI fast path."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.http import HttpResponse
from django.test import Client

from fanwen.accounts.models import Visitor
from fanwen.accounts.visitors import set_visitor_cookie
from fanwen.library import fastpath, viewcount
from fanwen.library.tests.factories import *  # noqa: F403  (the reading pages' test data)
from fanwen.library.tests.test_fastpath import Inner, environ_for
from fanwen.protection import crawlers
from fanwen.protection.pagelimit import limited_wsgi_response, page_limited

from .test_crawlers import BAIDU_HOST, BAIDU_IP, BAIDU_UA, PERSON_UA, FakeDNS

WINDOW = 3600
TOO_MANY_TEXT = "访问过于频繁，请稍后再试"


@pytest.fixture(autouse=True)
def limits(settings):
    """Limits start off; each test turns on the ones it is about."""
    cache.clear()
    settings.FANWEN_PAGE_RATE_WINDOW = WINDOW
    settings.FANWEN_PAGE_RATE_LIMIT = 0
    settings.FANWEN_PAGE_IP_RATE_LIMIT = 0
    settings.FANWEN_CRAWLER_VERIFY = True
    # The js level caches an article page on its first view (the font level waits for a font).
    settings.FANWEN_PROTECTION = "js"
    yield settings
    cache.clear()


@pytest.fixture
def dns(monkeypatch) -> FakeDNS:
    fake = FakeDNS()
    fake.ptr[BAIDU_IP] = BAIDU_HOST
    fake.addresses[BAIDU_HOST] = {BAIDU_IP}
    monkeypatch.setattr(crawlers, "reverse_dns", fake.reverse)
    monkeypatch.setattr(crawlers, "forward_dns", fake.forward)
    return fake


def signed_visitor_cookie(visitor: Visitor) -> str:
    response = HttpResponse()
    set_visitor_cookie(response, visitor)
    return response.cookies["fw_visitor"].value


def assert_too_many(response) -> None:
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= WINDOW
    assert "no-store" in response["Cache-Control"]
    assert TOO_MANY_TEXT in response.content.decode()


# --- page_limited ---


def test_an_ip_over_its_limit_is_told_when_to_come_back(limits):
    limits.FANWEN_PAGE_IP_RATE_LIMIT = 3
    answers = [page_limited("198.51.100.1", None, PERSON_UA) for _ in range(4)]
    assert answers[:3] == [None, None, None]
    assert 1 <= answers[3] <= WINDOW
    # Another IP has its own count.
    assert page_limited("198.51.100.2", None, PERSON_UA) is None


def test_a_visitor_is_counted_across_ips(limits):
    limits.FANWEN_PAGE_RATE_LIMIT = 2
    visitor_id = str(uuid.uuid4())
    assert page_limited("198.51.100.1", visitor_id, PERSON_UA) is None
    assert page_limited("198.51.100.2", visitor_id, PERSON_UA) is None
    assert page_limited("198.51.100.3", visitor_id, PERSON_UA) is not None
    assert page_limited("198.51.100.3", str(uuid.uuid4()), PERSON_UA) is None


def test_zero_turns_the_limits_off(limits):
    limits.FANWEN_PAGE_RATE_LIMIT = 0
    limits.FANWEN_PAGE_IP_RATE_LIMIT = 0
    assert all(page_limited("198.51.100.1", "v1", PERSON_UA) is None for _ in range(500))


def test_only_a_request_over_the_limit_asks_whether_it_is_a_crawler(limits, dns):
    limits.FANWEN_PAGE_IP_RATE_LIMIT = 2
    assert page_limited(BAIDU_IP, None, BAIDU_UA) is None
    assert page_limited(BAIDU_IP, None, BAIDU_UA) is None
    assert dns.reverse_calls == []
    assert page_limited(BAIDU_IP, None, BAIDU_UA) is None
    assert page_limited(BAIDU_IP, None, BAIDU_UA) is None
    assert dns.reverse_calls == [BAIDU_IP]  # asked once, then cached


def test_a_false_crawler_claim_over_the_limit_is_refused(limits, dns):
    limits.FANWEN_PAGE_IP_RATE_LIMIT = 1
    assert page_limited("203.0.113.7", None, BAIDU_UA) is None
    assert page_limited("203.0.113.7", None, BAIDU_UA) is not None


# --- the Django path (middleware) ---


@pytest.mark.django_db
def test_a_reader_over_the_ip_limit_gets_429_on_every_reading_page(client, limits, article):
    limits.FANWEN_PAGE_IP_RATE_LIMIT = 3
    for url in ("/", "/c/nianzhong/", article.get_absolute_url()):
        assert client.get(url).status_code == 200
    for url in ("/", "/c/nianzhong/", article.get_absolute_url()):
        assert_too_many(client.get(url))


@pytest.mark.django_db
def test_other_paths_are_not_counted(client, limits, article):
    limits.FANWEN_PAGE_IP_RATE_LIMIT = 1
    for _ in range(3):
        assert client.get("/robots.txt").status_code == 200
        assert client.get(f"/a/{article.pk}/access.json").status_code == 200
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_a_signed_visitor_over_its_limit_gets_429_from_any_ip(limits, article):
    limits.FANWEN_PAGE_RATE_LIMIT = 2
    browser = Client()
    browser.cookies["fw_visitor"] = signed_visitor_cookie(Visitor.objects.create())
    assert browser.get("/", REMOTE_ADDR="198.51.100.1").status_code == 200
    assert browser.get("/", REMOTE_ADDR="198.51.100.2").status_code == 200
    assert_too_many(browser.get("/", REMOTE_ADDR="198.51.100.3"))


@pytest.mark.django_db
def test_an_unsigned_visitor_cookie_is_no_visitor(limits, article):
    limits.FANWEN_PAGE_RATE_LIMIT = 2
    browser = Client()
    browser.cookies["fw_visitor"] = str(Visitor.objects.create().pk)
    assert all(browser.get("/").status_code == 200 for _ in range(4))


@pytest.mark.django_db
def test_staff_are_never_limited_but_other_users_are(
    limits, article, admin_client, django_user_model
):
    limits.FANWEN_PAGE_IP_RATE_LIMIT = 1
    assert all(admin_client.get("/").status_code == 200 for _ in range(3))
    reader = Client()
    reader.force_login(django_user_model.objects.create_user("reader", password="x-secret-9"))
    assert_too_many(reader.get("/"))


@pytest.mark.django_db
def test_a_verified_crawler_over_the_limit_reads_on(client, limits, dns, article):
    limits.FANWEN_PAGE_IP_RATE_LIMIT = 1
    for _ in range(3):
        response = client.get("/", REMOTE_ADDR=BAIDU_IP, HTTP_USER_AGENT=BAIDU_UA)
        assert response.status_code == 200
    # The same claim from an address Baidu does not own is refused.
    client.get("/", REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT=BAIDU_UA)
    assert_too_many(client.get("/", REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT=BAIDU_UA))


# --- the WSGI fast path ---


def call(app, environ: dict) -> tuple[int, dict, bytes]:
    seen = {}

    def start_response(status, headers):
        seen["status"], seen["headers"] = int(status.split()[0]), dict(headers)

    # The site's WSGI handler fires request_started/finished, whose close_old_connections
    # would close the test's connection; Django's test client unhooks it the same way.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        body = b"".join(app(environ, start_response))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return seen["status"], seen["headers"], body


@pytest.fixture
def cached_url(client, article) -> str:
    url = article.get_absolute_url()
    client.get(url)
    assert client.get(url)["X-Page-Cache"] == "hit"
    return url


def test_a_cached_page_over_the_limit_gets_429_before_django(limits, cached_url):
    limits.FANWEN_PAGE_IP_RATE_LIMIT = 2
    django = Inner()
    app = fastpath.wrap(django)
    article_id = int(cached_url.split("/")[-1].split(".")[0])
    views_before = viewcount.pending_views([article_id]).get(article_id, 0)
    environ = environ_for(cached_url, REMOTE_ADDR="198.51.100.9")
    assert [call(app, dict(environ))[0] for _ in range(2)] == [200, 200]
    status, headers, body = call(app, dict(environ))
    assert status == 429 and django.calls == 0
    assert 1 <= int(headers["Retry-After"]) <= WINDOW
    assert headers["Content-Length"] == str(len(body))
    assert TOO_MANY_TEXT in body.decode()
    # A refused page is not a read.
    assert viewcount.pending_views([article_id]).get(article_id, 0) == views_before + 2


def test_the_site_application_limits_cached_pages_of_a_signed_visitor(limits, cached_url):
    from fanwen.wsgi import application

    limits.FANWEN_PAGE_RATE_LIMIT = 2
    cookie = "fw_visitor=" + signed_visitor_cookie(Visitor.objects.create())
    statuses = [
        call(
            application, environ_for(cached_url, REMOTE_ADDR=f"198.51.100.{n}", HTTP_COOKIE=cookie)
        )
        for n in range(1, 4)
    ]
    assert [status for status, _, _ in statuses] == [200, 200, 429]
    assert statuses[0][1]["X-Page-Cache"] == "hit"
    assert TOO_MANY_TEXT in statuses[2][2].decode()


def test_a_verified_crawler_reads_cached_pages_over_the_limit(limits, dns, cached_url):
    from fanwen.wsgi import application

    limits.FANWEN_PAGE_IP_RATE_LIMIT = 1
    crawler = environ_for(cached_url, REMOTE_ADDR=BAIDU_IP, HTTP_USER_AGENT=BAIDU_UA)
    assert [call(application, dict(crawler))[0] for _ in range(3)] == [200, 200, 200]
    person = environ_for(cached_url, REMOTE_ADDR=BAIDU_IP, HTTP_USER_AGENT=PERSON_UA)
    assert call(application, person)[0] == 429


def test_a_google_cloud_vm_claiming_googlebot_is_limited_like_anyone(limits, dns, cached_url):
    from fanwen.wsgi import application

    from .test_crawlers import GOOGLE_UA

    # Its reverse DNS is Google's, but the default name of any Google Cloud VM.
    vm_ip, vm_host = "34.91.1.2", "2.1.91.34.bc.googleusercontent.com"
    dns.ptr[vm_ip] = vm_host
    dns.addresses[vm_host] = {vm_ip}
    limits.FANWEN_PAGE_IP_RATE_LIMIT = 2
    vm = environ_for(cached_url, REMOTE_ADDR=vm_ip, HTTP_USER_AGENT=GOOGLE_UA)
    statuses = [call(application, dict(vm))[0] for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert dns.reverse_calls == [vm_ip]


def test_the_fast_path_with_limits_off_serves_everything(limits, cached_url):
    app = fastpath.wrap(Inner())
    environ = environ_for(cached_url, REMOTE_ADDR="198.51.100.9")
    assert all(call(app, dict(environ))[0] == 200 for _ in range(50))


def test_the_wsgi_check_leaves_sessions_and_other_requests_to_django(limits):
    limits.FANWEN_PAGE_IP_RATE_LIMIT = 1
    limited_wsgi_response(environ_for("/"))
    assert limited_wsgi_response(environ_for("/")) is not None
    assert limited_wsgi_response(environ_for("/", HTTP_COOKIE="sessionid=abc")) is None
    assert limited_wsgi_response(environ_for("/robots.txt")) is None
    post = environ_for("/")
    post["REQUEST_METHOD"] = "POST"
    assert limited_wsgi_response(post) is None


# --- behind a proxy: each reader is its own address, and only a trusted proxy may say so ---

NGINX = "10.0.0.5"


@pytest.mark.django_db
def test_behind_a_trusted_proxy_one_reader_over_the_limit_leaves_the_next_alone(limits, article):
    limits.FANWEN_TRUSTED_PROXIES = [NGINX]
    limits.FANWEN_PAGE_IP_RATE_LIMIT = 3
    client = Client(REMOTE_ADDR=NGINX)
    for _ in range(3):
        assert client.get("/", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 200
    assert_too_many(client.get("/", HTTP_X_FORWARDED_FOR="198.51.100.1"))
    # A forged left part does not make the same reader someone else.
    assert_too_many(client.get("/", HTTP_X_FORWARDED_FOR="192.0.2.9, 198.51.100.1"))

    assert client.get("/", HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 200


@pytest.mark.django_db
def test_x_forwarded_for_from_an_untrusted_peer_changes_nothing(limits, article):
    limits.FANWEN_TRUSTED_PROXIES = [NGINX]
    limits.FANWEN_PAGE_IP_RATE_LIMIT = 3
    client = Client(REMOTE_ADDR="203.0.113.50")
    answers = [
        client.get("/", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}", HTTP_X_REAL_IP=f"192.0.2.{n}")
        for n in range(6)
    ]
    assert [a.status_code for a in answers] == [200] * 3 + [429] * 3


def test_the_fast_path_counts_the_reader_behind_the_proxy(limits, cached_url):
    limits.FANWEN_TRUSTED_PROXIES = [NGINX]
    limits.FANWEN_PAGE_IP_RATE_LIMIT = 2
    app = fastpath.wrap(Inner())

    def page(forwarded_for: str) -> int:
        environ = environ_for(cached_url, REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR=forwarded_for)
        return call(app, environ)[0]

    assert [page("198.51.100.1") for _ in range(3)] == [200, 200, 429]
    assert page("198.51.100.2") == 200
    # Straight to the worker, a header names nobody.
    direct = environ_for(cached_url, REMOTE_ADDR="203.0.113.50", HTTP_X_FORWARDED_FOR="192.0.2.1")
    assert [call(app, dict(direct))[0] for _ in range(3)] == [200, 200, 429]


def test_a_crawler_behind_the_proxy_is_verified_by_its_own_address(limits, dns, cached_url):
    from fanwen.wsgi import application

    limits.FANWEN_TRUSTED_PROXIES = [NGINX]
    limits.FANWEN_PAGE_IP_RATE_LIMIT = 1

    def via_nginx(client: str, user_agent: str) -> dict:
        return environ_for(
            cached_url, REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR=client, HTTP_USER_AGENT=user_agent
        )

    crawler = via_nginx(BAIDU_IP, BAIDU_UA)
    assert [call(application, dict(crawler))[0] for _ in range(3)] == [200, 200, 200]
    assert dns.reverse_calls == [BAIDU_IP]
    # The same claim from another reader behind the same proxy is limited like anyone.
    impostor = via_nginx("203.0.113.80", BAIDU_UA)
    assert [call(application, dict(impostor))[0] for _ in range(2)] == [200, 429]


def test_on_redis_each_page_is_counted_once_whichever_path_answers_it(limits, redis_cache, article):
    """The fast path counts and looks the page up in one round trip; a miss it hands to Django
    is not counted again by the middleware."""
    from fanwen.lib import rediscache
    from fanwen.lib.ratelimit import _key, _window
    from fanwen.wsgi import application

    limits.FANWEN_PAGE_IP_RATE_LIMIT = 4
    environ = environ_for(article.get_absolute_url(), REMOTE_ADDR="198.51.100.77")
    answers = [call(application, dict(environ)) for _ in range(6)]
    statuses = [status for status, _, _ in answers]
    caches = [headers.get("X-Page-Cache") for _, headers, _ in answers[:4]]
    assert statuses == [200, 200, 200, 200, 429, 429]
    assert caches == ["miss", "hit", "hit", "hit"]
    client, key = rediscache.raw(_key("page", "ip:198.51.100.77", _window(WINDOW)[0]))
    assert int(client.get(key)) == 6
    assert 0 < client.ttl(key) <= WINDOW + 1
