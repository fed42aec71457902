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
# Set in the WSGI environ by the fast path once it counted a page (the verdict: None or the
# Retry-After seconds), so that the middleware does not count the same page again.
COUNTED = "fanwen.page_limit"
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


def page_counters(visitor_id: str | None) -> list[tuple[str | None, int]]:
    """The counters a reading page bumps: (visitor id or None for the IP's, its limit)."""
    counters: list[tuple[str | None, int]] = []
    if settings.FANWEN_PAGE_IP_RATE_LIMIT > 0:
        counters.append((None, settings.FANWEN_PAGE_IP_RATE_LIMIT))
    if visitor_id and settings.FANWEN_PAGE_RATE_LIMIT > 0:
        counters.append((visitor_id, settings.FANWEN_PAGE_RATE_LIMIT))
    return counters


def counter_ident(ip: str, visitor_id: str | None) -> str:
    return ratelimit.ip_key(ip) if visitor_id is None else "v:" + visitor_id


def verdict(within: bool, ip: str, user_agent: str) -> int | None:
    """None lets the page through, else the seconds for Retry-After."""
    if within or is_verified_crawler(ip, user_agent):
        return None
    return seconds_left(settings.FANWEN_PAGE_RATE_WINDOW)


def page_limited(ip: str, visitor_id: str | None, user_agent: str) -> int | None:
    """Count one reading page; None lets it through, else the seconds for Retry-After."""
    counters = page_counters(visitor_id)
    if not counters:
        return None
    window = settings.FANWEN_PAGE_RATE_WINDOW
    # Both counters always count, so a visitor switching IPs still uses up its own allowance.
    results = [
        ratelimit.hit(SCOPE, counter_ident(ip, who), limit=limit, window=window)
        for who, limit in counters
    ]
    return verdict(all(results), ip, user_agent)


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


def wsgi_reader(environ: dict) -> tuple[str, str | None] | None:
    """(client IP, counted visitor id) of a raw WSGI reading-page GET; None when it is not
    one, or when it carries a session cookie (the middleware, which can tell staff, counts it).
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
    return client_ip_from_meta(environ), visitor_id


def too_many_wsgi(retry_after: int) -> tuple[str, list[tuple[str, str]], bytes]:
    return "429 Too Many Requests", too_many_headers(retry_after), TOO_MANY_BODY


def limited_wsgi_response(environ: dict) -> tuple[str, list[tuple[str, str]], bytes] | None:
    """page_limited for a raw WSGI request: None, or (status, headers, body) of the 429."""
    reader = wsgi_reader(environ)
    if reader is None:
        return None
    ip, visitor_id = reader
    retry_after = page_limited(ip, visitor_id, environ.get("HTTP_USER_AGENT", ""))
    return None if retry_after is None else too_many_wsgi(retry_after)
