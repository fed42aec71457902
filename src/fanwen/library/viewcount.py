"""Article view counts: counted in the cache, written to the database in batches.

A hit is one cache incr. When an article's pending count reaches FANWEN_VIEW_FLUSH_EVERY
the request that saw it writes the batch with one UPDATE ... view_count + n; `fanwen
flush_views` writes whatever is pending below the threshold. Works with any Django cache
whose incr/decr are atomic (locmem, Redis). With the in-process locmem cache each worker
keeps its own counters, so pending counts below the threshold die with the process.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.db.models import F

from fanwen.library.models import Article

LOCK_SECONDS = 30


def counter_key(article_id: int) -> str:
    return f"fw:v:{article_id}"


def record_view(article_id: int) -> None:
    key = counter_key(article_id)
    try:
        pending = cache.incr(key)
    except ValueError:
        # First view since the last flush: create the counter, unless another request just did.
        pending = 1 if cache.add(key, 1, timeout=None) else cache.incr(key)
    if pending >= max(1, settings.FANWEN_VIEW_FLUSH_EVERY):
        flush_article(article_id)


def flush_article(article_id: int) -> int:
    """Move the pending count of one article into the database; returns how many views."""
    key = counter_key(article_id)
    # Only one flusher at a time, so the counter never goes below zero.
    if not cache.add(f"{key}:lock", 1, timeout=LOCK_SECONDS):
        return 0
    try:
        pending = cache.get(key) or 0
        if pending <= 0:
            return 0
        cache.decr(key, pending)
        try:
            Article.objects.filter(pk=article_id).update(view_count=F("view_count") + pending)
        except Exception:
            cache.incr(key, pending)
            raise
        return pending
    finally:
        cache.delete(f"{key}:lock")


def pending_views(article_ids: Iterable[int]) -> dict[int, int]:
    keys = {counter_key(pk): pk for pk in article_ids}
    return {keys[k]: v for k, v in cache.get_many(list(keys)).items() if v and v > 0}


def flush_all(chunk: int = 1000) -> tuple[int, int]:
    """Flush every article's pending views: (views written, articles touched)."""
    views = articles = 0
    ids = Article.objects.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=chunk)
    batch: list[int] = []
    for pk in ids:
        batch.append(pk)
        if len(batch) >= chunk:
            v, a = _flush_batch(batch)
            views, articles, batch = views + v, articles + a, []
    if batch:
        v, a = _flush_batch(batch)
        views, articles = views + v, articles + a
    return views, articles


def _flush_batch(ids: list[int]) -> tuple[int, int]:
    views = articles = 0
    for pk in pending_views(ids):
        written = flush_article(pk)
        if written:
            views, articles = views + written, articles + 1
    return views, articles
