"""The admin edits a piece as plain text (never JSON) and its saves go through the actions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from fanwen.library.models import Article, Category
from fanwen.staff.tests.article_data import SAFETY, VOLUNTEER, store_article

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(client):
    client.force_login(get_user_model().objects.create_superuser("boss", password="x" * 12))
    return client


@pytest.fixture
def category() -> Category:
    return Category.objects.create(name="工作总结", slug="zongjie")


def change_form(article: Article, **fields) -> dict:
    data = {
        "category": article.category_id,
        "title": article.title,
        "slug": article.slug,
        "intro": article.intro,
        "editor_name": article.editor_name,
        "source_format": article.source_format,
        "status": article.status,
        "published_at_0": "",
        "published_at_1": "",
        "pieces-TOTAL_FORMS": "0",
        "pieces-INITIAL_FORMS": "0",
        "pieces-MIN_NUM_FORMS": "0",
        "pieces-MAX_NUM_FORMS": "1000",
        "_save": "保存",
    }
    if article.published_at:
        local = timezone.localtime(article.published_at)
        data["published_at_0"] = local.strftime("%Y-%m-%d")
        data["published_at_1"] = local.strftime("%H:%M:%S")
    pieces = list(article.pieces.order_by("position"))
    data["pieces-TOTAL_FORMS"] = data["pieces-INITIAL_FORMS"] = str(len(pieces))
    for n, piece in enumerate(pieces):
        data[f"pieces-{n}-id"] = piece.pk
        data[f"pieces-{n}-article"] = article.pk
        data[f"pieces-{n}-title"] = piece.title
        data[f"pieces-{n}-body"] = "\n".join(b["text"] for b in piece.blocks)
    data.update(fields)
    return data


def test_the_article_page_edits_pieces_as_text(admin, category):
    article = store_article(category, "总结", SAFETY, VOLUNTEER)
    html = admin.get(f"/admin/library/article/{article.pk}/change/").content.decode()
    assert f"一、基本情况\n{SAFETY}</textarea>" in html
    assert "&quot;kind&quot;" not in html and '"kind"' not in html

    response = admin.post(
        f"/admin/library/article/{article.pk}/change/",
        change_form(article, **{"pieces-1-body": "一、新的情况\n今年xx社区新建了三个志愿服务站。"}),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    piece = article.pieces.get(position=2)
    assert piece.blocks == [
        {"kind": "h1", "text": "一、新的情况"},
        {"kind": "p", "text": "今年xx社区新建了三个志愿服务站。"},
    ]
    assert [p["text"] for p in piece.placeholders] == ["xx"]
    article.refresh_from_db()
    assert article.content_version == 2


def test_a_piece_saved_alone_in_the_admin_goes_through_the_edit_action(admin, category):
    article = store_article(category, "总结", SAFETY, SAFETY.replace("十二次", "十五次"))
    piece = article.pieces.get(position=2)
    assert piece.duplicate_of_id is not None
    response = admin.post(
        f"/admin/library/piece/{piece.pk}/change/",
        {"title": "篇二", "body": f"一、基本情况\n{VOLUNTEER}", "_save": "保存"},
    )
    assert response.status_code == 302
    piece.refresh_from_db()
    article.refresh_from_db()
    # No longer a copy: flagged off, and counted again.
    assert piece.duplicate_of_id is None and article.piece_count == 2


def test_a_time_to_come_in_the_admin_is_scheduled_through_the_action(admin, category):
    article = store_article(category, "总结", SAFETY)
    later = timezone.localtime() + dt.timedelta(days=1)
    response = admin.post(
        f"/admin/library/article/{article.pk}/change/",
        change_form(
            article,
            status="published",
            published_at_0=later.strftime("%Y-%m-%d"),
            published_at_1=later.strftime("%H:%M:%S"),
        ),
        follow=True,
    )
    assert "定时发布" in response.content.decode()
    article.refresh_from_db()
    assert article.status == Article.Status.SCHEDULED and not article.is_public


def test_hiding_in_the_admin_goes_through_the_action(admin, client, category):
    article = store_article(category, "总结", SAFETY, publish=True)
    admin.post(
        f"/admin/library/article/{article.pk}/change/", change_form(article, status="hidden")
    )
    article.refresh_from_db()
    assert article.status == Article.Status.HIDDEN
    client.logout()
    assert client.get(article.get_absolute_url()).status_code == 404
