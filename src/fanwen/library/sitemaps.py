"""The sitemap: an index of pages of at most ARTICLES_PER_PAGE article URLs, and the categories.

Article pages are ranges of ids (page p holds the published articles with id in
((p-1)·N, p·N]), not OFFSET pages: Django's paginator counts the whole table and skips
rows one by one, so page 200 of a 1M-article library reads a million rows where a range
reads five thousand by the primary key. The index lists only the ranges that hold a
published article, each with the newest change in it, so a crawler can skip the rest. An
article keeps its page whatever is published after it. A page is written by a plain loop,
not Django's sitemap template, which took most of the time of a 5,000-URL page.
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
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.http import http_date

from fanwen.library import pagecache
from fanwen.library.catalog import category_tree
from fanwen.library.models import Article, Category

# The protocol allows 50,000 URLs and 50 MB a file (Baidu: 10 MB); 5,000 URLs are ~0.7 MB and
# render in a fraction of a second, and 1M articles still make only 200 index entries.
ARTICLES_PER_PAGE = 5000
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
_MARK = 918_273_645_546_372_819  # an id no route holds otherwise


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


class CategorySitemap(SiteSitemap):
    changefreq = "daily"

    def items(self):
        # Only categories a reader can open: those with a published article in or below them.
        return Category.objects.filter(pk__in=category_tree().public_ids())


# Django's sitemap view serves the categories; article pages have their own view below.
SITEMAPS = {"categories": CategorySitemap}


def _origin(sitemap: Sitemap, request: HttpRequest) -> str:
    return f"{sitemap.get_protocol(request.scheme)}://{sitemap.get_domain(RequestSite(request))}"


@x_robots_tag
def article_page(request: HttpRequest) -> HttpResponse:
    """/sitemap-articles.xml?p=N written by a plain loop: Django's sitemap template spends
    most of a page's time on 5,000 URLs, the same <url> entries cost a tenth of it here."""
    sitemap = ArticleSitemap()
    try:
        page = sitemap.paginator.page(request.GET.get("p", 1))
    except (EmptyPage, PageNotAnInteger) as exc:
        raise Http404(str(exc)) from None
    origin = escape(_origin(sitemap, request))
    # reverse() for each of 5,000 URLs would be most of the page's time: split the route once.
    before, _, after = reverse("library:article", args=[_MARK]).partition(str(_MARK))
    before, after = origin + escape(before), escape(after)
    parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{SITEMAP_NS}">\n']
    for article in page.object_list:
        day = timezone.localtime(article.updated_at).date().isoformat()
        parts.append(
            f"<url><loc>{before}{article.pk}{after}</loc>"
            f"<lastmod>{day}</lastmod><changefreq>{sitemap.changefreq}</changefreq></url>\n"
        )
    parts.append("</urlset>\n")
    response = HttpResponse("".join(parts), content_type="application/xml")
    newest = max(article.updated_at for article in page.object_list)
    # As Django's sitemap view: conditional requests can be answered 304.
    response["Last-Modified"] = http_date(newest.timestamp())
    return response


@x_robots_tag
def index(request: HttpRequest) -> TemplateResponse:
    """/sitemap.xml: the categories' sitemap and every non-empty page of articles."""
    articles = ArticleSitemap()
    origin = _origin(articles, request)

    def section_url(section: str) -> str:
        return origin + reverse("django.contrib.sitemaps.views.sitemap", args=[section])

    entries = [SitemapIndexItem(section_url("categories"))]
    base = section_url("articles")
    # One GROUP BY over every published article (~0.5 s at a million): kept until an edit.
    pages = pagecache.remember(
        f"sitemap-pages:{articles.limit}", lambda: list(articles.pages()), pagecache.page_seconds()
    )
    for page, last in pages:
        location = base if page == 1 else f"{base}?p={page}"
        entries.append(SitemapIndexItem(location, last))
    return TemplateResponse(
        request, "sitemap_index.xml", {"sitemaps": entries}, content_type="application/xml"
    )
