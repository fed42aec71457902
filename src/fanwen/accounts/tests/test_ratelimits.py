"""Sign-up limits: per IP and per account, fixed windows, 429 before the form is saved."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from fanwen.accounts import views

pytestmark = pytest.mark.django_db

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


def signup(client, username: str, ip: str = "203.0.113.5"):
    data = {"username": username, "password1": "qingshan-2026!", "password2": "qingshan-2026!"}
    return client.post(SIGNUP, data, REMOTE_ADDR=ip)


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
