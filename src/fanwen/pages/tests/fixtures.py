"""The trust pages as the data migration makes them (a transactional test elsewhere may have
flushed the table)."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

__all__ = ["site_pages"]

_DEFAULTS = importlib.import_module("fanwen.pages.migrations.0002_default_pages")


@pytest.fixture
def site_pages(db) -> None:
    _DEFAULTS.create_pages(apps, None)
