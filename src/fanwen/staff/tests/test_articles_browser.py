"""The desk in Chromium: a staff member opens a draft whose piece copies a library article,
sees the two side by side, renames it, publishes it (live, in search, in the sitemap), then
edits a paragraph as text and the public page shows it. Screenshots on a PC and a phone."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from fanwen.library.models import Category
from fanwen.library.tests.factories import empty_cache  # noqa: F401  (autouse: page cache)
from fanwen.search.tests.fixtures import *  # noqa: F403  (own_search_index)
from fanwen.staff.tests.article_data import READING, SAFETY, SAFETY_COPY, VOLUNTEER, store_article
from tests.browser.chromium import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
VIEWPORTS = {"pc": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
PASSWORD = "desk-pass-123456"
NEW_TITLE = "社区年度工作总结"
NEW_LINE = "今年我们在每个小区启用了应急广播系统，汛期提前发布预警信息十九次。"


def no_sideways_scroll(page, device: str) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the {device} viewport"


def test_staff_previews_fixes_publishes_and_edits_as_text(live_server, own_search_index):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make system-deps)")
    from playwright.sync_api import expect, sync_playwright

    category = Category.objects.create(name="工作总结", slug="desk-zongjie")
    original = store_article(category, "安全生产工作总结", SAFETY, publish=True)
    draft = store_article(category, "年度工作总结草稿", VOLUNTEER, SAFETY_COPY, READING)
    get_user_model().objects.create_user("xiaobian", password=PASSWORD, is_staff=True)
    public_url = live_server.url + draft.get_absolute_url()
    ARTIFACTS.mkdir(exist_ok=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            desk = browser.new_context(viewport=VIEWPORTS["pc"], locale="zh-CN")
            blocked = watch_csp(desk, [])
            page = desk.new_page()
            page.goto(live_server.url + "/staff/articles/")
            page.fill("#id_username", "xiaobian")
            page.fill("#id_password", PASSWORD)
            page.locator("input[type=submit], button[type=submit]").first.click()
            page.wait_for_url("**/staff/articles/")
            page.screenshot(path=str(ARTIFACTS / "desk-articles-pc.png"), full_page=True)
            page.get_by_role("link", name="年度工作总结草稿(优秀2篇)").click()
            page.wait_for_url(f"**/staff/articles/{draft.pk}/")

            # The flagged piece beside the library article it copies, linked.
            flagged = page.locator("#p2")
            expect(flagged.locator(".dup-flag")).to_contain_text("安全生产工作总结")
            expect(flagged.locator(".dup-this")).to_contain_text("十三次")
            expect(flagged.locator(".dup-other")).to_contain_text("十二次")
            expect(flagged.locator(".dup-this ins.df")).to_have_text("三")
            this_box = flagged.locator(".dup-this").bounding_box()
            other_box = flagged.locator(".dup-other").bounding_box()
            assert other_box["x"] > this_box["x"] + this_box["width"] - 1  # side by side
            assert abs(other_box["y"] - this_box["y"]) < 2
            expect(flagged.locator(f'a[href="/staff/articles/{original.pk}/"]')).to_be_visible()
            expect(page.locator("#p1 h3.pv-h1")).to_contain_text("一级标题")
            expect(page.locator("mark.ph").first).to_have_text("20__")
            page.screenshot(path=str(ARTIFACTS / "desk-preview-pc.png"), full_page=True)

            page.fill("#id_title", NEW_TITLE)
            page.get_by_role("button", name="保存标题").click()
            expect(page.locator("#pv-title")).to_have_text(f"{NEW_TITLE}(优秀2篇)")
            page.get_by_role("button", name="立即发布").click()
            expect(page.locator(".desk-messages")).to_contain_text("已发布")

            reader = browser.new_context(viewport=VIEWPORTS["pc"], locale="zh-CN")
            watch_csp(reader, blocked)
            public = reader.new_page()
            public.goto(public_url)
            expect(public.locator("h1")).to_have_text(f"{NEW_TITLE}(优秀2篇)")
            expect(public.locator(".doc-meta")).to_contain_text("格式:DOCX")
            public.goto(live_server.url + f"/search?q={NEW_TITLE}")
            expect(public.locator(f'a[href="{draft.get_absolute_url()}"]').first).to_be_visible()
            sitemap = reader.request.get(live_server.url + "/sitemap-articles.xml").text()
            assert draft.get_absolute_url() in sitemap

            # Edit a paragraph as text; the live preview reads the headings as it is typed.
            page.locator("#p1").get_by_role("link", name="编辑文本").click()
            page.wait_for_url(f"**/staff/articles/{draft.pk}/pieces/1/")
            box = page.locator("textarea#id_body")
            expect(box).to_have_value(f"一、基本情况\n{VOLUNTEER}")
            box.fill(f"一、基本情况\n{VOLUNTEER}\n二、新的做法\n{NEW_LINE}")
            box.press("End")
            box.type(" ")
            expect(page.locator("#pe-blocks h3.pv-h1")).to_have_count(2)
            expect(page.locator("#pe-live")).to_contain_text("实时")
            page.screenshot(path=str(ARTIFACTS / "desk-piece-editor-pc.png"), full_page=True)
            page.get_by_role("button", name="保存").click()
            page.wait_for_url(f"**/staff/articles/{draft.pk}/#p1")
            expect(page.locator(".desk-messages")).to_contain_text("篇一已保存")
            expect(page.locator("#p1")).to_contain_text(NEW_LINE)

            public.goto(public_url)
            expect(public.locator("#p1")).to_contain_text(NEW_LINE)
            expect(public.locator("#p1 h3.bh1").nth(1)).to_have_text("二、新的做法")

            # The same two pages on a phone.
            phone = browser.new_context(
                viewport=VIEWPORTS["phone"], locale="zh-CN", storage_state=desk.storage_state()
            )
            watch_csp(phone, blocked)
            small = phone.new_page()
            small.goto(live_server.url + f"/staff/articles/{draft.pk}/")
            expect(small.locator("#p2 .dup-other")).to_contain_text("十二次")
            no_sideways_scroll(small, "phone")
            small.screenshot(path=str(ARTIFACTS / "desk-preview-phone.png"), full_page=True)
            small.goto(live_server.url + f"/staff/articles/{draft.pk}/pieces/1/")
            expect(small.locator("textarea#id_body")).to_be_visible()
            no_sideways_scroll(small, "phone")
            small.screenshot(path=str(ARTIFACTS / "desk-piece-editor-phone.png"), full_page=True)
            assert blocked == [], "the Content-Security-Policy blocked part of a page"
        finally:
            browser.close()
