"""Reading pages per window per visitor and per IP, for Django and for the WSGI fast path.

People read a few pages a minute; a scraper reads hundreds. Each reading page counts one hit
in a fixed window (lib/ratelimit: cache.add + cache.incr, atomic on locmem and Redis) for the
IP and, when the request carries a validly signed visitor cookie, for that visitor. Only a
request already over a limit is asked whether it is a verified search crawler (DNS, cached),
so ordinary readers pay two counter updates and nothing more.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpResponse
from django.http.cookie import parse_cookie

from fanwen.accounts.visitors import signed_visitor_id
from fanwen.lib import ratelimit
from fanwen.lib.clientip import client_ip_from_meta
from fanwen.protection.crawlers import is_verified_crawler

SCOPE = "page"
# Home, category pages, article pages and search; not access.json, static files or the API.
READING_PATH = re.compile(r"/(?:|c/.*|a/[0-9]+\.html|search/?)")

TOO_MANY_BODY = (
    '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>访问过于频繁</title></head>"
    '<body style="font-family:sans-serif;text-align:center;padding:4em 1em;color:#333">'
    "<h1>访问过于频繁，请稍后再试</h1>"
    "<p>您在短时间内打开的页面太多，请稍等片刻后刷新本页。</p>"
    "</body></html>"
).encode()


def is_reading_path(path: str) -> bool:
    return READING_PATH.fullmatch(path) is not None


# Seconds until the current fixed window (the same buckets as the counters) ends.
seconds_left = ratelimit.seconds_left


def page_limited(ip: str, visitor_id: str | None, user_agent: str) -> int | None:
    """Count one reading page; None lets it through, else the seconds for Retry-After."""
    ip_limit = settings.FANWEN_PAGE_IP_RATE_LIMIT
    visitor_limit = settings.FANWEN_PAGE_RATE_LIMIT if visitor_id else 0
    if ip_limit <= 0 and visitor_limit <= 0:
        return None
    window = settings.FANWEN_PAGE_RATE_WINDOW
    # Both counters always count, so a visitor switching IPs still uses up its own allowance.
    within_ip = ratelimit.hit(SCOPE, ratelimit.ip_key(ip), limit=ip_limit, window=window)
    within_visitor = visitor_limit <= 0 or ratelimit.hit(
        SCOPE, "v:" + visitor_id, limit=visitor_limit, window=window
    )
    within = within_ip and within_visitor
    if within or is_verified_crawler(ip, user_agent):
        return None
    return seconds_left(window)


def counted_visitor_id(cookies: dict[str, str]) -> str | None:
    """The id to count against the visitor limit: that of a validly signed, unexpired visitor
    cookie (no database lookup); None without one, or while the visitor limit is off, which
    spares the signature check.
    """
    if settings.FANWEN_PAGE_RATE_LIMIT <= 0:
        return None
    return signed_visitor_id(cookies)


def too_many_headers(retry_after: int) -> list[tuple[str, str]]:
    return [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Retry-After", str(retry_after)),
        # A shared cache in front must not hand this page to the next reader.
        ("Cache-Control", "private, no-store"),
        ("Content-Length", str(len(TOO_MANY_BODY))),
    ]


def too_many_response(retry_after: int) -> HttpResponse:
    response = HttpResponse(TOO_MANY_BODY, status=429)
    for name, value in too_many_headers(retry_after):
        response[name] = value
    return response


def limited_wsgi_response(environ: dict) -> tuple[str, list[tuple[str, str]], bytes] | None:
    """page_limited for a raw WSGI request: None, or (status, headers, body) of the 429.

    A request with a session cookie is left to the middleware, which can tell staff apart.
    """
    if environ.get("REQUEST_METHOD") != "GET" or not is_reading_path(environ.get("PATH_INFO", "")):
        return None
    raw_cookies = environ.get("HTTP_COOKIE", "")
    visitor_id = None
    if raw_cookies:
        if settings.SESSION_COOKIE_NAME + "=" in raw_cookies:
            return None
        if settings.FANWEN_VISITOR_COOKIE + "=" in raw_cookies:
            visitor_id = counted_visitor_id(parse_cookie(raw_cookies))
    retry_after = page_limited(
        client_ip_from_meta(environ),
        visitor_id,
        environ.get("HTTP_USER_AGENT", ""),
    )
    if retry_after is None:
        return None
    return "429 Too Many Requests", too_many_headers(retry_after), TOO_MANY_BODY
