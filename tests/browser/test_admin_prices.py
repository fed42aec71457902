"""An operator sets a price in 元 on the plan page in Chromium; the reader's paywall then
offers that price. Screenshots of the plan form on a PC and a phone."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from fanwen.library.tests.factories import empty_cache  # noqa: F401  (autouse: page cache)
from fanwen.orders.models import Plan
from fanwen.orders.tests.fixtures import make_article, plans  # noqa: F401  (fixture)
from tests.browser.chromium import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

# plans: the migration's plans, made again if a transactional test flushed them.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("plans"),
]
PASSWORD = "operator-123456"
VIEWPORTS = {"pc": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def test_an_operator_types_a_price_in_yuan_and_readers_are_offered_it(live_server, summaries):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make system-deps)")
    from playwright.sync_api import expect, sync_playwright

    article = make_article(summaries, "年度个人工作总结")
    plan = Plan.objects.get(code=Plan.Code.ARTICLE_COPY)
    get_user_model().objects.create_superuser("yunying", password=PASSWORD)
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for device, viewport in VIEWPORTS.items():
                page = browser.new_context(viewport=viewport, locale="zh-CN").new_page()
                page.goto(f"{live_server.url}/admin/orders/plan/{plan.pk}/change/")
                page.fill("#id_username", "yunying")
                page.fill("#id_password", PASSWORD)
                page.locator("input[type=submit]").click()
                price = page.locator("#id_price_fen")
                expect(price).to_have_value("5.99" if device == "pc" else "4.99")
                price.fill("4.999")
                page.locator("input[name=_continue]").click()
                expect(page.locator(".errorlist")).to_contain_text("最多两位小数")
                page.locator("#id_price_fen").fill("4.99")
                page.locator("input[name=_continue]").click()
                expect(page.locator("#id_price_fen")).to_have_value("4.99")
                page.screenshot(path=str(ARTIFACTS / f"admin-plan-{device}.png"), full_page=True)
                page.close()
            plan.refresh_from_db()
            assert plan.price_fen == 499
            reader = browser.new_context(viewport=VIEWPORTS["pc"], locale="zh-CN").new_page()
            reader.goto(live_server.url + article.get_absolute_url())
            assert "4.99" in reader.content()
        finally:
            browser.close()
