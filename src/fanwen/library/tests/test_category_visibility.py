"""Readers see only categories with a published article; a draft import's category stays hidden."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from fanwen.library.actions import (
    do_get_or_create_category_path,
    do_publish_article,
    publish_scheduled,
)
from fanwen.library.models import Article
from fanwen.library.tests.factories import make_article

pytestmark = pytest.mark.django_db

NEW = "/c/dushubiji/"


def menu(client) -> str:
    return client.get("/").content.decode().split('class="wrap nav-row"', 1)[1].split("</nav>")[0]


def sitemap(client) -> str:
    return client.get("/sitemap-categories.xml").content.decode()


@pytest.fixture
def draft_import(article):
    """A draft import filed under a category path that did not exist before it."""
    category = do_get_or_create_category_path(["读书笔记", "名著笔记"])
    category.parent.slug = "dushubiji"
    category.parent.save()
    return make_article(category, title="红楼梦读书笔记", status=Article.Status.DRAFT)


def test_a_draft_imports_new_category_is_in_no_menu_list_or_sitemap(client, draft_import):
    assert "读书笔记" not in menu(client)
    assert "工作总结" in menu(client)
    assert "读书笔记" not in client.get("/").content.decode()
    assert client.get(NEW).status_code == 404
    assert client.get(draft_import.category.get_absolute_url()).status_code == 404
    assert "dushubiji" not in sitemap(client) and "zongjie" in sitemap(client)
    assert "读书笔记" not in client.get("/nope/").content.decode()


def test_publishing_the_article_shows_the_category_and_its_parent_at_once(client, draft_import):
    assert client.get(NEW).status_code == 404  # the menu and the 404 are cached now

    do_publish_article(draft_import)

    assert "读书笔记" in menu(client)
    assert client.get(NEW).status_code == 200
    assert "红楼梦读书笔记" in client.get(draft_import.category.get_absolute_url()).content.decode()
    assert "dushubiji" in sitemap(client)


def test_hiding_the_last_published_article_hides_its_category_again(client, year_end, article):
    assert client.get(year_end.get_absolute_url()).status_code == 200
    from fanwen.library.actions import do_hide_article

    do_hide_article(article)

    assert client.get(year_end.get_absolute_url()).status_code == 404
    assert "工作总结" not in menu(client)


def test_a_scheduled_articles_category_appears_when_its_time_comes(client, essays):
    make_article(
        essays,
        status=Article.Status.PUBLISHED,
        published_at=timezone.now() + dt.timedelta(seconds=1.5),
    )
    assert "作文" not in menu(client)
    assert client.get(essays.get_absolute_url()).status_code == 404

    time.sleep(1.6)
    # 定时发布 goes out when the worker's job publishes it (which purges the caches).
    assert client.get(essays.get_absolute_url()).status_code == 404
    publish_scheduled()

    assert client.get(essays.get_absolute_url()).status_code == 200
