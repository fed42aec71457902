"""The /search page, the header search box and 相关范文 on the article page."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from fanwen import search
from fanwen.library.tests.factories import empty_cache  # noqa: F401  (fixture)

from .conftest import write_article


@pytest.fixture
def library(category):
    civic = write_article(
        category,
        "创建文明城市工作总结",
        "今年我们围绕创建文明城市目标，开展环境整治和志愿服务。",
        "下一步将继续巩固文明城市创建成果。",
    )
    plan = write_article(category, "社区党建工作计划", "坚持党建引领，服务社区群众。")
    search.apply_outbox()
    return civic, plan


def test_results_show_titles_snippets_and_highlights(client: Client, library):
    civic, _ = library
    html = client.get("/search", {"q": "文明城市"}).content.decode()
    assert "找到 1 篇" in html
    assert f'href="/a/{civic.pk}.html"' in html
    assert "<mark>文明城市</mark>" in html
    snippet = re.search(r'<p class="snippet">(.*?)</p>', html, re.S)[1]
    assert len(re.sub(r"<[^>]+>", "", snippet)) <= 120
    assert 'name="robots" content="noindex' in html
    # The query stays in the header box and in the page's own box.
    assert html.count('value="文明城市"') == 2


def test_no_results_suggest_categories_and_the_most_read(client: Client, library):
    html = client.get("/search", {"q": "量子力学论文"}).content.decode()
    assert "没有找到" in html
    assert "大家都在看" in html
    assert "社区党建工作计划" in html


def test_an_empty_query_explains_how_to_search(client: Client, library):
    response = client.get("/search")
    assert response.status_code == 200
    assert "加引号搜整句" in response.content.decode()


def test_the_category_filter_and_bad_pages(client: Client, library, category):
    html = client.get("/search", {"q": "党建", "c": category.slug}).content.decode()
    assert "社区<mark>党建</mark>工作计划" in html
    assert "找到 1 篇（工作总结）" in html
    assert client.get("/search", {"q": "党建", "page": "0"}).status_code == 404
    assert client.get("/search", {"q": "党建", "page": "x"}).status_code == 404
    html = client.get("/search", {"q": "党建", "page": "3"}).content.decode()
    assert "<mark>党建</mark>" not in html


def test_every_page_has_the_search_box(client: Client, library):
    civic, _ = library
    for url in ("/", civic.get_absolute_url()):
        assert 'action="/search"' in client.get(url).content.decode()


def test_the_article_page_lists_related_articles_from_the_index(client: Client, category):
    first = write_article(category, "社区志愿服务工作总结", "组织志愿服务队，开展文明劝导。")
    second = write_article(category, "街道志愿服务活动总结", "志愿服务活动覆盖全部小区。")
    write_article(category, "学校食堂管理制度", "食堂卫生每日检查。")
    search.apply_outbox()
    html = client.get(first.get_absolute_url()).content.decode()
    related = re.search(r"相关范文</h2>(.*?)</section>", html, re.S)[1]
    assert second.title in related
    assert first.title not in related


def visitor_cookie(client: Client, visitor_id: str) -> None:
    from django.conf import settings
    from django.core.signing import get_cookie_signer

    from fanwen.accounts.visitors import COOKIE_SALT

    name = settings.FANWEN_VISITOR_COOKIE
    client.cookies[name] = get_cookie_signer(salt=name + COOKIE_SALT).sign(visitor_id)


@pytest.mark.usefixtures("empty_cache")
def test_searches_are_limited_per_visitor_and_per_ip(client: Client, library, settings):
    settings.FANWEN_SEARCH_RATE_LIMIT = 3
    settings.FANWEN_SEARCH_IP_RATE_LIMIT = 5
    visitor_cookie(client, "visitor-one")
    statuses = [client.get("/search", {"q": "党建", "page": "1"}).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.get("/search", {"q": "文明城市"})
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "no-store" in refused["Cache-Control"]
    # The empty page is no search: it still opens.
    assert client.get("/search").status_code == 200
    # A new visitor from the same IP gets what is left of the IP's allowance, no more.
    visitor_cookie(client, "visitor-two")
    assert client.get("/search", {"q": "党建"}).status_code == 429


@pytest.mark.usefixtures("empty_cache")
def test_a_fresh_visitor_cookie_does_not_reset_the_ip_limit(client: Client, library, settings):
    settings.FANWEN_SEARCH_RATE_LIMIT = 2
    settings.FANWEN_SEARCH_IP_RATE_LIMIT = 4
    statuses = []
    for n in range(6):
        visitor_cookie(client, f"visitor-{n}")
        statuses.append(client.get("/search", {"q": "党建"}).status_code)
    assert statuses == [200, 200, 200, 200, 429, 429]


@pytest.mark.usefixtures("empty_cache")
def test_staff_search_past_the_limit(client: Client, library, settings, django_user_model):
    settings.FANWEN_SEARCH_RATE_LIMIT = 1
    settings.FANWEN_SEARCH_IP_RATE_LIMIT = 1
    client.force_login(django_user_model.objects.create_user("editor2", is_staff=True))
    statuses = [client.get("/search", {"q": "党建"}).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
