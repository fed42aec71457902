"""Full-text search of published articles: the facade the views and the library code use.

    from fanwen import search
    results = search.search("文明城市 总结", category_id=3, page=1)
    results = search.search("入党申清书", forgive=True)  # finds 入党申请书, and says so
    search.suggest("rudang shenqingshu")  # "入党申请书"

Writes never touch the index directly: they leave rows in the outbox, an append-only log (in
the same transaction), which each node's index follows by a cursor of its own: after the
node's commits, before a search (at most every FANWEN_SEARCH_SYNC_SECONDS) and in the worker
(see fanwen.search.follow). See fanwen.search.backends for the backends (SEARCH_BACKENDS).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

# How much of an article's first piece, besides its title, says what it is about.
RELATED_TEXT_CHARS = 200
# A forgiving search with fewer matches than this looks for what the reader likely meant.
FEW_RESULTS = 3

if TYPE_CHECKING:
    from fanwen.library.models import Article


@dataclass(frozen=True)
class Hit:
    article_id: int
    title: str  # plain text
    # The title as the article page shows it ("…(优秀3篇)"): escaped, hits in <mark>…</mark>.
    title_html: str
    category_id: int
    published_at: datetime | None
    # From the free parts (a heading, the intro), never the body: ≤ 120 visible chars,
    # escaped, hits in <mark>…</mark>, no spaces injected.
    snippet_html: str
    score: float


@dataclass(frozen=True)
class Results:
    query: str
    total: int  # number of matching articles (an estimate when not total_exact)
    page: int
    per_page: int
    hits: list[Hit]
    elapsed_ms: float
    # False when there are too many matches to count without reading them all: `total` is
    # then an estimate ("约 N 篇"), never below the matches the pages shown so far hold.
    total_exact: bool = True
    # What the reader likely meant (您是不是要找), "" when the query looks right.
    suggestion: str = ""
    # The hits are for `suggestion`, because `query` itself found nothing.
    corrected: bool = False


def search(
    query: str,
    *,
    category_id: int | None = None,
    page: int = 1,
    per_page: int = 10,
    forgive: bool = False,
) -> Results:
    """Published articles matching `query`, best first; quotes make a phrase ("文明城市").

    `category_id` keeps that category and its descendants. An empty query, or a page past
    the end, gives no hits. With `forgive`, a query with few matches gets a `suggestion`,
    and one with none gets the suggestion's hits instead (`corrected`).
    """
    started = time.perf_counter()
    results = _search(query, category_id=category_id, page=page, per_page=per_page)
    if not forgive or results.total >= FEW_RESULTS:
        return results
    meant = suggest(query)
    if not meant:
        return results
    if results.total:
        return replace(results, suggestion=meant)
    instead = _search(meant, category_id=category_id, page=page, per_page=per_page)
    if not instead.total:
        # Nothing either way: the suggestion would only lead to another empty page.
        return results
    elapsed_ms = (time.perf_counter() - started) * 1000
    return replace(instead, query=query, suggestion=meant, corrected=True, elapsed_ms=elapsed_ms)


def suggest(query: str) -> str:
    """The query as the reader likely meant it (typos, pinyin), or "" (see fanwen.search.suggestions)."""
    from fanwen.search import suggestions
    from fanwen.search.backends import get_backend
    from fanwen.search.follow import before_search

    backend = get_backend()
    before_search(backend)
    return suggestions.suggest(query, backend)


def _search(query: str, *, category_id: int | None, page: int, per_page: int) -> Results:
    from fanwen.search.analysis import parse_query
    from fanwen.search.backends import get_backend
    from fanwen.search.documents import shown_title
    from fanwen.search.follow import before_search
    from fanwen.search.highlight import free_snippet, highlight

    started = time.perf_counter()
    page, per_page = max(1, page), max(1, per_page)
    parsed = parse_query(query or "")
    total, exact, hits = 0, True, []
    if parsed:
        backend = get_backend()
        before_search(backend)
        result = backend.search(
            parsed,
            category_id=category_id,
            offset=(page - 1) * per_page,
            limit=per_page,
            now=datetime.now(UTC),
        )
        total, exact = result.total, result.exact
        hits = [
            Hit(
                article_id=f.article_id,
                title=f.title,
                title_html=highlight(shown_title(f.title, f.piece_count), parsed.highlight),
                category_id=f.category_id,
                published_at=f.published_at,
                snippet_html=free_snippet(f.free.intro, f.free.headings, parsed.highlight),
                score=f.score,
            )
            for f in result.found
        ]
    elapsed_ms = (time.perf_counter() - started) * 1000
    return Results(query, total, page, per_page, hits, elapsed_ms, total_exact=exact)


def related(article: Article, limit: int = 8) -> list[int]:
    """Ids of published articles like this one (its title and first text), itself excluded."""
    from fanwen.search.analysis import related_terms
    from fanwen.search.backends import get_backend
    from fanwen.search.follow import before_search

    blocks = article.pieces.order_by("position").values_list("blocks", flat=True).first() or []
    first_text = "".join(block.get("text", "") for block in blocks)[:RELATED_TEXT_CHARS]
    terms = related_terms(f"{article.title}\n{first_text}")
    backend = get_backend()
    before_search(backend)
    return backend.related(terms, exclude_id=article.pk, limit=limit, now=datetime.now(UTC))


def index_article(article_id: int) -> None:
    """Queue the article for (re)indexing; call inside the transaction that changed it."""
    from fanwen.search import outbox

    outbox.record([article_id], "index")


def apply_outbox(limit: int = 500) -> int:
    """Apply up to `limit` log rows this node's index has not applied; returns how many."""
    from fanwen.search import outbox

    return outbox.apply(limit)
