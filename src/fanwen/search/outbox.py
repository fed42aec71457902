"""The outbox: log rows written with each change, applied to this node's index after the commit.

Rows are never deleted here: every node applies them by its own cursor (fanwen.search.follow),
and the worker prunes the rows all nodes have passed. A crash between the database commit and
the index leaves the cursor behind, so the next pass applies the rows. Applying reads the
article as it is now, so applying a row twice, or late, is harmless.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from django.db import connection, transaction

from fanwen.lib import gather
from fanwen.search import follow
from fanwen.search.models import SearchOutbox

log = logging.getLogger("fanwen.search")
# Inline after a commit only a few rows: a bulk change is left to the worker.
INLINE_LIMIT = 200
# apply_after_commit(): rows per index commit, and how long it goes on before leaving the
# rest to the worker.
DRAIN_CHUNK = 500
DRAIN_SECONDS = 30


def record(article_ids: Iterable[int], op: str) -> None:
    """Write log rows (in the caller's transaction) and apply them once it commits.

    Inside bulk.coalesced() the rows are gathered and written once when the block ends;
    inside bulk.bulk_import() they are applied every gather.APPLY_EVERY rows, not per commit.
    """
    ids = list(dict.fromkeys(article_ids))
    if not ids or gather.gather_outbox(ids, op):
        return
    SearchOutbox.objects.bulk_create([SearchOutbox(article_id=pk, op=op) for pk in ids])
    if not gather.importing():
        _apply_after_commit()
    elif gather.count_rows(len(ids)):
        apply_after_commit()


class _ApplyInline:
    """The after-commit pass of one transaction; `drain` applies every row there is (up to
    DRAIN_SECONDS), not only the first INLINE_LIMIT."""

    def __init__(self, drain: bool = False) -> None:
        self.ran = False
        self.drain = drain

    def __call__(self) -> None:
        self.ran = True
        try:
            # A node without an index rebuilds a large library in a thread, not in this request.
            if not self.drain:
                follow.sync(INLINE_LIMIT, snapshot="auto")
                return
            deadline = time.monotonic() + DRAIN_SECONDS
            while (
                follow.sync(DRAIN_CHUNK, snapshot="auto") >= DRAIN_CHUNK
                and time.monotonic() < deadline
            ):
                pass
        except Exception:
            # Best effort: the cursor stays, and the worker (or the next search) applies the rows.
            log.exception("search: applying the outbox after commit failed")


def apply_after_commit() -> None:
    """Apply all the outbox rows once the current transaction commits (now, outside one)."""
    transaction.on_commit(_ApplyInline(drain=True), robust=True)


def _apply_after_commit() -> None:
    # Once per transaction, however many rows it writes.
    for _, func, _ in connection.run_on_commit:
        if isinstance(func, _ApplyInline) and not func.ran:
            return
    transaction.on_commit(_ApplyInline(), robust=True)


def apply(limit: int = 500) -> int:
    """Apply up to `limit` rows this node has not applied (a new index starts from a snapshot)."""
    return follow.sync(limit)
