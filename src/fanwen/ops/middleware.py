"""Request ids: one per request, from the proxy when it sent a sane one, on the response and
in every log line written while the request runs (fanwen.ops.logs)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from fanwen.ops.logs import accepted_id, log_request, request_id_var

HEADER = "X-Request-ID"
request_log = logging.getLogger("fanwen.request")


class RequestIdMiddleware:
    """First in MIDDLEWARE, so the id covers every other middleware's log lines and responses."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request_id = accepted_id(request.META.get("HTTP_X_REQUEST_ID"))
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
            response[HEADER] = request_id
            log_request(
                request_log,
                request.method or "",
                request.path,
                response.status_code,
                (time.perf_counter() - started) * 1000,
            )
            return response
        finally:
            request_id_var.reset(token)
