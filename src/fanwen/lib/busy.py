"""A database too busy to write answers 503 with Retry-After, never a 500 or an endless wait."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.views import defaults

from fanwen.lib.sqlite.base import WriteLockTimeout

log = logging.getLogger("fanwen.busy")


# A lost database connection (a restart, a failover) is over in seconds, like a busy lock.
DATABASE_GONE_RETRY_AFTER = 5


def retry_after(exc: BaseException | None) -> int | None:
    """Seconds to try again in when `exc` means the database is busy or briefly away, else None."""
    if isinstance(exc, WriteLockTimeout):
        return exc.retry_after
    if isinstance(exc, OperationalError | InterfaceError):
        return DATABASE_GONE_RETRY_AFTER
    return None


def busy_response(request: HttpRequest, seconds: int) -> HttpResponse:
    """The friendly page for readers: nothing was lost, try again in a few seconds."""
    try:
        body = loader.render_to_string("503.html", request=request)
    except Exception:
        # The page's context may need the database that is away: a plain page then.
        body = "<!DOCTYPE html><meta charset=utf-8><title>网站正忙</title><p>网站正忙，请稍后再试。"
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(seconds)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a WriteLockTimeout outside a view (a middleware saving the session) is
    still a 503; everything else gets Django's 500 page."""
    seconds = retry_after(sys.exc_info()[1])
    if seconds is not None:
        return busy_response(request, seconds)
    return defaults.server_error(request)


class DatabaseBusyMiddleware:
    """Turns a busy or briefly unreachable database, in any view, into the 503 page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        seconds = retry_after(exc)
        if seconds is None:
            return None
        log.warning("%s %s answered 503: %s", request.method, request.path, exc)
        return busy_response(request, seconds)
