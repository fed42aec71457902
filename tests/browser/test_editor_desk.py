"""The editor's whole round in Chromium: upload a batch of 5 files (a .docx with a piece that
copies a library article, and a bad file) → watch the progress and the per-file results →
open the preview, see the copy beside the original → rename and publish → the article is
live, found by search and listed in the sitemap → edit a paragraph as text → the page shows it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from fanwen.library.models import Article, Category
from fanwen.library.tests.factories import empty_cache  # noqa: F401  (autouse: page cache)
from fanwen.search.tests.fixtures import *  # noqa: F403  (own_search_index)
from fanwen.staff.importing import run_batch
from fanwen.staff.models import ImportBatch
from fanwen.staff.tests.article_data import READING, SAFETY, SAFETY_COPY, VOLUNTEER, store_article
from tests.browser.chromium import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "desk-round-123456"
RENAMED = "社区安全与志愿服务工作心得"
NEW_LINE = "下半年我们给每栋楼配了灭火器和应急灯，逐户讲解使用方法，共走访住户六百余户。"


def word_file() -> bytes:
    """Two pieces: the first the editor's own, the second a near-copy of a library piece."""
    import docx

    document = docx.Document()
    document.add_heading("社区工作心得体会", level=0)
    document.add_paragraph("篇一")
    document.add_heading("一、基本情况", level=1)
    document.add_paragraph(VOLUNTEER)
    document.add_paragraph("篇二")
    document.add_heading("一、基本情况", level=1)
    document.add_paragraph(SAFETY_COPY)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def text_file(title: str, body: str) -> bytes:
    return f"{title}\n\n{body}\n".encode()


def test_upload_preview_rename_publish_and_edit_as_text(
    live_server, settings, tmp_path, own_search_index
):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make system-deps)")
    from playwright.sync_api import expect, sync_playwright

    settings.MEDIA_ROOT = tmp_path / "media"
    # In-memory SQLite refuses the view thread's writes while the live server reads; there the
    # test runs the batch itself, on PostgreSQL the upload's own thread does.
    in_memory = connection.vendor == "sqlite"
    settings.FANWEN_IMPORT_IN_THREAD = not in_memory
    category = Category.objects.create(name="工作总结", slug="gongzuo-zongjie")
    original = store_article(category, "安全生产工作总结", SAFETY, publish=True)
    get_user_model().objects.create_user("xiaobian", password=PASSWORD, is_staff=True)
    files = [
        ("社区工作心得体会.docx", word_file()),
        ("读书笔记.txt", text_file("读书笔记", READING)),
        (
            "家长会发言稿.md",
            text_file(
                "# 家长会发言稿",
                "各位家长：欢迎大家在百忙之中来参加今天的家长会，"
                "这学期孩子们在学习和生活上都有了很大的进步。",
            ),
        ),
        (
            "班级活动总结.html",
            "<html><head><title>班级活动总结_范文网</title></head><body>"
            "<div class='crumbs'>当前位置：首页 &gt; 总结 &gt; 班级总结</div><h1>班级活动总结</h1>"
            "<div class='content'><p>本学期我们班开展了读书节、运动会和志愿服务三项活动，"
            "同学们积极参加，班级凝聚力明显增强。</p><p>阅读：1234次</p></div></body></html>".encode(),
        ),
        ("坏文件.docx", b"PK\x03\x04 this is not a word file"),
    ]
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            blocked = watch_csp(desk, [])
            page = desk.new_page()
            page.goto(live_server.url + "/staff/import/")
            page.fill("#id_username", "xiaobian")
            page.fill("#id_password", PASSWORD)
            page.locator("input[type=submit]").click()
            page.wait_for_url("**/staff/import/")
            page.set_input_files(
                "input[type=file]",
                [
                    {"name": n, "mimeType": "application/octet-stream", "buffer": d}
                    for n, d in files
                ],
            )
            page.get_by_label("保存为草稿").check()
            page.get_by_role("button", name="开始导入").click()
            page.wait_for_url("**/staff/import/*/")
            batch = ImportBatch.objects.get(items__name="坏文件.docx")
            if in_memory:
                run_batch(batch.pk)
            expect(page.locator(".imp-count")).to_have_text("已处理 5 / 5", timeout=30_000)
            expect(page.locator(".imp-results .imp-badge-ok")).to_have_count(4)
            refused = page.locator(".imp-results tr.imp-refused")
            expect(refused).to_have_count(1)
            expect(refused).to_contain_text("坏文件.docx")
            expect(refused.locator(".imp-reason")).not_to_be_empty()
            # The saved page's breadcrumb gives its category; its view counter is not text.
            expect(page.locator(".imp-results tr", has_text="班级活动总结.html")).to_contain_text(
                "班级总结"
            )
            expect(page.locator(".imp-results")).not_to_contain_text("1234")
            row = page.locator(".imp-results tr", has_text="社区工作心得体会.docx")
            expect(row.locator(".imp-dup")).to_contain_text("安全生产工作总结")
            page.screenshot(path=str(ARTIFACTS / "desk-round-results.png"), full_page=True)

            row.get_by_role("link", name="预览/编辑").click()
            page.wait_for_url("**/staff/articles/*/")
            article = Article.objects.get(title="社区工作心得体会")
            assert article.status == Article.Status.DRAFT
            flagged = page.locator("#p2")
            expect(flagged.locator(".dup-flag")).to_contain_text("安全生产工作总结")
            expect(flagged.locator(".dup-this")).to_contain_text("十三次")
            expect(flagged.locator(".dup-other")).to_contain_text("十二次")
            this_box = flagged.locator(".dup-this").bounding_box()
            other_box = flagged.locator(".dup-other").bounding_box()
            assert other_box["x"] >= this_box["x"] + this_box["width"] - 1  # side by side
            expect(flagged.locator(f'a[href="/staff/articles/{original.pk}/"]')).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "desk-round-preview.png"), full_page=True)

            page.fill("#id_title", RENAMED)
            page.get_by_role("button", name="保存标题").click()
            expect(page.locator("#pv-title")).to_contain_text(RENAMED)
            page.get_by_role("button", name="立即发布").click()
            expect(page.locator(".desk-messages")).to_contain_text("已发布")

            reader = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
            watch_csp(reader, blocked)
            public = reader.new_page()
            public_url = live_server.url + article.get_absolute_url()
            public.goto(public_url)
            expect(public.locator("h1")).to_contain_text(RENAMED)
            public.goto(live_server.url + f"/search?q={RENAMED}")
            expect(public.locator(f'a[href="{article.get_absolute_url()}"]').first).to_be_visible()
            sitemap = reader.request.get(live_server.url + "/sitemap-articles.xml").text()
            assert article.get_absolute_url() in sitemap

            page.locator("#p1").get_by_role("link", name="编辑文本").click()
            page.wait_for_url(f"**/staff/articles/{article.pk}/pieces/1/")
            box = page.locator("textarea#id_body")
            expect(box).to_have_value(f"一、基本情况\n{VOLUNTEER}")
            box.fill(f"一、基本情况\n{VOLUNTEER}\n{NEW_LINE}")
            page.get_by_role("button", name="保存").click()
            page.wait_for_url(f"**/staff/articles/{article.pk}/#p1")
            public.goto(public_url)
            expect(public.locator("#p1")).to_contain_text(NEW_LINE)
            public.screenshot(path=str(ARTIFACTS / "desk-round-public-phone.png"), full_page=True)
            assert blocked == [], "the Content-Security-Policy blocked part of a page"
        finally:
            browser.close()
    batch.refresh_from_db()
    assert (batch.status, batch.ok, batch.refused + batch.errors) == ("done", 4, 1)
