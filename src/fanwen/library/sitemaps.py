"""The sitemap: an index of pages of at most ARTICLES_PER_PAGE article URLs, and the categories.

Article pages are ranges of ids (page p holds the published articles with id in
((p-1)·N, p·N]), not OFFSET pages: Django's paginator counts the whole table and skips
rows one by one, so page 200 of a 1M-article library reads a million rows where a range
reads five thousand by the primary key. The index lists only the ranges that hold a
published article, each with the newest change in it, so a crawler can skip the rest. An
article keeps its page whatever is published after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import SitemapIndexItem, x_robots_tag
from django.contrib.sites.requests import RequestSite
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.db.models import BigIntegerField, ExpressionWrapper, F, Max
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse

from fanwen.library.catalog import category_tree
from fanwen.library.models import Article, Category

# The protocol allows 50,000 URLs and 50 MB a file (Baidu: 10 MB); 5,000 URLs are ~0.7 MB and
# render in a fraction of a second, and 1M articles still make only 200 index entries.
ARTICLES_PER_PAGE = 5000


class SiteSitemap(Sitemap):
    """Absolute URLs on SITE_URL when it is set, like the canonical links."""

    def get_protocol(self, protocol: str | None = None) -> str:
        return urlsplit(settings.SITE_URL).scheme or super().get_protocol(protocol)

    def get_domain(self, site=None) -> str:
        return urlsplit(settings.SITE_URL).netloc or super().get_domain(site)


@dataclass
class IdRangePage:
    number: int
    object_list: list


class IdRangePaginator:
    """What Sitemap.get_urls asks of a paginator, by id ranges instead of OFFSET."""

    def __init__(self, queryset, per_page: int) -> None:
        self.queryset = queryset
        self.per_page = per_page

    def page(self, number) -> IdRangePage:
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger("页码不是整数") from None
        if number < 1 or number * self.per_page >= 2**63:
            raise EmptyPage("没有这一页")
        first = (number - 1) * self.per_page
        rows = list(self.queryset.filter(pk__gt=first, pk__lte=first + self.per_page))
        if not rows:
            raise EmptyPage("这一页没有文章")
        return IdRangePage(number, rows)


class ArticleSitemap(SiteSitemap):
    changefreq = "weekly"
    limit = ARTICLES_PER_PAGE

    def items(self):
        return Article.objects.published().only("id", "updated_at").order_by("id")

    def lastmod(self, article: Article):
        return article.updated_at

    @property
    def paginator(self) -> IdRangePaginator:  # type: ignore[override]
        return IdRangePaginator(self.items(), self.limit)

    def pages(self) -> Iterator[tuple[int, datetime | None]]:
        """(page number, newest change) of every page that holds a published article:
        one GROUP BY over the published articles, never a row per article."""
        number = ExpressionWrapper((F("id") - 1) / self.limit + 1, output_field=BigIntegerField())
        rows = (
            Article.objects.published()
            .annotate(page=number)
            .values("page")
            .annotate(last=Max("updated_at"))
            .order_by("page")
            .values_list("page", "last")
        )
        yield from rows.iterator()

    def get_latest_lastmod(self) -> datetime | None:
        # Django's default calls lastmod() on every item: a million rows for the index.
        return Article.objects.published().aggregate(last=Max("updated_at"))["last"]


class CategorySitemap(SiteSitemap):
    changefreq = "daily"

    def items(self):
        # Only categories a reader can open: those with a published article in or below them.
        return Category.objects.filter(pk__in=category_tree().public_ids())


SITEMAPS = {"articles": ArticleSitemap, "categories": CategorySitemap}


@x_robots_tag
def index(request: HttpRequest) -> TemplateResponse:
    """/sitemap.xml: the categories' sitemap and every non-empty page of articles."""
    articles = ArticleSitemap()
    origin = (
        f"{articles.get_protocol(request.scheme)}://{articles.get_domain(RequestSite(request))}"
    )

    def section_url(section: str) -> str:
        return origin + reverse("django.contrib.sitemaps.views.sitemap", args=[section])

    entries = [SitemapIndexItem(section_url("categories"))]
    base = section_url("articles")
    for page, last in articles.pages():
        location = base if page == 1 else f"{base}?p={page}"
        entries.append(SitemapIndexItem(location, last))
    return TemplateResponse(
        request, "sitemap_index.xml", {"sitemaps": entries}, content_type="application/xml"
    )
