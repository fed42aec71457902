"""Reader pages: a database too busy to write gives the friendly 503 page, not a 500."""

from __future__ import annotations

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
