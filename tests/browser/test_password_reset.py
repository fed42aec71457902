"""A reader who forgot the password: 忘记密码？ on the login page, the email's link, a new
password, logged in — on a PC and a phone, no sideways scroll. Screenshots."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.cache import cache

from tests.browser.chromium import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
VIEWPORTS = {"pc": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
LINK = re.compile(r"https?://\S+/account/password/reset/\S+/")


def test_a_reader_resets_the_password_from_the_email_on_a_pc_and_a_phone(live_server, settings):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make system-deps)")
    from playwright.sync_api import expect, sync_playwright

    settings.EMAIL_HOST = "127.0.0.1"  # mail set up; the test runner's outbox receives it
    cache.clear()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for device, viewport in VIEWPORTS.items():
                email = f"wang-{device}@example.com"
                get_user_model().objects.create_user(email, email, "forgotten-Passw0rd")
                mail.outbox.clear()
                page = browser.new_context(viewport=viewport, locale="zh-CN").new_page()
                page.goto(live_server.url + "/account/login/")
                page.get_by_role("link", name="忘记密码？").click()
                expect(page.locator("h1")).to_have_text("找回密码")
                page.get_by_label("注册邮箱").fill(email)
                page.screenshot(path=str(ARTIFACTS / f"reset-form-{device}.png"), full_page=True)
                page.get_by_role("button", name="发送重设密码邮件").click()
                expect(page.locator("h1")).to_have_text("请查收邮件")
                assert len(mail.outbox) == 1 and mail.outbox[0].to == [email]
                page.goto(LINK.search(mail.outbox[0].body).group(0))
                expect(page.locator("h1")).to_have_text("设置新密码")
                page.get_by_label("新密码", exact=True).fill("remembered-Passw0rd-9")
                page.get_by_label("再次输入新密码").fill("remembered-Passw0rd-9")
                overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
                assert overflow <= 0, (device, overflow)
                page.screenshot(path=str(ARTIFACTS / f"reset-new-{device}.png"), full_page=True)
                page.get_by_role("button", name="保存新密码").click()
                expect(page.locator("h1")).to_have_text("密码已更新")
                page.get_by_role("link", name="用新密码登录").click()
                page.get_by_label("邮箱或手机号").fill(email)
                page.get_by_label("密码").fill("remembered-Passw0rd-9")
                page.get_by_role("button", name="登录").click()
                expect(page).to_have_url(re.compile(r"/account/purchases/$"))
                page.close()
        finally:
            browser.close()
