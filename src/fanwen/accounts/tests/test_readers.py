"""The two questions every reading view asks: a staff member? which signed visitor?"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.signing import get_cookie_signer
from django.test import RequestFactory

from fanwen.accounts.visitors import COOKIE_SALT, is_staff, signed_visitor_id

VISITOR = "6f1c2a4e-1111-4222-8333-944455556666"


def signed(value: str, salt: str = COOKIE_SALT) -> str:
    name = settings.FANWEN_VISITOR_COOKIE
    return get_cookie_signer(salt=name + salt).sign(value)


def test_a_validly_signed_cookie_names_its_visitor():
    assert signed_visitor_id({settings.FANWEN_VISITOR_COOKIE: signed(VISITOR)}) == VISITOR


@pytest.mark.parametrize(
    "cookies",
    [
        {},
        {"fw_visitor": ""},
        {"fw_visitor": VISITOR},  # unsigned
        {"fw_visitor": signed(VISITOR)[:-2] + "xx"},  # tampered
        {"fw_visitor": signed(VISITOR, salt="fanwen.other.purpose")},  # signed for another use
    ],
)
def test_anything_else_names_no_visitor(cookies):
    assert signed_visitor_id(cookies) is None


def test_an_expired_cookie_names_no_visitor(settings):
    value = signed(VISITOR)
    settings.FANWEN_VISITOR_COOKIE_DAYS = -1

    assert signed_visitor_id({settings.FANWEN_VISITOR_COOKIE: value}) is None


def test_a_reader_without_a_session_cookie_is_not_staff_and_loads_no_user():
    request = RequestFactory().get("/")
    # No `user` attribute at all: touching it would raise.
    assert is_staff(request) is False


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"is_staff": True}, True),
        ({"is_staff": True, "is_active": False}, False),
        ({"is_staff": False}, False),
    ],
)
def test_only_an_active_staff_member_is_staff(fields, expected):
    user = get_user_model().objects.create_user("kefu", password="x" * 12, **fields)
    request = RequestFactory().get("/")
    # What the session and auth middleware leave for a logged-in reader.
    request.COOKIES = {settings.SESSION_COOKIE_NAME: "session"}
    request.user = user

    assert is_staff(request) is expected
