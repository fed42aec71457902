"""Article view counts: counted in the cache, written to the database in batches.

A hit is one cache incr (fanwen.lib.batchcount). When an article's pending count reaches
FANWEN_VIEW_FLUSH_EVERY the request that saw it writes the batch with one UPDATE ...
view_count + n; `fanwen flush_views` writes whatever is pending below the threshold. With the
in-process locmem cache each worker keeps its own counters, so pending counts below the
threshold die with the process.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db.models import F

from fanwen.lib.batchcount import BatchCounter
from fanwen.library.models import Article


def counter_key(article_id: int) -> str:
    return f"fw:v:{article_id}"


def _write(article_id: int, views: int) -> None:
    Article.objects.filter(pk=article_id).update(view_count=F("view_count") + views)


views = BatchCounter(counter_key, _write, lambda: settings.FANWEN_VIEW_FLUSH_EVERY)


def record_view(article_id: int) -> None:
    views.record(article_id)


def flush_article(article_id: int) -> int:
    """Move the pending count of one article into the database; returns how many views."""
    return views.flush(article_id)


def pending_views(article_ids: Iterable[int]) -> dict[int, int]:
    return views.pending(article_ids)


def flush_all(chunk: int = 1000) -> tuple[int, int]:
    """Flush every article's pending views: (views written, articles touched)."""
    written = articles = 0
    ids = Article.objects.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=chunk)
    batch: list[int] = []
    for pk in ids:
        batch.append(pk)
        if len(batch) >= chunk:
            v, a = views.flush_many(batch)
            written, articles, batch = written + v, articles + a, []
    if batch:
        v, a = views.flush_many(batch)
        written, articles = written + v, articles + a
    return written, articles
