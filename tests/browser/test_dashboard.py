"""The operator's dashboard in Chromium: a reader opens the paywall (its beacon reaches the
funnel), then staff log in and read the figures on a PC and a phone. Screenshots of both."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from fanwen.lib.money import fen_to_yuan
from fanwen.library.tests.factories import empty_cache, make_article  # noqa: F401  (autouse)
from fanwen.orders.tests.fixtures import plans  # noqa: F401  (fixture)
from fanwen.staff import dashboard
from fanwen.staff.tests import dashboard_data
from fanwen.stats import counters
from fanwen.stats.models import Metric
from tests.browser.chromium import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, watch_csp

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("plans"),
]
PASSWORD = "operator-123456"
VIEWPORTS = {"pc": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def pending_openings() -> int:
    today = (Metric.PAYWALL_OPEN.value, timezone.localdate())
    return counters.daily.pending([today]).get(today, 0)


def test_staff_read_the_figures_on_a_pc_and_a_phone(live_server, plans, settings):  # noqa: F811
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make system-deps)")
    from playwright.sync_api import expect, sync_playwright

    settings.FANWEN_PROTECTION = "js"
    settings.FANWEN_STATS_FLUSH_EVERY = 1000
    made = dashboard_data.build(timezone.localdate(), plans)
    readable = make_article(made.articles["summary"].category, title="社区服务工作总结", pieces=2)
    get_user_model().objects.create_user("yunying", password=PASSWORD, is_staff=True)
    ARTIFACTS.mkdir(exist_ok=True)
    csp: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # A reader opens the paywall twice on one page view: one opening is counted.
            reader = browser.new_context(viewport=VIEWPORTS["pc"], locale="zh-CN")
            page = reader.new_page()
            page.goto(live_server.url + readable.get_absolute_url())
            for _ in range(2):
                page.locator("#pw-download").click()
                expect(page.locator("#pw-modal")).to_be_visible()
                page.locator("#pw-close").click()
            deadline = time.monotonic() + 10
            while pending_openings() < 1 and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(0.5)
            assert pending_openings() == 1
            reader.close()

            for device, viewport in VIEWPORTS.items():
                context = browser.new_context(viewport=viewport, locale="zh-CN")
                watch_csp(context, csp)
                page = context.new_page()
                page.goto(f"{live_server.url}/admin/login/?next=/staff/dashboard/")
                page.fill("#id_username", "yunying")
                page.fill("#id_password", PASSWORD)
                page.locator("input[type=submit]").click()
                expect(page.locator("h1")).to_have_text("数据")
                # The figures as the ORM has them (test_dashboard checks those against SQL).
                board = dashboard.board(30)
                expect(page.locator("#db-gross")).to_have_text(f"{fen_to_yuan(board.gross_fen)}元")
                expect(page.locator("#db-refunds")).to_have_text(
                    f"{fen_to_yuan(board.refund_fen)}元"
                )
                expect(page.locator("#db-net")).to_have_text(f"{fen_to_yuan(board.net_fen)}元")
                expect(page.locator("#db-paid")).to_have_text(f"{board.paid_orders}单")
                # The reader above: one view (450 from the data) and one opening (25 + 1).
                funnel = page.locator("#chart-funnel")
                expect(funnel).to_contain_text("文章浏览 451")
                expect(funnel).to_contain_text("打开付费窗口 26")
                top = board.articles[0]
                link = page.locator(f'#chart-articles a[href="/staff/articles/{top.key}/"]')
                expect(link).to_have_count(1)
                assert page.locator("#chart-revenue rect.db-gross").count() == sum(
                    1 for d in board.revenue if d.gross_fen
                )
                # Nothing sticks out sideways on a phone.
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= viewport["width"], width
                page.screenshot(path=str(ARTIFACTS / f"dashboard-{device}.png"), full_page=True)
                if device == "pc":
                    page.locator(".db-tabs a", has_text="近90天").click()
                    expect(page.locator(".db-tabs a.on")).to_have_text("近90天")
                    board = dashboard.board(90)
                    expect(page.locator("#db-gross")).to_have_text(
                        f"{fen_to_yuan(board.gross_fen)}元"
                    )
                    page.screenshot(path=str(ARTIFACTS / "dashboard-pc-90.png"), full_page=True)
                context.close()
        finally:
            browser.close()
    assert csp == []
