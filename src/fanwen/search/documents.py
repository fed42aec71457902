"""What the index holds for an article, read from the database in batches."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from fanwen.library.models import Article, Category, Piece


@dataclass(frozen=True)
class IndexDoc:
    article_id: int
    title: str
    # The pieces' blocks, one per line: what snippets are cut from.
    text: str
    category_id: int
    # The category and all its ancestors: filtering by a category finds its descendants too.
    category_path: tuple[int, ...]
    published_at: datetime | None


def category_paths() -> dict[int, tuple[int, ...]]:
    """Every category id → (its id, its parent's, … up to the root)."""
    parents = dict(Category.objects.values_list("pk", "parent_id"))
    paths: dict[int, tuple[int, ...]] = {}
    for pk in parents:
        trail, node = [], pk
        while node is not None and node not in trail and len(trail) < 20:
            trail.append(node)
            node = parents.get(node)
        paths[pk] = tuple(trail)
    return paths


def _documents(
    rows: list[tuple[int, str, int, datetime | None]], paths: dict[int, tuple[int, ...]]
) -> list[IndexDoc]:
    texts: dict[int, list[str]] = defaultdict(list)
    pieces = (
        Piece.objects.filter(article_id__in=[row[0] for row in rows])
        .order_by("article_id", "position")
        .values_list("article_id", "blocks")
    )
    for article_id, blocks in pieces:
        texts[article_id].extend(block.get("text", "") for block in blocks or ())
    return [
        IndexDoc(
            article_id=pk,
            title=title,
            text="\n".join(texts.get(pk, ())),
            category_id=category_id,
            category_path=paths.get(category_id, (category_id,)),
            published_at=published_at,
        )
        for pk, title, category_id, published_at in rows
    ]


def _indexable():
    # Published articles whatever their date: the index filters on published_at at query
    # time, so one scheduled for later appears on its own when the time comes.
    return Article.objects.filter(status=Article.Status.PUBLISHED)


def load(article_ids: Iterable[int]) -> list[IndexDoc]:
    """The documents of those articles that should be in the index (the rest are not)."""
    rows = list(
        _indexable()
        .filter(pk__in=list(article_ids))
        .values_list("pk", "title", "category_id", "published_at")
    )
    return _documents(rows, category_paths()) if rows else []


def count_all() -> int:
    return _indexable().count()


def iter_all(batch_size: int = 500) -> Iterator[list[IndexDoc]]:
    """Every indexable article, in batches by primary key (keyset paging: no OFFSET scans)."""
    paths = category_paths()
    last = 0
    while True:
        rows = list(
            _indexable()
            .filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "title", "category_id", "published_at")[:batch_size]
        )
        if not rows:
            return
        yield _documents(rows, paths)
        last = rows[-1][0]
