"""Serve cached anonymous article pages before the rest of the middleware stack runs.

Optional: the article view serves the same cache entries by itself; this only skips the
session, CSRF, auth and messages middleware for the hottest URL. Put it right after
WhiteNoise, so SecurityMiddleware still redirects to HTTPS and sets its headers.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from fanwen.library.views import cached_article_response

ARTICLE_PATH = re.compile(r"/a/([0-9]{1,18})\.html")


def article_page_cache(get_response: Callable[[HttpRequest], HttpResponse]):
    session_cookie = settings.SESSION_COOKIE_NAME

    def middleware(request: HttpRequest) -> HttpResponse:
        if request.method == "GET" and session_cookie not in request.COOKIES:
            match = ARTICLE_PATH.fullmatch(request.path_info)
            if match:
                response = cached_article_response(request, int(match[1]))
                if response is not None:
                    # XFrameOptionsMiddleware sits further in and does not see this response.
                    response["X-Frame-Options"] = settings.X_FRAME_OPTIONS
                    return response
        return get_response(request)

    return middleware
