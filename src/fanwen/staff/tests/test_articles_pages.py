"""The desk's article pages: the list, the preview before publish with its forms, the piece
editor — and what readers see after each change (page, list, search, sitemap)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from fanwen.library.models import Article, Category
from fanwen.library.tests.factories import empty_cache  # noqa: F401  (autouse: page cache)
from fanwen.search.tests.fixtures import *  # noqa: F403  (own_search_index)
from fanwen.staff.tests.article_data import (
    READING,
    SAFETY,
    SAFETY_COPY,
    VOLUNTEER,
    store_article,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("own_search_index")]
DIFF = '<ins class="df" title="与对照的一篇不同">'


@pytest.fixture
def category() -> Category:
    return Category.objects.create(name="工作总结", slug="zongjie")


@pytest.fixture
def desk(client) -> Client:
    editor = get_user_model().objects.create_user("xiaobian", password="x" * 12, is_staff=True)
    client.force_login(editor)
    return client


@pytest.fixture
def reader() -> Client:
    return Client()


def text_of(response) -> str:
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def url(article: Article) -> str:
    return f"/staff/articles/{article.pk}/"


# --- the list ---------------------------------------------------------------------------------


def test_the_list_filters_by_status_and_title_newest_first(desk, category):
    draft = store_article(category, "草稿总结", SAFETY)
    live = store_article(category, "上线的总结", VOLUNTEER, publish=True)
    hidden = store_article(category, "隐藏的总结", READING, publish=True)
    hidden.status = Article.Status.HIDDEN
    hidden.save()

    html = desk.get("/staff/articles/").content.decode()
    titles = re.findall(r'<a href="/staff/articles/(\d+)/">', html)
    assert titles == [str(hidden.pk), str(live.pk), str(draft.pk)]

    only = desk.get("/staff/articles/?status=draft").content.decode()
    assert "草稿总结" in only and "上线的总结" not in only and "隐藏的总结" not in only
    found = desk.get("/staff/articles/?q=上线").content.decode()
    assert "上线的总结" in found and "草稿总结" not in found


def test_the_list_pages_through_thirty_at_a_time(desk, category):
    for n in range(31):
        Article.objects.create(category=category, title=f"第{n:02d}篇")
    first = desk.get("/staff/articles/").content.decode()
    second = desk.get("/staff/articles/?page=2").content.decode()
    assert "第30篇" in first and "第00篇" not in first
    assert "第00篇" in second and "第 2 / 2 页" in second


# --- the preview ------------------------------------------------------------------------------


def test_the_preview_shows_the_parse_as_readers_will_see_it(desk, category):
    article = store_article(category, "社区工作总结", SAFETY, VOLUNTEER)
    response = desk.get(url(article))
    html = response.content.decode()

    assert response.status_code == 200
    assert '<h1 class="pv-title" id="pv-title">社区工作总结(优秀2篇)</h1>' in html
    assert "分类：工作总结" in text_of(response) and "导语一段。" in html
    # Heading levels as headings, placeholders marked.
    assert re.search(
        r'<h3 class="pv-h1" data-level="h1"><span class="pv-lv">一级标题</span>一、基本情况</h3>',
        html,
    )
    assert '<mark class="ph" title="占位符：年份">20__</mark>年' in html
    assert html.count('class="pv-piece') == 2 and "dup-pair" not in html


def test_a_copy_within_the_article_is_shown_beside_its_original(desk, category):
    article = store_article(category, "社区工作总结", SAFETY, VOLUNTEER, SAFETY_COPY)
    html = desk.get(url(article)).content.decode()

    assert "社区工作总结(优秀2篇)" in html
    pair = re.search(r'<section class="box pv-piece is-dup" id="p3".*?</section>', html, re.S)[0]
    assert "不计入（优秀N篇）" in pair
    this, other = re.findall(r'<div class="dup-side dup-(?:this|other)">(.*?)</div>', pair, re.S)
    # The differing character is marked on each side; the rest is the same text.
    assert f"十{DIFF}三</ins>次" in this and f"十{DIFF}二</ins>次" in other
    assert this.count("<ins") == other.count("<ins") == 1
    assert '<a href="#p1">篇一</a>' in pair


def test_a_copy_of_another_library_article_is_shown_beside_it_with_links(desk, category):
    original = store_article(category, "安全生产工作总结", SAFETY, publish=True)
    article = store_article(category, "年度工作总结", VOLUNTEER, SAFETY_COPY)
    html = desk.get(url(article)).content.decode()

    pair = re.search(r'<section class="box pv-piece is-dup" id="p2".*?</section>', html, re.S)[0]
    assert f'href="/staff/articles/{original.pk}/"' in pair
    assert f'href="/a/{original.pk}.html#p1"' in pair
    assert "安全生产工作总结" in pair
    assert f"十{DIFF}二</ins>次" in pair and f"十{DIFF}三</ins>次" in pair
    # Two pieces, one a copy of another article's: shown, flagged, not counted.
    assert "<h1" in html and "年度工作总结(优秀" not in html
    assert "不计入（优秀N篇）" in pair


def test_rename_and_recategorise(desk, category):
    other = Category.objects.create(name="心得体会", slug="xinde")
    article = store_article(category, "旧标题", SAFETY, VOLUNTEER)

    response = desk.post(
        url(article), {"op": "rename", "title": "新标题", "intro": "新导语"}, follow=True
    )
    assert "标题和导语已保存" in response.content.decode()
    desk.post(url(article), {"op": "category", "category": other.pk})

    article.refresh_from_db()
    assert (article.title, article.intro, article.category) == ("新标题", "新导语", other)
    bad = desk.post(url(article), {"op": "rename", "title": "", "intro": ""})
    assert bad.status_code == 200 and "errorlist" in bad.content.decode()


def test_drop_and_merge_from_the_preview(desk, category):
    article = store_article(category, "社区工作总结", SAFETY, VOLUNTEER, READING)

    desk.post(url(article), {"op": "drop", "position": "2"})
    assert [p.text.splitlines()[1] for p in article.pieces.order_by("position")] == [
        SAFETY,
        READING,
    ]
    desk.post(url(article), {"op": "merge", "position": "2"})
    assert article.pieces.count() == 1
    response = desk.post(url(article), {"op": "drop", "position": "1"}, follow=True)
    assert "唯一的一篇" in response.content.decode() and article.pieces.count() == 1


def test_publish_now_puts_it_in_lists_search_and_the_sitemap(
    desk, reader, category, django_capture_on_commit_callbacks
):
    article = store_article(category, "防汛演练工作总结", SAFETY)
    assert reader.get(article.get_absolute_url()).status_code == 404

    with django_capture_on_commit_callbacks(execute=True):
        desk.post(url(article), {"op": "publish_now"})

    assert reader.get(article.get_absolute_url()).status_code == 200
    assert "防汛演练工作总结" in reader.get("/c/zongjie/").content.decode()
    assert f"/a/{article.pk}.html" in reader.get("/search?q=防汛演练").content.decode()
    assert f"/a/{article.pk}.html" in reader.get("/sitemap-articles.xml").content.decode()


def test_hiding_takes_it_out_of_everything_at_once(
    desk, reader, category, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        article = store_article(category, "防汛演练工作总结", SAFETY, publish=True)
    # Readers have it, and the pages are in the page cache.
    assert reader.get(article.get_absolute_url()).status_code == 200
    assert "防汛演练工作总结" in reader.get("/c/zongjie/").content.decode()
    assert "防汛演练工作总结" in reader.get("/").content.decode()
    assert f"/a/{article.pk}.html" in reader.get("/search?q=防汛演练").content.decode()
    assert f"/a/{article.pk}.html" in reader.get("/sitemap-articles.xml").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = desk.post(url(article), {"op": "hide"}, follow=True)
    assert "已隐藏" in response.content.decode()

    assert reader.get(article.get_absolute_url()).status_code == 404
    assert "防汛演练工作总结" not in reader.get("/").content.decode()
    assert reader.get("/c/zongjie/").status_code == 404  # its only article gone
    assert f"/a/{article.pk}.html" not in reader.get("/search?q=防汛演练").content.decode()
    assert f"/a/{article.pk}.html" not in reader.get("/sitemap-articles.xml").content.decode()


def test_schedule_keeps_it_out_until_the_job_publishes_it(
    desk, reader, category, django_capture_on_commit_callbacks
):
    from fanwen.library.actions import publish_scheduled

    article = store_article(category, "防汛演练工作总结", SAFETY)
    when = timezone.localtime() + dt.timedelta(hours=3)
    with django_capture_on_commit_callbacks(execute=True):
        response = desk.post(
            url(article), {"op": "schedule", "when": when.strftime("%Y-%m-%dT%H:%M")}, follow=True
        )
    assert "定时发布：将于" in response.content.decode()
    article.refresh_from_db()
    assert article.status == Article.Status.SCHEDULED
    assert article.published_at == when.replace(second=0, microsecond=0)
    assert reader.get(article.get_absolute_url()).status_code == 404
    assert f"/a/{article.pk}.html" not in reader.get("/search?q=防汛演练").content.decode()
    assert f"/a/{article.pk}.html" not in reader.get("/sitemap-articles.xml").content.decode()
    assert "定时" in desk.get("/staff/articles/?status=scheduled").content.decode()

    Article.objects.filter(pk=article.pk).update(
        published_at=timezone.now() - dt.timedelta(minutes=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        publish_scheduled()
    assert reader.get(article.get_absolute_url()).status_code == 200
    assert f"/a/{article.pk}.html" in reader.get("/search?q=防汛演练").content.decode()
    assert f"/a/{article.pk}.html" in reader.get("/sitemap-articles.xml").content.decode()


def test_a_schedule_in_the_past_is_refused(desk, category):
    article = store_article(category, "总结", SAFETY)
    past = timezone.localtime() - dt.timedelta(hours=1)
    response = desk.post(url(article), {"op": "schedule", "when": past.strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 200 and "要晚于现在" in response.content.decode()
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT


def test_back_to_draft(desk, reader, category):
    article = store_article(category, "总结", SAFETY, publish=True)
    desk.post(url(article), {"op": "draft"})
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT
    assert reader.get(article.get_absolute_url()).status_code == 404


def test_posts_without_the_csrf_token_are_refused(category):
    article = store_article(category, "总结", SAFETY)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(get_user_model().objects.create_user("e", password="x" * 12, is_staff=True))
    assert strict.post(url(article), {"op": "hide"}).status_code == 403
    assert strict.post(f"{url(article)}pieces/1/", {"op": "save", "body": "x"}).status_code == 403
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT


def test_unknown_articles_and_pieces_are_404(desk, category):
    article = store_article(category, "总结", SAFETY)
    assert desk.get("/staff/articles/999999/").status_code == 404
    assert desk.get(f"{url(article)}pieces/9/").status_code == 404


# --- the piece editor -------------------------------------------------------------------------


def test_the_editor_shows_plain_text_never_json(desk, category):
    article = store_article(category, "总结", SAFETY)
    html = desk.get(f"{url(article)}pieces/1/").content.decode()
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", html, re.S)[1]
    assert textarea.strip() == f"一、基本情况\n{SAFETY}"
    assert "kind" not in textarea and "{" not in textarea
    assert "「一、」" in html  # the heading rules, in words


def test_the_editor_preview_reads_levels_without_saving(desk, category):
    article = store_article(category, "总结", SAFETY)
    body = "一、做法\n（一）机制\n正文一段。"
    response = desk.post(
        f"{url(article)}pieces/1/", {"op": "preview", "title": "篇一", "body": body}
    )
    html = response.content.decode()
    assert '<span class="pv-lv">一级标题</span>一、做法' in html
    assert '<span class="pv-lv">二级标题</span>（一）机制' in html
    fragment = desk.post(
        f"{url(article)}pieces/1/", {"title": "", "body": body, "fragment": "preview"}
    ).content.decode()
    assert "<html" not in fragment and "二级标题" in fragment
    assert article.pieces.get().text == f"一、基本情况\n{SAFETY}"


def test_saving_an_edit_of_a_published_article_shows_everywhere(
    desk, reader, category, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        article = store_article(category, "防汛演练工作总结", SAFETY, VOLUNTEER, publish=True)
    version = article.content_version
    # The anonymous page is now in the page cache.
    assert "启用了应急广播" not in reader.get(article.get_absolute_url()).content.decode()
    assert reader.get(article.get_absolute_url())["X-Page-Cache"] == "hit"

    new_text = f"一、基本情况\n{SAFETY}\n二、新的做法\n今年我们在每个小区启用了应急广播系统。"
    with django_capture_on_commit_callbacks(execute=True):
        response = desk.post(
            f"{url(article)}pieces/1/", {"op": "save", "title": "篇一", "body": new_text}
        )
    assert response.status_code == 302 and response["Location"] == f"{url(article)}#p1"
    assert "篇一已保存" in desk.get(response["Location"]).content.decode()

    page = reader.get(article.get_absolute_url()).content.decode()
    assert (
        "今年我们在每个小区启用了应急广播系统。" in page
        and '<h3 class="bh1">二、新的做法</h3>' in page
    )
    assert f"/a/{article.pk}.html" in reader.get("/search?q=新的做法").content.decode()
    article.refresh_from_db()
    assert article.content_version == version + 1


def test_an_empty_body_is_refused(desk, category):
    article = store_article(category, "总结", SAFETY)
    response = desk.post(f"{url(article)}pieces/1/", {"op": "save", "title": "", "body": "  "})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert article.pieces.get().text == f"一、基本情况\n{SAFETY}"
