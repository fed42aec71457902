"""Reader pages: a database too busy to write gives the friendly 503 page, not a 500."""

from __future__ import annotations

import pytest
from django.db import InterfaceError, OperationalError
from django.test import RequestFactory

from fanwen.lib.busy import DatabaseBusyMiddleware
from fanwen.lib.sqlite.base import WriteLockTimeout


def test_a_write_lock_timeout_in_a_view_becomes_a_503_page_with_retry_after():
    middleware = DatabaseBusyMiddleware(lambda request: None)
    request = RequestFactory().post("/account/signup/")

    response = middleware.process_exception(request, WriteLockTimeout(10.0))

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "网站正忙" in response.content.decode()


def test_other_errors_pass_through_to_the_500_handler():
    middleware = DatabaseBusyMiddleware(lambda request: None)
    request = RequestFactory().get("/")

    assert middleware.process_exception(request, ValueError("x")) is None


class SavingMiddleware:
    """Stands for the session middleware writing after the view, when the lock is taken."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        self.get_response(request)
        raise WriteLockTimeout(10.0)


@pytest.mark.django_db
def test_a_lock_timeout_raised_by_a_middleware_is_a_503_too(client, settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "fanwen.lib.tests.test_busy.SavingMiddleware"]
    client.raise_request_exception = False

    response = client.get("/robots.txt")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"


@pytest.mark.django_db
def test_any_other_error_keeps_the_500_page(client, settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "fanwen.lib.tests.test_busy.FailingMiddleware"]
    client.raise_request_exception = False

    response = client.get("/robots.txt")

    assert response.status_code == 500
    assert "服务器暂时出错了" in response.content.decode()


class FailingMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        raise ValueError("a bug")


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_a_database_that_went_away_is_a_503_not_a_500(error):
    """A PostgreSQL restart: the connection is gone for a few seconds."""
    middleware = DatabaseBusyMiddleware(lambda request: None)
    request = RequestFactory().get("/a/1.html")

    response = middleware.process_exception(request, error("server closed the connection"))

    assert response.status_code == 503
    assert response["Retry-After"] == "5"


class LostConnectionMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")


@pytest.mark.django_db
def test_a_lost_connection_outside_a_view_is_a_503_too(client, settings):
    settings.MIDDLEWARE = [
        "fanwen.lib.tests.test_busy.LostConnectionMiddleware",
        *settings.MIDDLEWARE,
    ]
    client.raise_request_exception = False

    response = client.get("/robots.txt")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
