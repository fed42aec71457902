"""A buyer pays in one browser and restores the purchase in a second: both copy — in Chromium."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.test import override_settings

from fanwen.orders.models import Order
from fanwen.protection.mark import strip_marks
from tests.browser.chromium import ARTIFACTS
from tests.browser.test_paywall import (  # noqa: F401  (fixtures)
    alipay_sandbox,
    body_texts,
    chromium,
    iphone_context,
    live_backend,
    new_context,
    no_csp_violations,
    pay_on_sandbox_page,
    plans,
    sandbox_keys,
    shop,
    try_to_copy,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def fresh_limits():
    # Restores are limited per IP, and every browser here is 127.0.0.1: start from none.
    cache.clear()


def copied_body(page, article, live_server) -> str:
    """Open the article, copy its first paragraph; what the clipboard got, marks taken out."""
    from playwright.sync_api import expect

    page.goto(live_server.url + article.get_absolute_url())
    page.evaluate("navigator.clipboard.writeText('之前复制的内容')")
    expect(page.locator("#doc")).to_have_attribute("data-variant", "clean", timeout=10_000)
    page.evaluate("document.fonts.ready")
    try_to_copy(page)
    # The copy handler may write the clipboard a moment later: wait for it to change.
    deadline = time.monotonic() + 5
    copied = page.evaluate("navigator.clipboard.readText()")
    while copied == "之前复制的内容" and time.monotonic() < deadline:
        page.wait_for_timeout(100)
        copied = page.evaluate("navigator.clipboard.readText()")
    return strip_marks(copied).strip()


def restore_in(page, live_server, number: str) -> str:
    page.goto(live_server.url + "/account/purchases/")
    page.locator("input[name=number]").fill(number)
    with page.expect_navigation():
        page.get_by_role("button", name="恢复到本浏览器").click()
    return page.locator(".acc-alert, .acc-form").first.inner_text()


def buy_on_a_pc(browser, live_server, article):
    """Pay for the article in a new PC browser: (its context, the unlocked page, the order number)."""
    from playwright.sync_api import expect

    context = new_context(browser, live_server, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(live_server.url + article.get_absolute_url())
    try_to_copy(page)
    page.locator('#pw-modal .pw-offer[data-plan="article_copy"]').click()
    pay_on_sandbox_page(context, page)
    expect(page.locator("#doc")).to_have_attribute("data-variant", "clean", timeout=10_000)
    return context, page, Order.objects.get(article=article, status=Order.Status.PAID).out_trade_no


@override_settings(FANWEN_RESTORE_PLACES=3)
def test_a_purchase_restored_in_a_second_browser_copies_in_both(chromium, live_server, shop):  # noqa: F811
    from playwright.sync_api import expect

    article = shop[0]
    first, page, number = buy_on_a_pc(chromium, live_server, article)

    # A phone, never used to buy: the number from the bill, typed with spaces in lower case.
    second = iphone_context(chromium, live_server)
    phone = second.new_page()
    phone.goto(live_server.url + "/account/purchases/")
    expect(phone.locator("#restore-places")).to_contain_text("最多同时在 3 个浏览器使用")
    notice = restore_in(phone, live_server, f"{number[:8].lower()} {number[8:]}")
    assert "已恢复到本浏览器" in notice and "此订单现可在 2 个浏览器使用" in notice
    phone.screenshot(path=str(ARTIFACTS / "restore-phone.png"), full_page=True)
    assert copied_body(phone, article, live_server) == body_texts(article)[0]

    # Served clean, the page copies even before the site has answered what this reader may take.
    held = []
    phone.route("**/text/", lambda route: held.append(route))
    assert copied_body(phone, article, live_server) == body_texts(article)[0]
    assert held, "the page asked the server for the reader's right"
    phone.unroute("**/text/")

    # The first browser keeps it: the page unlocks again and copies.
    assert copied_body(page, article, live_server) == body_texts(article)[0]
    page.goto(live_server.url + "/account/purchases/")
    expect(page.locator(".acc-table")).to_contain_text(f"阅读并复制《{article.title}》")
    page.screenshot(path=str(ARTIFACTS / "restore-pc.png"), full_page=True)
    first.close()
    second.close()


@override_settings(FANWEN_RESTORE_PLACES=2)
def test_one_browser_past_the_limit_drops_the_oldest(chromium, live_server, shop):  # noqa: F811
    from playwright.sync_api import expect

    article = shop[1]
    buyer, page, number = buy_on_a_pc(chromium, live_server, article)

    others = [new_context(chromium, live_server) for _ in range(2)]
    pages = [context.new_page() for context in others]
    restore_in(pages[0], live_server, number)
    notice = restore_in(pages[1], live_server, number)
    assert "最早恢复的浏览器已不再可用" in notice
    assert copied_body(pages[0], article, live_server) == body_texts(article)[0]
    assert copied_body(pages[1], article, live_server) == body_texts(article)[0]

    # The buyer's browser was the oldest: locked again, and 我的购买 says why.
    page.goto(live_server.url + article.get_absolute_url())
    expect(page.locator("#doc")).to_have_attribute("data-variant", "protected")
    page.goto(live_server.url + "/account/purchases/")
    expect(page.locator(".acc-table")).to_contain_text("本浏览器不再可用")
    for context in [buyer, *others]:
        context.close()
