"""Login and sign-up limits: per IP and per account, fixed windows, 429 before any password check."""

from __future__ import annotations

import logging
import time
import types

import pytest
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.core.cache import cache

from fanwen.accounts import views
from fanwen.lib import ratelimit

pytestmark = pytest.mark.django_db

LOGIN = "/account/login/"
SIGNUP = "/account/signup/"
RIGHT = "correct horse battery"


@pytest.fixture(autouse=True)
def fresh_counters():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    # Dozens of attempts per test: the production hasher's deliberate slowness is not under test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def password_checks(monkeypatch) -> list[str]:
    """The usernames the login form asked the auth backends about."""
    asked: list[str] = []
    real = auth_forms.authenticate

    def spy(request=None, **credentials):
        asked.append(credentials.get("username"))
        return real(request, **credentials)

    monkeypatch.setattr(auth_forms, "authenticate", spy)
    return asked


def login(client, username: str, password: str, ip: str = "203.0.113.5"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def signup(client, username: str, ip: str = "203.0.113.5"):
    data = {"username": username, "password1": "qingshan-2026!", "password2": "qingshan-2026!"}
    return client.post(SIGNUP, data, REMOTE_ADDR=ip)


def test_guessing_one_accounts_password_from_many_ips_is_stopped(client, alice, password_checks):
    for n in range(views.LOGIN_LIMIT):
        assert login(client, "alice", f"guess {n}", ip=f"198.51.100.{n}").status_code == 200

    # Even the right password, from a fresh IP: refused without asking the backend.
    blocked = login(client, "alice", RIGHT, ip="192.0.2.77")

    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) == views.LOGIN_WINDOW_SECONDS
    assert views.LOGIN_LIMITED_MESSAGE in blocked.text
    assert "登录尝试次数过多" in blocked.text
    assert len(password_checks) == views.LOGIN_LIMIT
    assert "_auth_user_id" not in client.session


def test_one_ip_trying_many_accounts_is_stopped(client, alice, password_checks):
    for n in range(views.LOGIN_IP_LIMIT):
        assert login(client, f"user{n}@example.com", "guess").status_code == 200

    blocked = login(client, "alice", RIGHT)

    assert blocked.status_code == 429
    assert len(password_checks) == views.LOGIN_IP_LIMIT
    # Another address is not held back by this one.
    assert login(client, "alice", RIGHT, ip="192.0.2.1").status_code == 302


def test_an_account_counts_the_same_however_it_is_typed(client, password_checks):
    get_user_model().objects.create_user("li.lei@example.com", "li.lei@example.com", RIGHT)
    spellings = ["Li.Lei@Example.com", " li.lei@example.com", "LI.LEI@EXAMPLE.COM"]
    for n in range(views.LOGIN_LIMIT):
        login(client, spellings[n % 3], "guess", ip=f"198.51.100.{n}")

    assert login(client, "li.lei@example.com", RIGHT, ip="192.0.2.9").status_code == 429


def test_the_window_ends_and_login_works_again(client, alice, monkeypatch):
    for n in range(views.LOGIN_LIMIT):
        login(client, "alice", "guess", ip=f"198.51.100.{n}")
    assert login(client, "alice", RIGHT).status_code == 429

    later = time.time() + views.LOGIN_WINDOW_SECONDS
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(time=lambda: later))

    assert login(client, "alice", RIGHT).status_code == 302


def test_a_failed_login_is_logged_with_the_ip_and_a_masked_account(client, alice, caplog):
    caplog.set_level(logging.INFO, logger="fanwen.accounts")
    get_user_model().objects.create_user("13800138000", None, RIGHT)

    login(client, "138 0013 8000", "wrong password", ip="203.0.113.44")

    failures = [r.getMessage() for r in caplog.records if "login failed" in r.getMessage()]
    assert len(failures) == 1
    assert "203.0.113.44" in failures[0] and "'138****8000'" in failures[0]
    assert "wrong password" not in caplog.text


def test_a_limited_login_is_logged(client, alice, caplog):
    caplog.set_level(logging.WARNING, logger="fanwen.accounts")
    for n in range(views.LOGIN_LIMIT + 1):
        login(client, "alice@example.com", "guess", ip=f"198.51.100.{n}")

    limited = [r for r in caplog.records if "rate limited" in r.getMessage()]
    assert len(limited) == 1 and "'al***@example.com'" in limited[0].getMessage()


def test_signups_from_one_ip_are_limited_and_the_limited_one_creates_nothing(client):
    for n in range(views.SIGNUP_IP_LIMIT):
        signup(client, f"1380013{n:04d}")
        client.post("/account/logout/")
    users = get_user_model().objects.count()

    blocked = signup(client, "13900139000")

    assert blocked.status_code == 429
    assert views.SIGNUP_LIMITED_MESSAGE in blocked.text
    assert get_user_model().objects.count() == users == views.SIGNUP_IP_LIMIT


def test_probing_one_identifier_by_signing_up_is_limited(client, alice):
    get_user_model().objects.create_user("li.lei@example.com", "li.lei@example.com", RIGHT)
    answers = [
        signup(client, "li.lei@example.com", ip=f"198.51.100.{n}").status_code
        for n in range(views.SIGNUP_LIMIT + 1)
    ]

    assert answers == [400] * views.SIGNUP_LIMIT + [429]
    # The limited answer does not say whether the account exists.
    assert "已经注册" not in signup(client, "li.lei@example.com", ip="192.0.2.3").text
