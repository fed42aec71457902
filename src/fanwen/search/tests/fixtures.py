"""A search index of the test's own, for tests of any app that search (import with *).

The database rolls back after a test; an index on disk would not, so each test gets a fresh
one under its tmp_path, and search limits are off (tests search many times from one IP).
The check before a search is off too: tests say when the index catches up (apply_outbox).
"""

from __future__ import annotations

import pytest

from fanwen.search.backends import backends

__all__ = ["own_search_index"]


@pytest.fixture
def own_search_index(settings, tmp_path):
    settings.FANWEN_SEARCH_RATE_LIMIT = 0
    settings.FANWEN_SEARCH_IP_RATE_LIMIT = 0
    settings.FANWEN_SEARCH_SYNC_SECONDS = 0
    settings.SEARCH_BACKENDS = {
        "default": {
            "BACKEND": "fanwen.search.backends.tantivy.TantivyBackend",
            "OPTIONS": {"path": str(tmp_path / "search")},
        }
    }
    yield tmp_path / "search"
    backends.reset()
