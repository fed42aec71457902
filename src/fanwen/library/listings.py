"""Article lists for the reading pages: latest, most read, related, one category page."""

from __future__ import annotations

import heapq
import itertools

from django.core.paginator import Page, Paginator
from django.db.models import F, Func, QuerySet
from django.utils import timezone

from fanwen.library import pagecache
from fanwen.library.models import Article

PER_PAGE = 20
# Shared lists and counts; edits make them stale at once, the clock only for scheduled posts.
FRAGMENT_SECONDS = 300
LIST_FIELDS = ("id", "title", "piece_count", "published_at", "view_count", "category_id")


class Unindexed(Func):
    """A column the SQLite planner must not use an index for (`+col`); plain elsewhere.

    Without ANALYZE statistics SQLite prefers any index with an equality match (status,
    category) and then sorts every match; walking the published_at or view_count index
    and filtering reads only about one page of rows, however large the library grows.
    """

    template = "%(expressions)s"

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="+%(expressions)s", **extra_context)


def _published() -> QuerySet:
    return Article.objects.published().only(*LIST_FIELDS)


def _published_by_index() -> QuerySet:
    """Article.objects.published(), leaving the choice of index to ORDER BY."""
    return (
        Article.objects.alias(st=Unindexed(F("status")))
        .filter(st=Article.Status.PUBLISHED, published_at__lte=timezone.now())
        .only(*LIST_FIELDS)
    )


def latest(limit: int = 20) -> list[Article]:
    return list(_published_by_index().order_by("-published_at", "-id")[:limit])


def most_read(limit: int = 10) -> list[Article]:
    return list(_published().order_by("-view_count", "-id")[:limit])


def related(article: Article, limit: int = 8) -> dict[str, list[Article]]:
    """Latest and most read of the same category, without `article` itself."""

    def build() -> dict[str, list[Article]]:
        in_category = _published().filter(category_id=article.category_id)
        # Walk the view_count index rather than sorting the whole category.
        by_views = (
            _published().alias(cat=Unindexed(F("category_id"))).filter(cat=article.category_id)
        )
        return {
            "latest": list(in_category.order_by("-published_at", "-id")[: limit + 1]),
            "popular": list(by_views.order_by("-view_count", "-id")[: limit + 1]),
        }

    lists = pagecache.remember(f"rel:{article.category_id}", build, FRAGMENT_SECONDS)
    return {name: [a for a in items if a.pk != article.pk][:limit] for name, items in lists.items()}


class NewestFirstMerge:
    """Newest-first ids of several categories: each read from its own category index, then
    merged, so a deep page costs the same in a library of 10k articles or of 100k."""

    def __init__(self, querysets: list[QuerySet]):
        self.querysets = querysets

    def __getitem__(self, window: slice) -> list[int]:
        streams = [
            list(
                qs.order_by("-published_at", "-id").values_list("published_at", "id")[: window.stop]
            )
            for qs in self.querysets
        ]
        merged = heapq.merge(*streams, reverse=True)
        return [pk for _, pk in itertools.islice(merged, window.start, window.stop)]


def category_page(category_id: int, category_ids: list[int], number: int) -> Page:
    """One page of a category and its sub-categories; raises InvalidPage past the end."""
    # Each category's (category, status, published_at) index is already in page order.
    per_category = [_published().filter(category_id=cid) for cid in category_ids]
    if len(per_category) == 1:
        # Page through ids alone (the index covers them), then load the 20 rows shown.
        ids = per_category[0].order_by("-published_at", "-id").values_list("id", flat=True)
    else:
        ids = NewestFirstMerge(per_category)
    paginator = Paginator(ids, PER_PAGE, allow_empty_first_page=True)

    def count() -> int:
        return sum(qs.count() for qs in per_category)

    # COUNT over a big category costs milliseconds: one count per category per edit.
    paginator.count = pagecache.remember(f"count:{category_id}", count, FRAGMENT_SECONDS)
    page = paginator.page(number)
    rows = Article.objects.only(*LIST_FIELDS, "intro").in_bulk(list(page.object_list))
    page.object_list = [rows[pk] for pk in page.object_list if pk in rows]
    return page


def page_window(page: Page, radius: int = 2) -> list[int | None]:
    """Page numbers to link: first, last and a window around the current; None is a gap."""
    return page_numbers(page.number, page.paginator.num_pages, radius)


def page_numbers(number: int, last: int, radius: int = 2) -> list[int | None]:
    """page_window for a page number of `last` pages (pages that are not a Django Page)."""
    wanted = {1, last, *range(number - radius, number + radius + 1)}
    numbers = sorted(n for n in wanted if 1 <= n <= last)
    links: list[int | None] = []
    for n in numbers:
        if links and n - (links[-1] or 0) > 1:
            links.append(None)
        links.append(n)
    return links
