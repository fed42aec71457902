"""What a search backend does; the facade (fanwen.search) does the rest."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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
    piece_count: int = 1


@dataclass(frozen=True)
class Page:
    """One page of matches, and how many there are: exact, or (beyond what pruning could
    count without reading every match) an estimate."""

    total: int
    exact: bool = True
    found: list[Found] = field(default_factory=list)


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
    ) -> Page:
        """The `limit` best matches from `offset` among articles public at `now`, and their
        number (exact when it is known without scoring every match)."""
        raise NotImplementedError

    # --- the suggestion vocabulary (fanwen.search.suggestions.Vocabulary) -------------------------

    def entries_by_pinyin(self, key: str) -> dict[str, int]:
        """Title entries whose toneless pinyin is `key` → in how many articles they occur."""
        return {}

    def entries_near(self, keys: Iterable[str]) -> dict[str, int]:
        """Title entries that are one of `keys` or become one with a character left out."""
        return {}

    def text_frequency(self, text: str, cap: int) -> int:
        """In how many articles `text` (folded) occurs as written, counted up to about `cap`."""
        return 0

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
