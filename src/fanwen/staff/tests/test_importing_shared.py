"""Several nodes, one bucket: a file uploaded to the desk on one node is imported by a batch
runner on another, and the bucket keeps nothing of it afterwards. S3 is moto's server."""

from __future__ import annotations

import pytest

from fanwen.lib.tests.s3 import *  # noqa: F403  (the s3 and node fixtures)
from fanwen.library.models import Article
from fanwen.staff import views_import
from fanwen.staff.importing import run_batch
from fanwen.staff.models import ImportBatch
from fanwen.staff.tests.conftest import LIBRARY_FIXTURES, essay, make_zip
from fanwen.staff.tests.test_views_import import upload

pytestmark = pytest.mark.django_db


def test_an_upload_on_one_node_is_imported_by_a_runner_on_another(
    client, editor, node, s3, settings, monkeypatch, django_capture_on_commit_callbacks
):
    var_a = node("a")
    started = []
    # The worker on node b runs the batch, not a thread of the node that took the upload.
    monkeypatch.setattr(views_import, "run_batch_in_thread", started.append)
    client.force_login(editor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/staff/import/",
            {
                "files": [
                    upload("一.txt", essay("第一篇范文", 1)),
                    upload("范文.zip", make_zip({"心得/二.txt": essay("第二篇范文", 2)})),
                    upload("志愿.txt", (LIBRARY_FIXTURES / "volunteer-summary.txt").read_bytes()),
                ],
                "category": "folder",
                "publish_mode": "draft",
            },
        )
    assert response.status_code == 302
    batch = ImportBatch.objects.get()
    stored = s3.keys(f"media/imports/{batch.pk}/")
    assert len(stored) == 3
    assert not (var_a / "media").exists(), "the upload went to the bucket, not node a's disk"

    var_b = node("b")
    with django_capture_on_commit_callbacks(execute=True):  # the stored files' removal
        batch = run_batch(batch.pk)
    assert (batch.status, batch.ok, batch.refused, batch.errors) == ("done", 3, 0, 0)
    titles = set(Article.objects.values_list("title", flat=True))
    assert {"第一篇范文", "第二篇范文"} <= titles and len(titles) == 3
    assert s3.keys("media/imports/") == []
    assert not (var_b / "media").exists()


def test_a_file_gone_from_the_bucket_is_reported_not_imported(
    editor, node, s3, django_capture_on_commit_callbacks
):
    from fanwen.staff.importing import create_batch

    node("a")
    batch = create_batch(
        [("一.txt", essay("第一篇范文", 1))],
        user=editor,
        category=None,
        category_from_folder=False,
        publish_mode="draft",
        publish_at=None,
    )
    (key,) = s3.keys("media/imports/")
    s3.client().delete_object(Bucket=s3.bucket, Key=f"{s3.prefix}/{key}")
    node("b")
    with django_capture_on_commit_callbacks(execute=True):
        batch = run_batch(batch.pk)
    item = batch.items.get()
    assert batch.status == "done" and item.status != "ok"
    assert "不在存储中" in item.reason
