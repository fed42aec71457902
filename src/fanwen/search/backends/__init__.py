"""SEARCH_BACKENDS: search backends by alias, built on first use and cached (like STORAGES).

SEARCH_BACKENDS = {
    "default": {"BACKEND": "fanwen.search.backends.tantivy.TantivyBackend",
                "OPTIONS": {"path": ""}},
}

from fanwen.search.backends import get_backend
backend = get_backend()
"""

from __future__ import annotations

from fanwen.lib.backends import BackendHandler, InvalidBackendError
from fanwen.search.backends.base import SearchBackend

__all__ = ["InvalidBackendError", "backends"]

DEFAULT_ALIAS = "default"


class SearchBackends(BackendHandler[SearchBackend]):
    setting = "SEARCH_BACKENDS"
    kind = "search"

    def close(self, backend: SearchBackend) -> None:
        backend.close()


backends = SearchBackends()


def get_backend(alias: str = DEFAULT_ALIAS) -> SearchBackend:
    return backends[alias]
