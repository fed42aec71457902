"""Middleware of the protection app."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from fanwen.accounts.visitors import is_staff
from fanwen.lib.clientip import client_ip
from fanwen.protection.pagelimit import (
    COUNTED,
    counted_visitor_id,
    is_reading_path,
    page_limited,
    too_many_response,
)


class PageRateLimitMiddleware:
    """429 for GETs of reading pages over the per-visitor or per-IP page limit.

    Verified search crawlers and staff pass; staff is looked up only for a request already
    over the limit, so ordinary pages load no user.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "GET" and is_reading_path(request.path_info):
            if COUNTED in request.META:
                # The WSGI fast path counted this page already (and missed its cache).
                retry_after = request.META[COUNTED]
            else:
                retry_after = page_limited(
                    client_ip(request),
                    counted_visitor_id(request.COOKIES),
                    request.META.get("HTTP_USER_AGENT", ""),
                )
            if retry_after is not None and not is_staff(request):
                return too_many_response(retry_after)
        return self.get_response(request)
