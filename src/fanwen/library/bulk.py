"""Fewer side effects per saved row when many rows are written, with the same end result.

coalesced(): the search outbox rows and page-cache purges that the save signals of an
article and its pieces ask for are gathered and written once when the block ends — in the
same transaction, so the outbox is as exact as before (do_import_article: one outbox row per
article instead of one per saved row, one purge instead of one per piece).

bulk_import(): around a batch of imports (run_batch). Inside it a commit does not apply
the search outbox inline (a tantivy commit per article); the index is written once every
APPLY_EVERY outbox rows and when the batch ends. Publishing does not start a protection
font build per article either: the worker's build_fonts_job builds the missing fonts, most
read first, and a reader who comes first gets the font built for the request (font_now) —
never clean text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

# Outbox rows written inside bulk_import() between two applies.
APPLY_EVERY = 500


@dataclass
class _Pending:
    outbox: dict[int, str] = field(default_factory=dict)  # article id -> last op asked for
    purge: bool = False


@dataclass
class _Bulk:
    rows: int = 0  # outbox rows written since the last apply


_pending: ContextVar[_Pending | None] = ContextVar("fanwen_bulk_pending", default=None)
_bulk: ContextVar[_Bulk | None] = ContextVar("fanwen_bulk_import", default=None)


@contextmanager
def coalesced() -> Iterator[None]:
    """Gather outbox rows and page purges until the block ends, then write each once.

    Use inside the transaction of the writes (the rows then commit with them). An exception
    drops what was gathered, as the rollback drops the writes. Nested blocks share the
    outermost one.
    """
    if _pending.get() is not None:
        yield
        return
    pending = _Pending()
    token = _pending.set(pending)
    try:
        yield
    finally:
        _pending.reset(token)
    by_op: dict[str, list[int]] = {}
    for article_id, op in pending.outbox.items():
        by_op.setdefault(op, []).append(article_id)
    if by_op:
        from fanwen.search import outbox

        for op, ids in by_op.items():
            outbox.record(ids, op)
    if pending.purge:
        from fanwen.library import pagecache

        pagecache.purge_all()


def gather_outbox(article_ids: Iterable[int], op: str) -> bool:
    """Called by outbox.record: True when a coalesced() block took the rows."""
    pending = _pending.get()
    if pending is None:
        return False
    for article_id in article_ids:
        # Re-inserted so the dict's order is the order of the last ask, like the rows were.
        pending.outbox.pop(article_id, None)
        pending.outbox[article_id] = op
    return True


def gather_purge() -> bool:
    """Called by pagecache.purge_all: True when a coalesced() block will purge once at its end."""
    pending = _pending.get()
    if pending is None:
        return False
    pending.purge = True
    return True


@contextmanager
def bulk_import() -> Iterator[None]:
    """A batch of imports: the outbox is applied every APPLY_EVERY rows and at the end, and
    no font build is started per published article (see the module docstring)."""
    if _bulk.get() is not None:
        yield
        return
    token = _bulk.set(_Bulk())
    try:
        yield
    finally:
        _bulk.reset(token)
        from fanwen.search import outbox

        # What the batch left: applied now (or when the caller's transaction commits).
        outbox.apply_after_commit()


def importing() -> bool:
    """True inside bulk_import()."""
    return _bulk.get() is not None


def count_rows(rows: int) -> bool:
    """Called by outbox.record inside bulk_import(): True when it is time to apply."""
    state = _bulk.get()
    if state is None:
        return True
    state.rows += rows
    if state.rows >= APPLY_EVERY:
        state.rows = 0
        return True
    return False
