"""What the index holds for an article, read from the database in batches.

The body is indexed (searches find articles by it) but never stored: what a result shows
comes from the free parts alone (title, intro, piece titles, headings), which every reader
sees in clean text anyway. Snippets of the body would hand the sold text out phrase by phrase.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from fanwen.library.models import Article, Category, Piece

HEADING_KINDS = frozenset({"h1", "h2", "h3"})


@dataclass(frozen=True)
class FreeParts:
    """The parts of an article shown clean to everyone: what a result's snippet is cut from."""

    intro: str = ""
    # Piece titles and h1-h3 headings, in page order.
    headings: tuple[str, ...] = ()

    def dumps(self) -> str:
        return json.dumps({"intro": self.intro, "headings": self.headings}, ensure_ascii=False)

    @classmethod
    def loads(cls, raw: str) -> FreeParts:
        data = json.loads(raw)
        return cls(data.get("intro", ""), tuple(data.get("headings", ())))


@dataclass(frozen=True)
class IndexDoc:
    article_id: int
    title: str
    # The pieces' blocks, one per line: indexed, never stored.
    text: str
    category_id: int
    # The category and all its ancestors: filtering by a category finds its descendants too.
    category_path: tuple[int, ...]
    published_at: datetime | None
    free: FreeParts = field(default_factory=FreeParts)
    # For the title as the article page shows it ("(优秀N篇)"): the count changes on re-import,
    # and the write that changes it queues the article for indexing again.
    piece_count: int = 1


def shown_title(title: str, piece_count: int) -> str:
    """The title as the article page shows it (the page's own rule, Article.display_title)."""
    return Article(title=title, piece_count=piece_count).display_title


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


Row = tuple[int, str, str, int, datetime | None, int]
FIELDS = ("pk", "title", "intro", "category_id", "published_at", "piece_count")


def block_lines(blocks: list[dict] | None) -> list[str]:
    """A piece's lines as the index reads them: each block's text."""
    return [block.get("text", "") for block in blocks or ()]


def body_text(pieces_blocks: Iterable[list[dict] | None]) -> str:
    """The indexed text of an article whose pieces have these blocks, in order."""
    return "\n".join(line for blocks in pieces_blocks for line in block_lines(blocks))


def _documents(rows: list[Row], paths: dict[int, tuple[int, ...]]) -> list[IndexDoc]:
    texts: dict[int, list[str]] = defaultdict(list)
    headings: dict[int, list[str]] = defaultdict(list)
    pieces = (
        Piece.objects.filter(article_id__in=[row[0] for row in rows])
        .order_by("article_id", "position")
        .values_list("article_id", "title", "blocks")
    )
    for article_id, piece_title, blocks in pieces:
        if piece_title.strip():
            headings[article_id].append(piece_title.strip())
        texts[article_id].extend(block_lines(blocks))
        for block in blocks or ():
            text = block.get("text", "")
            if block.get("kind") in HEADING_KINDS and text.strip():
                headings[article_id].append(text.strip())
    return [
        IndexDoc(
            article_id=pk,
            title=title,
            text="\n".join(texts.get(pk, ())),
            category_id=category_id,
            category_path=paths.get(category_id, (category_id,)),
            published_at=published_at,
            free=FreeParts(intro.strip(), tuple(headings.get(pk, ()))),
            piece_count=piece_count,
        )
        for pk, title, intro, category_id, published_at, piece_count in rows
    ]


def _indexable():
    # Published articles whatever their date: the index filters on published_at at query
    # time, so one scheduled for later appears on its own when the time comes.
    return Article.objects.filter(status=Article.Status.PUBLISHED)


def load(article_ids: Iterable[int]) -> list[IndexDoc]:
    """The documents of those articles that should be in the index (the rest are not)."""
    rows = list(_indexable().filter(pk__in=list(article_ids)).values_list(*FIELDS))
    return _documents(rows, category_paths()) if rows else []


def count_all() -> int:
    return _indexable().count()


def iter_all(batch_size: int = 500) -> Iterator[list[IndexDoc]]:
    """Every indexable article, in batches by primary key (keyset paging: no OFFSET scans)."""
    paths = category_paths()
    last = 0
    while True:
        rows = list(
            _indexable().filter(pk__gt=last).order_by("pk").values_list(*FIELDS)[:batch_size]
        )
        if not rows:
            return
        yield _documents(rows, paths)
        last = rows[-1][0]
