"""Password reset by email: Django's views in the site's pages, rate limited."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache

from fanwen.accounts.views import RESET_IP_LIMIT, RESET_LIMIT

pytestmark = pytest.mark.django_db

RESET = "/account/password/reset/"
LINK = re.compile(r"https?://[^\s]+/account/password/reset/[^\s]+/")


@pytest.fixture(autouse=True)
def fresh_counters(settings):
    # Mail is set up (the test runner's outbox receives it).
    settings.EMAIL_HOST = "127.0.0.1"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def li():
    return get_user_model().objects.create_user(
        "li@example.com", "li@example.com", "old-password-1234"
    )


def ask(client, email: str, ip: str = "203.0.113.7"):
    return client.post(RESET, {"email": email}, REMOTE_ADDR=ip)


def test_a_reader_gets_a_link_sets_a_new_password_and_logs_in_with_it(client, li, mailoutbox):
    assert RESET in client.get("/account/login/").content.decode()
    page = client.get(RESET).content.decode()
    assert "找回密码" in page and "注册邮箱" in page

    # Typed as people type it: capitals and a trailing space.
    answer = ask(client, " LI@Example.com ")
    assert answer.status_code == 302 and answer["Location"] == "/account/password/reset/sent/"
    assert "请查收邮件" in client.get(answer["Location"]).content.decode()
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["li@example.com"]
    assert settings.SITE_NAME in mail.subject and "重设密码" in mail.subject
    assert "li@example.com" in mail.body
    link = LINK.search(mail.body).group(0)

    # Django swaps the token in the link for one kept in the session, then shows the form.
    opened = client.get(link)
    assert opened.status_code == 302
    form_url = opened["Location"]
    assert "设置新密码" in client.get(form_url).content.decode()
    saved = client.post(
        form_url, {"new_password1": "new-Passw0rd-5678", "new_password2": "new-Passw0rd-5678"}
    )
    assert saved.status_code == 302 and saved["Location"] == "/account/password/reset/done/"
    assert "密码已更新" in client.get(saved["Location"]).content.decode()

    li.refresh_from_db()
    assert li.check_password("new-Passw0rd-5678") and not li.check_password("old-password-1234")
    login = client.post(
        "/account/login/", {"username": "li@example.com", "password": "new-Passw0rd-5678"}
    )
    assert login.status_code == 302
    # The link works once.
    client.logout()
    again = client.get(link, follow=True).content.decode()
    assert "这个链接已失效" in again


def test_an_unknown_address_and_a_phone_account_look_the_same_and_get_no_mail(client, mailoutbox):
    get_user_model().objects.create_user("13812345678", "", "phone-password-1234")
    for email in ("nobody@example.com", "13812345678@example.com"):
        answer = ask(client, email)
        assert answer.status_code == 302 and answer["Location"] == "/account/password/reset/sent/"
    assert mailoutbox == []
    assert "用手机号注册的账户" in client.get(RESET).content.decode()


def test_a_forged_or_mangled_link_says_it_is_no_longer_valid(client, li):
    page = client.get("/account/password/reset/MQ/abc-0123456789abcdef/", follow=True)
    assert page.status_code == 200
    assert "这个链接已失效" in page.content.decode()
    assert "new_password1" not in page.content.decode()


def test_requests_are_limited_per_address_and_per_ip(client, li, mailoutbox):
    for _ in range(RESET_LIMIT):
        assert ask(client, "li@example.com").status_code == 302
    held = ask(client, "li@example.com", ip="198.51.100.1")  # another IP, the same inbox
    assert held.status_code == 429
    assert held["Retry-After"] == "3600"
    assert "请求过多" in held.content.decode()
    assert len(mailoutbox) == RESET_LIMIT

    # One IP going through many addresses is held too.
    for n in range(RESET_IP_LIMIT - RESET_LIMIT):
        assert ask(client, f"someone{n}@example.com").status_code == 302
    assert ask(client, "another@example.com").status_code == 429
    assert ask(client, "another@example.com", ip="198.51.100.2").status_code == 302


def test_without_mail_set_up_the_page_sends_readers_to_support_and_nothing_breaks(
    client, li, settings, mailoutbox
):
    settings.EMAIL_HOST = ""
    page = client.get(RESET).content.decode()
    assert "暂未开通邮件找回密码" in page and "/contact/" in page and 'name="email"' not in page
    answer = ask(client, "li@example.com")
    assert answer.status_code == 200 and "暂未开通邮件找回密码" in answer.content.decode()
    assert mailoutbox == []
