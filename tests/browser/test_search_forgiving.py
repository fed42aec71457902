"""A reader mistypes 入党申请书 in the search box, in Debian's Chromium, on a PC and on a phone:
the page says what it searched instead, finds the article, and offers the query as typed."""

from __future__ import annotations

from pathlib import Path

import pytest

from fanwen import search
from fanwen.library.tests.factories import make_article
from fanwen.search.tests.fixtures import *  # noqa: F403  (own_search_index)
from tests.browser.chromium import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, watch_csp

VIEWPORTS = {"pc": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def assert_no_sideways_scroll(page, device: str) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the {device} viewport"


@pytest.mark.browser
def test_a_mistyped_query_finds_the_article_it_meant_on_pc_and_phone(
    live_server, year_end, own_search_index
):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make system-deps)")
    from playwright.sync_api import expect, sync_playwright

    article = make_article(year_end, title="入党申请书", pieces=2)
    make_article(year_end, title="社区志愿服务工作总结", pieces=1)
    search.apply_outbox()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for device, viewport in VIEWPORTS.items():
                page = browser.new_page(viewport=viewport, locale="zh-CN")
                blocked = watch_csp(page.context, [])
                page.goto(live_server.url + "/")
                box = page.locator(".search-box input[name=q]")
                box.fill("入党申清书")
                box.press("Enter")
                page.wait_for_url("**/search?q=*")
                notice = page.locator(".search-meant")
                expect(notice).to_contain_text(
                    "没有找到「入党申清书」，以下是「入党申请书」的结果。"
                )
                hits = page.locator(".slist h2 a")
                expect(hits).to_have_count(1)
                # The title as the article page shows it.
                expect(hits.first).to_have_text("入党申请书(优秀2篇)")
                expect(page.locator(".search-count")).to_contain_text("找到 1 篇")
                expect(page.locator(".search-wide input[name=q]")).to_have_value("入党申清书")
                assert_no_sideways_scroll(page, device)
                page.screenshot(path=str(ARTIFACTS / f"search-meant-{device}.png"), full_page=True)

                # The query exactly as typed: nothing, and the suggestion as a link.
                notice.get_by_role("link", name="仍然搜索「入党申清书」").click()
                page.wait_for_url("**exact=1*")
                expect(page.locator(".search-empty")).to_contain_text("没有找到")
                offer = page.locator(".search-meant")
                expect(offer).to_have_text("您是不是要找：入党申请书")
                assert_no_sideways_scroll(page, device)
                page.screenshot(path=str(ARTIFACTS / f"search-offer-{device}.png"), full_page=True)

                offer.get_by_role("link", name="入党申请书").click()
                expect(page.locator(".search-wide input[name=q]")).to_have_value("入党申请书")
                expect(page.locator(".search-meant")).to_have_count(0)
                page.locator(".slist h2 a").first.click()
                page.wait_for_url(f"**{article.get_absolute_url()}")
                expect(page.locator("h1")).to_have_text("入党申请书(优秀2篇)")
                page.close()
                assert blocked == [], "the Content-Security-Policy blocked part of a page"
        finally:
            browser.close()
