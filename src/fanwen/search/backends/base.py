"""What a search backend does; the facade (fanwen.search) does the rest."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fanwen.search.analysis import ParsedQuery
from fanwen.search.documents import FreeParts, IndexDoc


class SearchBusy(Exception):
    """Another process is writing the index; the outbox rows wait for the next pass."""


@dataclass(frozen=True)
class Found:
    article_id: int
    title: str
    # What the result may show besides the title: never the body.
    free: FreeParts
    category_id: int
    published_at: datetime | None
    score: float


class IndexWriter:
    # Called after the index commit, still holding the write lock (the log cursor is saved
    # there: after the commit, so a crash between the two replays rows rather than skips them).
    after_commit: Callable[[], None] | None = None

    def replace(self, docs: list[IndexDoc], remove_ids: Iterable[int]) -> None:
        """Drop every document of `remove_ids`, then add `docs` (one commit at the end)."""
        raise NotImplementedError


class SearchBackend:
    def __init__(self, alias: str, options: dict[str, Any]) -> None:
        self.alias = alias
        self.options = options

    def search(
        self,
        query: ParsedQuery,
        *,
        category_id: int | None,
        offset: int,
        limit: int,
        now: datetime,
    ) -> tuple[int, list[Found]]:
        """(number of matches, the `limit` best from `offset`) among articles public at `now`."""
        raise NotImplementedError

    def related(self, terms: list[str], *, exclude_id: int, limit: int, now: datetime) -> list[int]:
        raise NotImplementedError

    @contextmanager
    def writer(self) -> Iterator[IndexWriter]:
        """A writer holding the index's write lock; commits on leaving. Raises SearchBusy."""
        raise NotImplementedError
        yield

    def rebuild(
        self,
        batches: Iterable[list[IndexDoc]],
        *,
        jobs: int = 1,
        progress=None,
        after_commit: Callable[[], None] | None = None,
    ) -> int:
        """Replace the whole index with `batches`, visible at once at the end; returns the count.

        `after_commit` runs after the commit, before the write lock is released."""
        raise NotImplementedError

    def load_cursor(self) -> dict | None:
        """What the index holds of the search log (fanwen.search.follow), saved with it; None
        for an index that has never followed it."""
        raise NotImplementedError

    def save_cursor(self, state: dict) -> None:
        raise NotImplementedError

    def cursor_version(self) -> object:
        """Changes whenever the cursor is saved (by any process): readers then reload."""
        return None

    def reload(self) -> None:
        pass

    def location(self) -> str:
        """Where the index lives (names the node when FANWEN_NODE_NAME is empty)."""
        return self.alias

    def doc_ids(self) -> set[int]:
        raise NotImplementedError

    def close(self) -> None:
        pass
