"""`fanwen import` and an upload batch go through one per-file core: same titles, pieces,
categories, and the chrome a group of files repeats is dropped by both."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from fanwen.library.models import Article
from fanwen.staff.importing import create_batch, run_batch
from fanwen.staff.tests.conftest import LIBRARY_FIXTURES, essay

pytestmark = pytest.mark.django_db

CHROME = "星河文库第二编辑部出品"


def files() -> dict[str, bytes]:
    found = {
        f"{n}.txt": essay(f"第{n}篇心得", 900 + n).replace(b"\n\n", f"\n\n{CHROME}\n".encode(), 1)
        for n in range(4)
    }
    found["volunteer.txt"] = (LIBRARY_FIXTURES / "volunteer-summary.txt").read_bytes()
    found["bad.docx"] = b"not a docx"
    return found


def snapshot() -> dict[str, tuple]:
    return {
        article.source_key.split("/")[-1]: (
            article.title,
            article.piece_count,
            article.category.name,
            [piece.blocks for piece in article.pieces.order_by("position")],
        )
        for article in Article.objects.select_related("category")
    }


def test_cli_and_batch_store_the_same(tmp_path, media):
    folder = tmp_path / "心得"
    folder.mkdir()
    for name, data in files().items():
        (folder / name).write_bytes(data)
    out = io.StringIO()
    with pytest.raises(CommandError):  # one bad file: the command exits 1 after the others
        call_command("import_articles", str(folder), "--json", stdout=out, stderr=io.StringIO())
    reports = [json.loads(line) for line in out.getvalue().splitlines()]
    assert sum(r["ok"] for r in reports) == 5
    by_cli = snapshot()
    assert all(CHROME not in json.dumps(v[3], ensure_ascii=False) for v in by_cli.values())
    Article.objects.all().delete()

    batch = run_batch(
        create_batch(
            [(f"心得/{name}", data) for name, data in files().items()],
            user=None,
            category=None,
            category_from_folder=False,
            publish_mode="draft",
            publish_at=None,
        ).pk
    )
    assert (batch.ok, batch.refused) == (5, 1)
    assert snapshot() == by_cli
    refused = batch.items.get(status="refused")
    [cli_refused] = [r for r in reports if not r["ok"]]
    assert refused.reason == cli_refused["error"]
