"""Saved as 已发布 with no 发布时间: the article goes live now, through the admin and the model."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from fanwen.library.models import Article
from fanwen.library.tests.factories import make_article

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client):
    user = get_user_model().objects.create_superuser("bianji", password="x" * 12)
    client.force_login(user)
    return client


def form(category, **fields) -> dict:
    data = {
        "category": category.pk,
        "title": "新发布的总结",
        "slug": "",
        "intro": "",
        "editor_name": "",
        "source_format": "manual",
        "status": "published",
        "published_at_0": "",
        "published_at_1": "",
        "pieces-TOTAL_FORMS": "0",
        "pieces-INITIAL_FORMS": "0",
        "pieces-MIN_NUM_FORMS": "0",
        "pieces-MAX_NUM_FORMS": "1000",
        "_save": "保存",
    }
    data.update(fields)
    return data


def test_an_article_added_as_published_without_a_time_is_live_and_readable(
    editor, client, year_end
):
    before = timezone.now()

    response = editor.post("/admin/library/article/add/", form(year_end), follow=True)

    assert response.status_code == 200
    article = Article.objects.get(title="新发布的总结")
    assert article.published_at is not None and before <= article.published_at <= timezone.now()
    assert article.is_public
    assert "已设为现在" in response.content.decode()
    client.logout()
    assert client.get(article.get_absolute_url()).status_code == 200


def test_an_existing_draft_changed_to_published_with_an_empty_time_goes_live(
    editor, client, year_end
):
    draft = make_article(year_end, pieces=0, status=Article.Status.DRAFT)
    Article.objects.filter(pk=draft.pk).update(published_at=None)

    editor.post(f"/admin/library/article/{draft.pk}/change/", form(year_end, title=draft.title))

    draft.refresh_from_db()
    assert draft.status == Article.Status.PUBLISHED and draft.published_at is not None
    client.logout()
    assert client.get(draft.get_absolute_url()).status_code == 200


def test_a_time_in_the_future_keeps_the_article_hidden_until_then(editor, client, year_end):
    later = timezone.localtime(timezone.now() + dt.timedelta(days=1))
    response = editor.post(
        "/admin/library/article/add/",
        form(
            year_end,
            published_at_0=later.strftime("%Y-%m-%d"),
            published_at_1=later.strftime("%H:%M:%S"),
        ),
        follow=True,
    )

    article = Article.objects.get(title="新发布的总结")
    assert article.published_at > timezone.now()
    assert not article.is_public
    assert "上线，在此之前读者看不到" in response.content.decode()
    client.logout()
    assert client.get(article.get_absolute_url()).status_code == 404


def test_the_model_fills_an_empty_time_on_save_and_on_a_partial_save(year_end):
    article = make_article(year_end, status=Article.Status.DRAFT)
    Article.objects.filter(pk=article.pk).update(published_at=None)
    article.refresh_from_db()

    article.status = Article.Status.PUBLISHED
    article.save(update_fields=["status"])

    article.refresh_from_db()
    assert article.published_at is not None and article.is_public


def test_a_draft_keeps_an_empty_time(year_end):
    article = make_article(year_end, status=Article.Status.DRAFT)
    article.published_at = None
    article.save()

    article.refresh_from_db()
    assert article.published_at is None


def test_the_admin_publish_and_hide_actions_go_through_the_actions(editor, client, year_end):
    draft = make_article(year_end, status=Article.Status.DRAFT)
    Article.objects.filter(pk=draft.pk).update(published_at=None)
    changelist = "/admin/library/article/"

    editor.post(changelist, {"action": "publish_selected", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.is_public

    editor.post(changelist, {"action": "hide_selected", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == Article.Status.HIDDEN
    client.logout()
    assert client.get(draft.get_absolute_url()).status_code == 404
