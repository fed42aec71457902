"""A reader walks home → category → article in Debian's Chromium, on a PC and on a phone."""

from __future__ import annotations

from pathlib import Path

import pytest

from fanwen.library.tests.factories import make_article
from tests.browser.chromium import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, watch_csp

VIEWPORTS = {"pc": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
TITLE = "社区志愿服务工作总结(优秀3篇)"


def assert_no_sideways_scroll(page, device: str) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the {device} viewport"


@pytest.mark.browser
def test_reader_goes_from_home_to_category_to_article_on_pc_and_phone(live_server, year_end):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make system-deps)")
    from playwright.sync_api import expect, sync_playwright

    article = make_article(year_end, title="社区志愿服务工作总结", pieces=3)
    make_article(year_end, title="街道文明创建工作总结", pieces=2, view_count=12)
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for device, viewport in VIEWPORTS.items():
                page = browser.new_page(viewport=viewport, locale="zh-CN")
                blocked = watch_csp(page.context, [])
                page.goto(live_server.url + "/")
                expect(page.locator(".cats")).to_contain_text("工作总结")
                assert_no_sideways_scroll(page, device)
                page.screenshot(path=str(ARTIFACTS / f"home-{device}.png"), full_page=True)

                page.locator(".cats").get_by_role("link", name="年终总结").click()
                expect(page.locator(".crumbs")).to_have_text(
                    "当前位置：网站首页 >> 工作总结 >> 年终总结"
                )
                expect(page.locator(".clist li")).to_have_count(2)
                assert_no_sideways_scroll(page, device)
                page.screenshot(path=str(ARTIFACTS / f"category-{device}.png"), full_page=True)

                page.get_by_role("link", name=TITLE).click()
                page.wait_for_url(f"**{article.get_absolute_url()}")
                expect(page.locator(".crumbs")).to_have_text(
                    f"当前位置：网站首页 >> 工作总结 >> 年终总结 >> {TITLE}"
                )
                expect(page.locator("h1")).to_have_text(TITLE)
                nav = page.locator(".piece-nav a")
                expect(nav).to_have_text(["篇一", "篇二", "篇三"])
                for n in (1, 2, 3):
                    expect(page.locator(f"#p{n} h2")).to_be_visible()
                expect(page.locator("#p2 h3").first).to_have_text("一、主要做法")
                expect(page.get_by_text("全文阅读已结束")).to_be_visible()
                expect(page.locator(".col-side")).to_contain_text("街道文明创建工作总结")
                assert_no_sideways_scroll(page, device)
                page.screenshot(path=str(ARTIFACTS / f"article-{device}.png"), full_page=True)

                nav.nth(2).click()
                expect(page).to_have_url(f"{live_server.url}{article.get_absolute_url()}#p3")
                expect(page.locator("#p3 h2")).to_be_in_viewport()

                page.goto(live_server.url + "/search?q=工作总结")
                expect(page.locator(".search-wide")).to_be_visible()
                page.close()
                assert blocked == [], "the Content-Security-Policy blocked part of a page"
        finally:
            browser.close()
