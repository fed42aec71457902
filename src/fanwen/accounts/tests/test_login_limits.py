"""Password guessing at /account/login/ and /admin/login/: only failed checks count.

Each test runs against both logins: they share the limits and the counters.
"""

from __future__ import annotations

import logging
import time
import types
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.http import HttpResponse
from django.test import Client

from fanwen.accounts.models import Visitor
from fanwen.accounts.visitors import set_visitor_cookie
from fanwen.lib import ratelimit

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
ATTACKER = "203.0.113.66"
# The defaults of settings.py, which the tests below are about.
WINDOW = 900
LOGIN_LIMIT = 10
LOGIN_IP_LIMIT = 30
LOGIN_ACCOUNT_LIMIT = 30
OWNER_IP = "198.51.100.10"


@dataclass
class Door:
    url: str
    # Where a successful login lands.
    success: str
    # Who logs in there.
    username: str


@pytest.fixture(params=["account", "admin"])
def door(request, db) -> Door:
    users = get_user_model().objects
    if request.param == "account":
        users.create_user("alice@example.com", "alice@example.com", PASSWORD)
        return Door("/account/login/", "/account/purchases/", "alice@example.com")
    users.create_user("boss", "boss@example.com", PASSWORD, is_staff=True, is_superuser=True)
    return Door("/admin/login/", "/admin/", "boss")


@pytest.fixture(autouse=True)
def fresh_counters():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def login_settings(settings):
    # Dozens of attempts per test: the production hasher's deliberate slowness is not under test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.FANWEN_LOGIN_WINDOW = WINDOW
    settings.FANWEN_LOGIN_LIMIT = LOGIN_LIMIT
    settings.FANWEN_LOGIN_IP_LIMIT = LOGIN_IP_LIMIT
    settings.FANWEN_LOGIN_ACCOUNT_LIMIT = LOGIN_ACCOUNT_LIMIT


@pytest.fixture
def password_checks(monkeypatch) -> list[str]:
    """The usernames a login form asked the auth backends about."""
    asked: list[str] = []
    real = auth_forms.authenticate

    def spy(request=None, **credentials):
        asked.append(credentials.get("username"))
        return real(request, **credentials)

    monkeypatch.setattr(auth_forms, "authenticate", spy)
    return asked


def attempt(door: Door, password: str, ip: str, client: Client | None = None, username=None):
    client = client or Client()
    data = {"username": username or door.username, "password": password}
    if door.url.startswith("/admin/"):
        data["next"] = "/admin/"
    return client.post(door.url, data, REMOTE_ADDR=ip)


def logged_in(response, door: Door) -> bool:
    return response.status_code == 302 and response["Location"] == door.success


def assert_locked(response) -> None:
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "登录失败次数过多，请在" in response.text


def test_n_wrong_passwords_then_the_right_one_is_refused_without_a_check(door, password_checks):
    answered = [attempt(door, f"guess {n}", ATTACKER).status_code for n in range(LOGIN_LIMIT)]

    blocked = attempt(door, PASSWORD, ATTACKER)

    assert answered == [200] * LOGIN_LIMIT
    assert_locked(blocked)
    assert len(password_checks) == LOGIN_LIMIT


def test_the_lockout_says_when_to_try_again(door, monkeypatch):
    # Five minutes before this window ends.
    now = (time.time() // WINDOW + 1) * WINDOW
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(time=lambda: now - 300))
    for n in range(LOGIN_LIMIT):
        attempt(door, f"guess {n}", ATTACKER)

    blocked = attempt(door, PASSWORD, ATTACKER)

    assert_locked(blocked)
    assert blocked["Retry-After"] == "300"
    assert "请在 5 分钟后再试" in blocked.text


def test_successful_logins_never_count(door):
    for _ in range(LOGIN_LIMIT * 2):
        assert logged_in(attempt(door, PASSWORD, OWNER_IP), door)

    # The whole allowance of failures is still there.
    for n in range(LOGIN_LIMIT):
        assert attempt(door, f"typo {n}", OWNER_IP).status_code == 200
    assert_locked(attempt(door, PASSWORD, OWNER_IP))


def test_the_owners_success_does_not_unlock_the_attacker(door):
    for n in range(LOGIN_LIMIT):
        attempt(door, f"guess {n}", ATTACKER)

    assert logged_in(attempt(door, PASSWORD, OWNER_IP), door)

    assert_locked(attempt(door, "guess again", ATTACKER))


def test_an_attacker_hammering_from_one_ip_does_not_lock_the_owner_out(door, password_checks):
    answers = [attempt(door, f"guess {n}", ATTACKER).status_code for n in range(100)]

    assert answers.count(200) == LOGIN_LIMIT and answers.count(429) == 100 - LOGIN_LIMIT
    assert len(password_checks) == LOGIN_LIMIT
    # The owner, from anywhere else and in a browser never seen before, gets in.
    assert logged_in(attempt(door, PASSWORD, OWNER_IP), door)


def test_guessing_spread_over_many_ips_is_stopped_but_the_owners_browser_gets_in(door):
    owner = get_user_model().objects.get(username=door.username)
    home = Client()
    cookie = HttpResponse()
    set_visitor_cookie(cookie, Visitor.objects.create(user=owner))
    home.cookies[settings.FANWEN_VISITOR_COOKIE] = cookie.cookies[
        settings.FANWEN_VISITOR_COOKIE
    ].value
    for n in range(LOGIN_ACCOUNT_LIMIT):
        assert attempt(door, f"guess {n}", f"192.0.2.{n}").status_code == 200

    # A stranger's browser on a fresh address: the account is closed to it.
    assert_locked(attempt(door, PASSWORD, "192.0.2.200"))
    # The owner's own browser is not.
    assert logged_in(attempt(door, PASSWORD, OWNER_IP, client=home), door)


def test_one_ip_trying_many_accounts_is_stopped(door):
    for n in range(LOGIN_IP_LIMIT):
        attempt(door, "guess", ATTACKER, username=f"user{n}@example.com")

    assert_locked(attempt(door, PASSWORD, ATTACKER))
    # Another address is not held back by this one.
    assert logged_in(attempt(door, PASSWORD, OWNER_IP), door)


def test_an_account_counts_the_same_however_it_is_typed(db):
    get_user_model().objects.create_user("li.lei@example.com", "li.lei@example.com", PASSWORD)
    door = Door("/account/login/", "/account/purchases/", "li.lei@example.com")
    spellings = ["Li.Lei@Example.com", " li.lei@example.com", "LI.LEI@EXAMPLE.COM"]
    for n in range(LOGIN_LIMIT):
        attempt(door, "guess", ATTACKER, username=spellings[n % 3])

    assert_locked(attempt(door, PASSWORD, ATTACKER))


def test_the_window_ends_and_login_works_again(door, monkeypatch):
    for _ in range(LOGIN_LIMIT):
        attempt(door, "guess", ATTACKER)
    assert_locked(attempt(door, PASSWORD, ATTACKER))

    later = time.time() + WINDOW
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(time=lambda: later))

    assert logged_in(attempt(door, PASSWORD, ATTACKER), door)


def test_posts_that_check_no_password_cost_nothing(door):
    for _ in range(LOGIN_LIMIT * 2):
        Client().post(door.url, {"username": door.username}, REMOTE_ADDR=ATTACKER)
    csrf_client = Client(enforce_csrf_checks=True)
    for _ in range(LOGIN_LIMIT * 2):
        refused = attempt(door, "guess", ATTACKER, client=csrf_client)
        assert refused.status_code == 403

    assert logged_in(attempt(door, PASSWORD, ATTACKER), door)


@pytest.mark.parametrize("store", ["cache", "database"])
def test_both_counter_stores_hold_the_limit(door, settings, store):
    settings.FANWEN_RATE_STORE = store
    for n in range(LOGIN_LIMIT):
        attempt(door, f"guess {n}", ATTACKER)

    assert_locked(attempt(door, PASSWORD, ATTACKER))
    assert logged_in(attempt(door, PASSWORD, OWNER_IP), door)


def test_a_failed_login_is_logged_with_the_ip_and_a_masked_account(caplog):
    caplog.set_level(logging.INFO, logger="fanwen.accounts")
    get_user_model().objects.create_user("13800138000", None, PASSWORD)
    door = Door("/account/login/", "/account/purchases/", "138 0013 8000")

    attempt(door, "wrong password", "203.0.113.44")

    failures = [r.getMessage() for r in caplog.records if "login failed" in r.getMessage()]
    assert len(failures) == 1
    assert "203.0.113.44" in failures[0] and "'138****8000'" in failures[0]
    assert "wrong password" not in caplog.text


def test_a_limited_login_is_logged(door, caplog):
    caplog.set_level(logging.WARNING, logger="fanwen.accounts")
    for _ in range(LOGIN_LIMIT + 1):
        attempt(door, "guess", ATTACKER)

    limited = [r.getMessage() for r in caplog.records if "rate limited" in r.getMessage()]
    assert len(limited) == 1 and door.url in limited[0] and ATTACKER in limited[0]


def test_a_limit_of_zero_is_off(door, settings):
    settings.FANWEN_LOGIN_LIMIT = 0
    settings.FANWEN_LOGIN_IP_LIMIT = 0
    settings.FANWEN_LOGIN_ACCOUNT_LIMIT = 0
    for n in range(LOGIN_LIMIT * 2):
        assert attempt(door, f"guess {n}", ATTACKER).status_code == 200

    assert logged_in(attempt(door, PASSWORD, ATTACKER), door)
