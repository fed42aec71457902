"""SEARCH_BACKENDS: search backends by alias, built on first use and cached (like STORAGES).

SEARCH_BACKENDS = {
    "default": {"BACKEND": "fanwen.search.backends.tantivy.TantivyBackend",
                "OPTIONS": {"path": ""}},
}

from fanwen.search.backends import get_backend
backend = get_backend()
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from fanwen.search.backends.base import SearchBackend

DEFAULT_ALIAS = "default"


class InvalidBackendError(ImproperlyConfigured):
    pass


class SearchBackends:
    def __init__(self) -> None:
        self._backends: dict[str, SearchBackend] = {}
        # Two first requests at once must not open the index twice.
        self._lock = threading.Lock()

    @property
    def configured(self) -> dict[str, dict[str, Any]]:
        return getattr(settings, "SEARCH_BACKENDS", {})

    def __getitem__(self, alias: str) -> SearchBackend:
        try:
            return self._backends[alias]
        except KeyError:
            pass
        with self._lock:
            if alias not in self._backends:
                self._backends[alias] = self.create_backend(alias)
            return self._backends[alias]

    def __contains__(self, alias: str) -> bool:
        return alias in self.configured

    def create_backend(self, alias: str) -> SearchBackend:
        try:
            params = self.configured[alias]
        except KeyError:
            raise InvalidBackendError(
                f"search backend {alias!r} is not in SEARCH_BACKENDS"
            ) from None
        backend_path = params.get("BACKEND")
        if not backend_path:
            raise InvalidBackendError(f"search backend {alias!r} has no BACKEND")
        try:
            backend_class = import_string(backend_path)
        except ImportError as exc:
            raise InvalidBackendError(
                f"cannot import search backend {backend_path!r}: {exc}"
            ) from exc
        return backend_class(alias, dict(params.get("OPTIONS", {})))

    def reset(self) -> None:
        with self._lock:
            for backend in self._backends.values():
                backend.close()
            self._backends.clear()


backends = SearchBackends()


def get_backend(alias: str = DEFAULT_ALIAS) -> SearchBackend:
    return backends[alias]
