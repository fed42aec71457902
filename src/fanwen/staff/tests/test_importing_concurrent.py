"""Two runners on one batch at the same time, in threads with their own connections: every
file is imported exactly once (run on PostgreSQL for real row locks and SKIP LOCKED)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from fanwen.library.models import Article
from fanwen.payments.tests.fixtures import LIVE_DB
from fanwen.staff import importing
from fanwen.staff.importing import create_batch, run_batch
from fanwen.staff.models import ImportBatch
from fanwen.staff.tests.conftest import essay

pytestmark = LIVE_DB


def test_two_runners_at_once_import_each_file_once(media, monkeypatch):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith("file:"):
        pytest.skip("in-memory SQLite is one connection; run with DATABASE_URL=postgres://…")
    # Small groups, so the two runners interleave over many claims.
    monkeypatch.setattr(importing, "GROUP_SIZE", 3)
    files = [(f"{n:02d}.txt", essay(f"并发测试第{n}篇", 500 + n)) for n in range(30)]
    batch = create_batch(
        files,
        user=None,
        category=None,
        category_from_folder=False,
        publish_mode="draft",
        publish_at=None,
    )
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def runner() -> None:
        try:
            start.wait()
            run_batch(batch.pk)
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors
    batch = ImportBatch.objects.get(pk=batch.pk)
    assert (batch.status, batch.total, batch.done, batch.ok) == ("done", 30, 30, 30)
    assert Article.objects.count() == 30
    assert sorted(Article.objects.values_list("source_key", flat=True)) == [
        f"{n:02d}.txt" for n in range(30)
    ]
    # Both runners did a share (the claims interleaved rather than one taking everything).
    assert len(set(batch.items.values_list("claim", flat=True))) == 2
