"""Fewer side effects per saved row when many rows are written, with the same end result.

coalesced(): the search outbox rows and page-cache purges that the save signals of an
article and its pieces ask for are gathered and written once when the block ends — in the
same transaction, so the outbox is as exact as before (do_import_article: one outbox row per
article instead of one per saved row, one purge instead of one per piece).

bulk_import(): around a batch of imports (run_batch). Inside it a commit does not apply
the search outbox inline (a tantivy commit per article); the index is written once every
gather.APPLY_EVERY outbox rows and when the batch ends. Publishing does not start a
protection font build per article either: the worker's build_fonts_job builds the missing
fonts, most read first, and a reader who comes first gets the font built for the request
(font_now) — never clean text.

The state both blocks keep lives in fanwen.lib.gather, which the outbox and the page cache
read.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fanwen.lib import gather
from fanwen.library import pagecache
from fanwen.search import outbox


@contextmanager
def coalesced() -> Iterator[None]:
    """Gather outbox rows and page purges until the block ends, then write each once.

    Use inside the transaction of the writes (the rows then commit with them). An exception
    drops what was gathered, as the rollback drops the writes. Nested blocks share the
    outermost one.
    """
    with gather.gathering() as gathered:
        yield
    if gathered is None:
        return
    for op, ids in gathered.outbox_by_op().items():
        outbox.record(ids, op)
    if gathered.purge:
        pagecache.purge_all()


@contextmanager
def bulk_import() -> Iterator[None]:
    """A batch of imports: the outbox is applied every gather.APPLY_EVERY rows and at the end, and
    no font build is started per published article (see the module docstring)."""
    outermost = False
    try:
        with gather.batch() as outermost:
            yield
    finally:
        if outermost:
            # What the batch left: applied now (or when the caller's transaction commits).
            outbox.apply_after_commit()
