"""Backends by alias from a settings dict, built on first use and cached (like Django's STORAGES).

    SOME_BACKENDS = {"alias": {"BACKEND": "dotted.path.Class", "OPTIONS": {...}}}

A backend class is called as Class(alias, options).
"""

from __future__ import annotations

import threading
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

B = TypeVar("B")


class InvalidBackendError(ImproperlyConfigured):
    pass


class BackendHandler(Generic[B]):
    setting: str  # the settings dict, e.g. "PAYMENT_BACKENDS"
    kind: str  # for messages, e.g. "payment"

    def __init__(self) -> None:
        self._backends: dict[str, B] = {}
        # Two first requests at once must not build two backends for one alias.
        self._lock = threading.Lock()

    @property
    def configured(self) -> dict[str, dict[str, Any]]:
        return getattr(settings, self.setting, {})

    def __getitem__(self, alias: str) -> B:
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

    def create_backend(self, alias: str) -> B:
        try:
            params = self.configured[alias]
        except KeyError:
            raise InvalidBackendError(
                f"{self.kind} backend {alias!r} is not in {self.setting}"
            ) from None
        backend_path = params.get("BACKEND")
        if not backend_path:
            raise InvalidBackendError(f"{self.kind} backend {alias!r} has no BACKEND")
        try:
            backend_class = import_string(backend_path)
        except ImportError as exc:
            raise InvalidBackendError(
                f"cannot import {self.kind} backend {backend_path!r}: {exc}"
            ) from exc
        return backend_class(alias, dict(params.get("OPTIONS", {})))

    def close(self, backend: B) -> None:
        """Release what a backend holds when the handler is reset (nothing by default)."""

    def reset(self) -> None:
        with self._lock:
            for backend in self._backends.values():
                self.close(backend)
            self._backends.clear()
