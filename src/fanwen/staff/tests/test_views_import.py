"""/staff/import/: the form, size limits, CSRF, the batch page and its status.json."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from fanwen.library.models import Category
from fanwen.staff import views_import
from fanwen.staff.importing import run_batch
from fanwen.staff.models import ImportBatch
from fanwen.staff.tests.conftest import LIBRARY_FIXTURES, essay

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(client, editor):
    client.force_login(editor)
    return client


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def test_the_form_lists_categories_as_a_tree(desk):
    top = Category.objects.create(name="工作总结", slug="zongjie")
    Category.objects.create(name="年终总结", slug="nianzhong", parent=top)
    html = desk.get("/staff/import/").content.decode()
    assert 'type="file"' in html and "multiple" in html and 'enctype="multipart/form-data"' in html
    assert "按文件所在文件夹" in html
    assert re.search(r">工作总结</option>", html)
    assert re.search(r">\u3000年终总结</option>", html)
    for label in ("保存为草稿", "立即发布", "定时发布", 'type="datetime-local"'):
        assert label in html
    assert "还没有导入过文件" in html


def test_an_upload_makes_a_batch_and_starts_it_after_commit(
    desk, editor, media, monkeypatch, django_capture_on_commit_callbacks
):
    started = []
    monkeypatch.setattr(views_import, "run_batch_in_thread", started.append)
    category = Category.objects.create(name="心得体会", slug="xinde")
    with django_capture_on_commit_callbacks(execute=True):
        response = desk.post(
            "/staff/import/",
            {
                "files": [
                    upload("a.txt", essay("第一篇", 1)),
                    upload("志愿.txt", (LIBRARY_FIXTURES / "volunteer-summary.txt").read_bytes()),
                    upload("坏.docx", b"broken"),
                ],
                "category": str(category.pk),
                "publish_mode": "now",
            },
        )
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/staff/import/{batch.pk}/"
    assert started == [batch.pk]
    assert (batch.total, batch.category, batch.publish_mode, batch.created_by) == (
        3,
        category,
        "now",
        editor,
    )

    page = desk.get(f"/staff/import/{batch.pk}/").content.decode()
    assert "已处理 0 / 3" in page and "<progress" in page and "import-progress.js" in page
    assert 'http-equiv="refresh"' in page  # inside <noscript>: the page works without JS
    assert desk.get(f"/staff/import/{batch.pk}/status.json").json() == {
        "id": batch.pk,
        "status": "queued",
        "status_label": "排队中",
        "total": 3,
        "done": 0,
        "ok": 0,
        "refused": 0,
        "errors": 0,
        "finished": False,
    }

    run_batch(batch.pk)
    status = desk.get(f"/staff/import/{batch.pk}/status.json").json()
    assert (status["done"], status["ok"], status["refused"], status["finished"]) == (3, 2, 1, True)
    page = desk.get(f"/staff/import/{batch.pk}/").content.decode()
    assert "已处理 3 / 3" in page and 'http-equiv="refresh"' not in page
    volunteer = batch.items.get(name="志愿.txt").article
    assert f'href="/staff/articles/{volunteer.pk}/">预览/编辑' in page
    assert "社区志愿服务工作总结" in page and "3 篇" in page
    assert "近似重复" in page and f"/staff/articles/{volunteer.pk}/#p3" in page
    assert page.count("imp-badge-ok") == 2 and "已拒绝" in page
    assert batch.items.get(name="坏.docx").reason in page
    # The recent batches under the form.
    assert f'href="/staff/import/{batch.pk}/"' in desk.get("/staff/import/").content.decode()


def test_from_folder_and_publish_at_time(desk, media, monkeypatch):
    monkeypatch.setattr(views_import, "run_batch_in_thread", lambda pk: None)
    response = desk.post(
        "/staff/import/",
        {"files": [upload("a.txt", b"x")], "category": "folder", "publish_mode": "at"},
    )
    assert response.status_code == 400 and "定时发布请填写发布时间" in response.content.decode()
    response = desk.post(
        "/staff/import/",
        {
            "files": [upload("a.txt", b"x")],
            "category": "folder",
            "publish_mode": "at",
            "publish_at": "2099-01-02T08:30",
        },
    )
    assert response.status_code == 302
    batch = ImportBatch.objects.get()
    assert batch.category is None and batch.category_from_folder is True
    # datetime-local is Beijing time.
    assert batch.publish_at.isoformat() == "2099-01-02T00:30:00+00:00"


def test_size_limits_are_refused_in_chinese_and_store_nothing(desk, media, settings):
    settings.FANWEN_UPLOAD_MAX_FILE_BYTES = 1000
    response = desk.post(
        "/staff/import/",
        {"files": [upload("大.txt", b"x" * 2000)], "category": "folder", "publish_mode": "draft"},
    )
    assert response.status_code == 400
    assert "单个文件不能超过" in response.content.decode() and "大.txt" in response.content.decode()
    settings.FANWEN_UPLOAD_MAX_REQUEST_BYTES = 500
    response = desk.post(
        "/staff/import/",
        {"files": [upload("a.txt", b"x" * 600)], "category": "folder", "publish_mode": "draft"},
    )
    assert response.status_code == 413
    assert "一次上传的文件合计不能超过" in response.content.decode()
    response = desk.post(
        "/staff/import/",
        {"files": [upload("a.exe", b"MZ")], "category": "folder", "publish_mode": "draft"},
    )
    assert response.status_code == 400 and "只能上传" in response.content.decode()
    assert not ImportBatch.objects.exists()
    assert not (media / "imports").exists()


def test_a_post_without_the_csrf_token_is_refused(editor, media):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    response = client.post(
        "/staff/import/",
        {"files": [upload("a.txt", essay("题目", 1))], "category": "folder", "publish_mode": "now"},
    )
    assert response.status_code == 403
    assert not ImportBatch.objects.exists()
    assert not (media / "imports").exists()
    # The same post with the token from the form goes through.
    page = client.get("/staff/import/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(
        "/staff/import/",
        {
            "files": [upload("a.txt", essay("题目", 1))],
            "category": "folder",
            "publish_mode": "draft",
            "csrfmiddlewaretoken": token,
        },
    )
    assert response.status_code == 302 and ImportBatch.objects.count() == 1


def test_a_missing_batch_is_404(desk):
    assert desk.get("/staff/import/999/").status_code == 404
    assert desk.get("/staff/import/999/status.json").status_code == 404
