"""A reader follows the footer to 退款说明 and 用户协议 on a PC and a phone; the pages read
well on both (no sideways scroll). Screenshots."""

from __future__ import annotations

from pathlib import Path

import pytest

from fanwen.library.tests.factories import empty_cache  # noqa: F401  (autouse: page cache)
from fanwen.pages.tests.fixtures import site_pages  # noqa: F401  (fixture)
from tests.browser.chromium import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("site_pages"),
]
VIEWPORTS = {"pc": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def test_a_reader_reaches_the_refund_rules_and_the_terms_from_the_footer(live_server, settings):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make system-deps)")
    from playwright.sync_api import expect, sync_playwright

    settings.FANWEN_ICP_BEIAN = "京ICP备12345678号-1"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for device, viewport in VIEWPORTS.items():
                page = browser.new_context(viewport=viewport, locale="zh-CN").new_page()
                page.goto(live_server.url + "/")
                footer = page.locator("footer")
                expect(footer).to_contain_text("京ICP备12345678号-1")
                footer.get_by_role("link", name="退款说明").click()
                expect(page.locator("h1")).to_have_text("退款说明")
                expect(page.locator(".info-page h2").first).to_be_visible()
                overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
                assert overflow <= 0, (device, overflow)
                page.screenshot(path=str(ARTIFACTS / f"refunds-{device}.png"), full_page=True)
                page.locator("footer").get_by_role("link", name="用户协议").click()
                expect(page.locator("h1")).to_have_text("用户协议")
                page.close()
        finally:
            browser.close()
