import uuid

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from fanwen.accounts.models import Visitor
from fanwen.accounts.visitors import current_visitor, get_or_create_visitor

pytestmark = pytest.mark.django_db

COOKIE = settings.FANWEN_VISITOR_COOKIE


def request_with(cookies: dict | None = None):
    request = RequestFactory().get("/")
    request.COOKIES.update(cookies or {})
    return request


def test_a_new_reader_gets_a_visitor_in_a_signed_httponly_lax_cookie_for_a_year():
    response = HttpResponse()
    visitor = get_or_create_visitor(request_with(), response)
    cookie = response.cookies[COOKIE]
    assert Visitor.objects.filter(pk=visitor.pk).exists()
    assert cookie.value != str(visitor.pk) and cookie.value.startswith(str(visitor.pk))  # signed
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == 365 * 86400


def test_the_cookie_names_the_same_visitor_on_the_next_request():
    response = HttpResponse()
    visitor = get_or_create_visitor(request_with(), response)
    next_request = request_with({COOKIE: response.cookies[COOKIE].value})
    second_response = HttpResponse()
    assert current_visitor(next_request) == visitor
    assert get_or_create_visitor(next_request, second_response) == visitor
    assert COOKIE not in second_response.cookies
    assert Visitor.objects.count() == 1


def test_a_forged_cookie_is_ignored_and_replaced():
    victim = Visitor.objects.create()
    forged = request_with({COOKIE: f"{victim.pk}:not-a-signature"})
    assert current_visitor(forged) is None
    fresh = get_or_create_visitor(request_with({COOKIE: str(victim.pk)}), HttpResponse())
    assert fresh != victim


def test_a_validly_signed_cookie_for_a_deleted_visitor_gives_none():
    response = HttpResponse()
    gone = get_or_create_visitor(request_with(), response)
    value = response.cookies[COOKIE].value
    gone.delete()
    assert current_visitor(request_with({COOKIE: value})) is None


def test_a_signed_value_that_is_not_a_uuid_gives_none():
    response = HttpResponse()
    response.set_signed_cookie(COOKIE, "not-a-uuid", salt="fanwen.accounts.visitor")
    assert current_visitor(request_with({COOKIE: response.cookies[COOKIE].value})) is None


def test_visitor_ids_are_random_uuids():
    first, second = Visitor.objects.create(), Visitor.objects.create()
    assert isinstance(first.pk, uuid.UUID) and first.pk.version == 4
    assert first.pk != second.pk


def test_support_finds_a_visitor_by_its_id_in_the_admin(admin_client):
    wanted, other = Visitor.objects.create(), Visitor.objects.create()
    url = reverse("admin:accounts_visitor_changelist")
    response = admin_client.get(url, {"q": str(wanted.pk)})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [wanted]
    assert other not in response.context["cl"].result_list
