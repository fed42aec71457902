"""The sitemap index and its pages follow the protocol, paged by id ranges."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django.utils.http import http_date

from bench.sitemap import W3C_DATETIME, SitemapInvalid, check_sitemaps
from fanwen.library.models import Article
from fanwen.library.sitemaps import ArticleSitemap

pytestmark = pytest.mark.django_db
ORIGIN = "https://fanwen.example.cn"


@pytest.fixture
def small_pages(monkeypatch, settings):
    settings.SITE_URL = ORIGIN
    monkeypatch.setattr(ArticleSitemap, "limit", 20)


def page_of(article_id: int) -> str:
    number = (article_id - 1) // 20 + 1
    return "/sitemap-articles.xml" + ("" if number == 1 else f"?p={number}")


def library(category, published: int = 300) -> set[int]:
    """Published articles with drafts, hidden and scheduled ones among them, and a run of
    drafts longer than two pages; returns the published ids."""
    now = timezone.now()
    S = Article.Status
    rows, made, n, gap = [], 0, 0, 45
    while made < published:
        n += 1
        when = None
        if made >= published // 2 and gap:
            status, gap = S.DRAFT, gap - 1
        elif n % 7 == 0:
            status = [S.DRAFT, S.HIDDEN, S.SCHEDULED][n % 3]
            when = now + dt.timedelta(days=1) if status == S.SCHEDULED else None
        else:
            status, when = S.PUBLISHED, now - dt.timedelta(minutes=n)
            made += 1
        rows.append(Article(category=category, title=f"范文{n}", status=status, published_at=when))
    Article.objects.bulk_create(rows)
    return set(Article.objects.published().values_list("pk", flat=True))


def test_every_published_article_is_listed_once_on_valid_pages(client, year_end, small_pages):
    published = library(year_end)

    report = check_sitemaps(client, ORIGIN, published)

    assert sum(report.article_ids.values()) == len(published) == 300
    assert all(urls <= 20 for *_, urls in report.pages)
    # The run of drafts leaves whole id ranges empty: the index skips them.
    numbers = [int(path.partition("p=")[2] or 1) for path, *_ in report.pages if "articles" in path]
    assert len(numbers) < max(numbers)
    assert report.category_paths == ["/c/zongjie/", "/c/nianzhong/"]


def test_the_checker_catches_what_it_is_there_for(client, year_end, small_pages):
    published = library(year_end, published=30)
    hidden = Article.objects.filter(pk__in=published).order_by("pk").first()
    with pytest.raises(SitemapInvalid, match="missing"):
        check_sitemaps(client, ORIGIN, published | {10**9})
    Article.objects.filter(pk=hidden.pk).update(status=Article.Status.HIDDEN)
    with pytest.raises(SitemapInvalid, match="missing"):
        check_sitemaps(client, ORIGIN, published)
    check_sitemaps(client, ORIGIN, published - {hidden.pk})


def test_pages_are_id_ranges_that_keep_an_article_where_it_was(client, year_end, small_pages):
    library(year_end, published=30)
    first = Article.objects.published().order_by("pk").first()
    page = client.get(page_of(first.pk)).content.decode()
    assert f"{ORIGIN}/a/{first.pk}.html" in page
    # Many more published later: the first article is still on its page, the page unchanged.
    library(year_end, published=60)
    assert client.get(page_of(first.pk)).content.decode() == page


@pytest.mark.parametrize("page", ["0", "-1", "abc", "9999999", str(2**62)])
def test_a_page_that_holds_nothing_is_a_404(client, year_end, small_pages, page):
    library(year_end, published=30)
    assert client.get(f"/sitemap-articles.xml?p={page}").status_code == 404


def test_the_index_gives_each_page_its_newest_change(client, year_end, small_pages):
    ids = sorted(library(year_end, published=30))
    late = timezone.now() + dt.timedelta(hours=3)
    Article.objects.filter(pk=ids[0]).update(updated_at=late)
    index = client.get("/sitemap.xml")
    assert index["X-Robots-Tag"].startswith("noindex")
    body = index.content.decode()
    first = body.split("<sitemap>")[2]  # [1] is the categories' sitemap
    assert f"<loc>{ORIGIN}{page_of(ids[0])}</loc>" in first
    lastmod = first.split("<lastmod>")[1].split("</lastmod>")[0]
    assert W3C_DATETIME.match(lastmod)
    assert abs(dt.datetime.fromisoformat(lastmod) - late) < dt.timedelta(seconds=1)


def test_an_article_page_says_when_it_last_changed_and_is_not_indexed(
    client, year_end, small_pages
):
    ids = sorted(library(year_end, published=30))
    late = timezone.now() + dt.timedelta(hours=3)
    Article.objects.filter(pk=ids[0]).update(updated_at=late)
    response = client.get(page_of(ids[0]))
    assert response["Content-Type"] == "application/xml"
    assert response["X-Robots-Tag"] == "noindex, noodp, noarchive"
    assert response["Last-Modified"] == http_date(late.timestamp())
    beijing_day = timezone.localtime(late).date().isoformat()
    assert f"<lastmod>{beijing_day}</lastmod>" in response.content.decode()


def test_the_index_is_kept_until_an_edit(client, year_end, small_pages, django_assert_num_queries):
    ids = sorted(library(year_end, published=30))
    first = client.get("/sitemap.xml").content
    with django_assert_num_queries(0):
        assert client.get("/sitemap.xml").content == first
    # Drafts fill the rest of the last page and the next: the article published now (a save)
    # opens a page of its own, which the index shows at once.
    Article.objects.bulk_create([Article(category=year_end, title=f"草稿{n}") for n in range(40)])
    later = Article.objects.create(
        category=year_end, title="新发布", status=Article.Status.PUBLISHED
    )
    assert (
        page_of(later.pk) != page_of(ids[-1]) and f"{page_of(later.pk)}</loc>" not in first.decode()
    )
    assert f"<loc>{ORIGIN}{page_of(later.pk)}</loc>" in client.get("/sitemap.xml").content.decode()
