"""A database too busy to write answers 503 with Retry-After, never a 500 or an endless wait."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.views import defaults

from fanwen.lib.sqlite.base import WriteLockTimeout

log = logging.getLogger("fanwen.busy")


def busy_response(request: HttpRequest, exc: WriteLockTimeout) -> HttpResponse:
    """The friendly page for readers: nothing was lost, try again in a few seconds."""
    body = loader.render_to_string("503.html", request=request)
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(exc.retry_after)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a WriteLockTimeout outside a view (a middleware saving the session) is
    still a 503; everything else gets Django's 500 page."""
    exc = sys.exc_info()[1]
    if isinstance(exc, WriteLockTimeout):
        return busy_response(request, exc)
    return defaults.server_error(request)


class DatabaseBusyMiddleware:
    """Turns WriteLockTimeout raised by any view into the 503 page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not isinstance(exc, WriteLockTimeout):
            return None
        log.warning("%s %s answered 503: %s", request.method, request.path, exc)
        return busy_response(request, exc)
