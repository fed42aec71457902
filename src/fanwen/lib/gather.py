"""Where side effects wait while many rows are written (the state under fanwen.library.bulk).

The search outbox and the page cache ask here before they act: inside a gathering block
(bulk.coalesced) they hand their rows or purge over and return; inside a batch import
(bulk.bulk_import) the outbox applies every APPLY_EVERY rows instead of per commit. This
module holds only that per-context state, so the outbox and the page cache need not import
the module that writes their rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

# Outbox rows written inside a batch import between two applies.
APPLY_EVERY = 500


@dataclass
class Gathered:
    outbox: dict[int, str] = field(default_factory=dict)  # article id -> last op asked for
    purge: bool = False

    def outbox_by_op(self) -> dict[str, list[int]]:
        by_op: dict[str, list[int]] = {}
        for article_id, op in self.outbox.items():
            by_op.setdefault(op, []).append(article_id)
        return by_op


@dataclass
class _Batch:
    rows: int = 0  # outbox rows written since the last apply


_gathered: ContextVar[Gathered | None] = ContextVar("fanwen_gathered", default=None)
_batch: ContextVar[_Batch | None] = ContextVar("fanwen_batch_import", default=None)


@contextmanager
def gathering() -> Iterator[Gathered | None]:
    """Yield what the block gathers, or None inside an outer block (which keeps it all)."""
    if _gathered.get() is not None:
        yield None
        return
    gathered = Gathered()
    token = _gathered.set(gathered)
    try:
        yield gathered
    finally:
        _gathered.reset(token)


@contextmanager
def batch() -> Iterator[bool]:
    """Yield True for the outermost batch (whose end applies what is left), False inside one."""
    if _batch.get() is not None:
        yield False
        return
    token = _batch.set(_Batch())
    try:
        yield True
    finally:
        _batch.reset(token)


def gather_outbox(article_ids: Iterable[int], op: str) -> bool:
    """Called by outbox.record: True when a gathering block took the rows."""
    gathered = _gathered.get()
    if gathered is None:
        return False
    for article_id in article_ids:
        # Re-inserted so the dict's order is the order of the last ask, like the rows were.
        gathered.outbox.pop(article_id, None)
        gathered.outbox[article_id] = op
    return True


def gather_purge() -> bool:
    """Called by pagecache.purge_all: True when a gathering block will purge once at its end."""
    gathered = _gathered.get()
    if gathered is None:
        return False
    gathered.purge = True
    return True


def importing() -> bool:
    """True inside a batch import."""
    return _batch.get() is not None


def count_rows(rows: int) -> bool:
    """Called by outbox.record inside a batch import: True when it is time to apply."""
    state = _batch.get()
    if state is None:
        return True
    state.rows += rows
    if state.rows >= APPLY_EVERY:
        state.rows = 0
        return True
    return False
