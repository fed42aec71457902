"""A staff user logs in and uploads 5 files on /staff/import/: the progress bar runs to the end
and the per-file results show 4 成功 (one a near-copy of a library article) and 1 已拒绝 with
its reason, on a PC and on a phone."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from fanwen.staff.importing import create_batch, run_batch
from fanwen.staff.models import ImportBatch
from fanwen.staff.tests.conftest import essay
from tests.browser.chromium import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"pc": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def docx_copying(text: str) -> bytes:
    """A Word file whose body is `text` (a near-copy of the library's article)."""
    import docx

    document = docx.Document()
    document.add_heading("班主任工作心得", level=0)
    for line in text.splitlines()[2:]:
        if line.strip():
            document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def no_sideways_scroll(page, device: str) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the {device} viewport"


def test_staff_uploads_five_files_and_sees_the_results(live_server, settings, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make system-deps)")
    from playwright.sync_api import expect, sync_playwright

    settings.MEDIA_ROOT = tmp_path / "media"
    # The upload view runs the batch in a thread of its own. In-memory SQLite (the default test
    # database) refuses a second connection's writes while the live server reads ("table is
    # locked"), so there the test runs the batch itself; with DATABASE_URL=postgres://… the
    # view's thread does.
    in_memory = connection.vendor == "sqlite"
    settings.FANWEN_IMPORT_IN_THREAD = not in_memory
    # The library already holds the article the .docx copies.
    original = (
        run_batch(
            create_batch(
                [("原文.txt", essay("班主任工作总结", 7))],
                user=None,
                category=None,
                category_from_folder=False,
                publish_mode="now",
                publish_at=None,
            ).pk
        )
        .items.get()
        .article
    )
    get_user_model().objects.create_user("xiaobian", password="pw-123456-long", is_staff=True)
    files = [
        ("班主任工作心得.docx", docx_copying(essay("x", 7).decode())),
        ("学习委员工作总结.txt", essay("学习委员工作总结", 1)),
        ("读书心得.md", essay("# 读书心得", 2)),
        (
            "社会实践报告.html",
            b"<html><head><title>\xe7\xa4\xbe\xe4\xbc\x9a\xe5\xae\x9e\xe8\xb7\xb5\xe6\x8a\xa5\xe5\x91\x8a</title></head><body><h1>\xe7\xa4\xbe\xe4\xbc\x9a\xe5\xae\x9e\xe8\xb7\xb5\xe6\x8a\xa5\xe5\x91\x8a</h1>"
            + b"".join(b"<p>" + line + b"</p>" for line in essay("t", 3).splitlines()[2:])
            + b"</body></html>",
        ),
        ("空白.txt", b""),
    ]
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=VIEWPORTS["pc"], locale="zh-CN")
            blocked = watch_csp(context, [])
            page = context.new_page()
            page.goto(live_server.url + "/staff/import/")
            # Sent to log in first, then back to the upload.
            page.fill("#id_username", "xiaobian")
            page.fill("#id_password", "pw-123456-long")
            page.locator("input[type=submit]").click()
            page.wait_for_url("**/staff/import/")
            expect(page.locator("h1")).to_have_text("导入文章")
            page.set_input_files(
                "input[type=file]",
                [
                    {"name": n, "mimeType": "application/octet-stream", "buffer": d}
                    for n, d in files
                ],
            )
            expect(page.get_by_label("保存为草稿")).to_be_checked()
            page.screenshot(path=str(ARTIFACTS / "upload-form-pc.png"), full_page=True)
            page.get_by_role("button", name="开始导入").click()

            page.wait_for_url("**/staff/import/*/")
            batch = ImportBatch.objects.get(items__name="空白.txt")
            if in_memory:
                run_batch(batch.pk)
            expect(page.locator(".imp-count")).to_have_text("已处理 5 / 5", timeout=30_000)
            progress = page.locator("progress")
            expect(progress).to_have_attribute("value", "5")
            expect(progress).to_have_attribute("max", "5")
            rows = page.locator(".imp-results tbody tr")
            expect(rows).to_have_count(5)
            expect(page.locator(".imp-results .imp-badge-ok")).to_have_count(4)
            refused = page.locator(".imp-results tr.imp-refused")
            expect(refused).to_have_count(1)
            expect(refused).to_contain_text("空白.txt")
            expect(refused).to_contain_text("已拒绝")
            expect(refused.locator(".imp-reason")).to_have_text("文件是空的")
            expect(page.locator(".imp-refresh")).to_have_count(0)

            copied = page.locator(".imp-results tr", has_text="班主任工作心得.docx")
            expect(copied.locator(".imp-title")).to_have_text("班主任工作心得")
            item = batch.items.get(name="班主任工作心得.docx")
            expect(copied.get_by_role("link", name="预览/编辑")).to_have_attribute(
                "href", f"/staff/articles/{item.article_id}/"
            )
            expect(copied.locator(".imp-dup")).to_contain_text("近似重复")
            expect(copied.locator(".imp-dup a")).to_have_attribute(
                "href", f"/staff/articles/{original.pk}/#p1"
            )
            expect(copied.locator(".imp-dup a")).to_contain_text("《班主任工作总结》篇一")
            no_sideways_scroll(page, "pc")
            page.screenshot(path=str(ARTIFACTS / "upload-results-pc.png"), full_page=True)

            phone = browser.new_context(
                viewport=VIEWPORTS["phone"], locale="zh-CN", storage_state=context.storage_state()
            )
            watch_csp(phone, blocked)
            small = phone.new_page()
            small.goto(live_server.url + "/staff/import/")
            no_sideways_scroll(small, "phone")
            small.screenshot(path=str(ARTIFACTS / "upload-form-phone.png"), full_page=True)
            small.goto(f"{live_server.url}/staff/import/{batch.pk}/")
            expect(small.locator(".imp-results .imp-badge-ok")).to_have_count(4)
            no_sideways_scroll(small, "phone")
            small.screenshot(path=str(ARTIFACTS / "upload-results-phone.png"), full_page=True)

            # The bar moves while the batch runs: no runner this time until the page is open.
            settings.FANWEN_IMPORT_IN_THREAD = False
            page.goto(live_server.url + "/staff/import/")
            page.set_input_files(
                "input[type=file]",
                [
                    {"name": f"{n}.txt", "mimeType": "text/plain", "buffer": essay(f"第{n}篇", n)}
                    for n in range(40, 43)
                ],
            )
            page.get_by_label("立即发布").check()
            page.get_by_role("button", name="开始导入").click()
            page.wait_for_url("**/staff/import/*/")
            waiting = ImportBatch.objects.get(items__name="40.txt")
            expect(page.locator(".imp-count")).to_have_text("已处理 0 / 3")
            expect(page.locator(".imp-results .imp-badge")).to_have_text(["排队中"] * 3)
            # With JS the 刷新 link hides (the page polls); without JS it is there, and a
            # <noscript> refresh reloads the page.
            expect(page.locator(".imp-refresh")).to_be_hidden()
            plain = browser.new_context(
                java_script_enabled=False, storage_state=context.storage_state()
            )
            plain_page = plain.new_page()
            plain_page.goto(f"{live_server.url}/staff/import/{waiting.pk}/")
            expect(plain_page.locator(".imp-refresh")).to_be_visible()
            plain.close()
            statuses = []
            page.on(
                "response",
                lambda r: statuses.append(r.status) if r.url.endswith("status.json") else None,
            )
            page.wait_for_timeout(1600)
            assert len(statuses) >= 1 and set(statuses) == {200}
            run_batch(waiting.pk)
            expect(page.locator(".imp-results .imp-badge-ok")).to_have_count(3, timeout=10_000)
            expect(page.locator(".imp-count")).to_have_text("已处理 3 / 3")
            assert blocked == []
        finally:
            browser.close()
    batch.refresh_from_db()
    assert (batch.status, batch.ok, batch.refused) == ("done", 4, 1)
