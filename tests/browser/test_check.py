"""原创度检测 in Chromium on a PC and a phone: a buyer pastes a draft with a library sentence,
sees the share and the sentence marked, linking to its article; then keeps a report."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.cache import cache

from fanwen.checks import matching
from fanwen.checks.tests.conftest import SAFETY, VOLUNTEER, reindex, write_article
from fanwen.library.models import Category
from fanwen.library.tests.factories import empty_cache  # noqa: F401  (autouse: page cache)
from fanwen.search.tests.fixtures import own_search_index  # noqa: F401  (fixture)
from tests.browser.chromium import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
VIEWPORTS = {"pc": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
OWN = (
    "我们车间今年新招了十二名学徒，由八位老师傅一对一带教，三个月后全部通过了岗位考核。",
    "下一步，我们准备把带教经验整理成一本小册子，发给每个班组参考。",
)


def test_a_buyer_sees_the_share_and_the_copied_sentence_linked_to_its_article(
    live_server,
    own_search_index,  # noqa: F811
):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make system-deps)")
    from playwright.sync_api import expect, sync_playwright

    cache.clear()
    matching.clear_cache()
    category = Category.objects.create(name="工作总结", slug="zongjie")
    article = write_article(category, "安全生产工作总结", *SAFETY)
    write_article(category, "社区志愿服务总结", *VOLUNTEER)
    reindex()
    copied = SAFETY[1].replace("逐栋", "逐个")  # lightly edited
    draft = f"{OWN[0]}{copied}\n{OWN[1]}"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for device, viewport in VIEWPORTS.items():
                context = browser.new_context(viewport=viewport, locale="zh-CN")
                blocked = watch_csp(context, [])
                page = context.new_page()
                page.goto(live_server.url + "/")
                page.locator("footer").get_by_role("link", name="原创度检测").click()
                expect(page.locator("h1")).to_have_text("原创度检测")
                page.locator("#ck-draft").fill(draft)
                page.get_by_role("button", name="开始检测").click()
                expect(page.locator("#ck-share")).to_have_text("33%")
                hit = page.locator("a.ck-hit")
                expect(hit).to_have_count(1)
                expect(hit.locator("mark")).to_have_text(copied)
                expect(hit).to_have_attribute("href", article.get_absolute_url())
                expect(page.locator(".ck-sources a")).to_have_text(["安全生产工作总结"])
                # The library's own words are not on the page, only the buyer's.
                expect(page.locator(".ck-result")).not_to_contain_text(SAFETY[1])
                overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
                assert overflow <= 0, (device, overflow)
                page.screenshot(path=str(ARTIFACTS / f"check-{device}.png"), full_page=True)
                # The marked sentence opens its article.
                with context.expect_page() as opened:
                    hit.click()
                source = opened.value
                source.wait_for_load_state()
                expect(source.locator("h1")).to_have_text("安全生产工作总结")
                source.close()
                if device == "phone":
                    # Kept: a private link that shows the same report.
                    page.locator("#ck-draft").fill(draft)
                    page.locator("input[name=keep]").check()
                    page.get_by_role("button", name="开始检测").click()
                    page.wait_for_url("**/check/r/*/")
                    expect(page.locator("#ck-share")).to_have_text("33%")
                    expect(page.locator("a.ck-hit mark")).to_have_text(copied)
                    page.screenshot(path=str(ARTIFACTS / "check-report-phone.png"), full_page=True)
                assert not blocked, blocked
                context.close()
        finally:
            browser.close()
