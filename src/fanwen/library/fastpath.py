"""Answer cached anonymous article pages at the WSGI level, before Django's handler runs.

The hottest URL of the site is an article page read by someone without a session: its
bytes sit in the page cache (see pagecache.py and views.article). Building Django's request,
running the middleware chain and the URL resolver costs more than serving those bytes, so
this wrapper looks the page up first and hands everything else — a miss, a POST, a logged-in
reader, an unknown host — to Django unchanged. The headers match what the middleware chain
adds to the same page (views.article serves identical bytes on the Django path).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable

from csp.utils import build_policy
from django.conf import settings
from redis.exceptions import RedisError

from fanwen.lib import ratelimit, rediscache
from fanwen.library import pagecache, viewcount
from fanwen.library.views import cache_headers, page_key
from fanwen.ops.logs import accepted_id, log_request
from fanwen.protection import pagelimit
from fanwen.protection.crawlers import claimed_crawler
from fanwen.protection.render import anonymous_cache_name, clean_cache_name
from fanwen.stats import counters
from fanwen.stats.models import Metric

ARTICLE_PATH = re.compile(r"/a/([0-9]{1,18})\.html")
# The request line of a page answered here, as RequestIdMiddleware logs Django's.
request_log = logging.getLogger("fanwen.request")
WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


def _static_headers() -> list[tuple[str, str]]:
    # What SecurityMiddleware, CSPMiddleware and XFrameOptionsMiddleware add to a page.
    headers = [("Content-Type", "text/html; charset=utf-8"), ("X-Page-Cache", "hit")]
    headers.append(("X-Frame-Options", settings.X_FRAME_OPTIONS))
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append(("X-Content-Type-Options", "nosniff"))
    if settings.SECURE_REFERRER_POLICY:
        policy = settings.SECURE_REFERRER_POLICY
        headers.append(("Referrer-Policy", policy if isinstance(policy, str) else ",".join(policy)))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers.append(("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY))
    if settings.CONTENT_SECURITY_POLICY:
        headers.append(("Content-Security-Policy", build_policy()))
    if settings.CONTENT_SECURITY_POLICY_REPORT_ONLY:
        headers.append(("Content-Security-Policy-Report-Only", build_policy(report_only=True)))
    return headers


def _hsts_header() -> tuple[str, str] | None:
    # SecurityMiddleware's Strict-Transport-Security, sent on HTTPS only.
    if not settings.SECURE_HSTS_SECONDS:
        return None
    value = f"max-age={settings.SECURE_HSTS_SECONDS}"
    if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
        value += "; includeSubDomains"
    if settings.SECURE_HSTS_PRELOAD:
        value += "; preload"
    return ("Strict-Transport-Security", value)


def _scheme(environ: dict) -> str:
    """HttpRequest.scheme: the trusted proxy's header when configured and sent, else the server's."""
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure_value = settings.SECURE_PROXY_SSL_HEADER
        value = environ.get(header)
        if value is not None:
            return "https" if value.split(",", 1)[0].strip() == secure_value else "http"
    return environ["wsgi.url_scheme"]


def wrap(app: WSGIApp) -> WSGIApp:
    # Setups where Django's view of the host differs from the raw request keep the Django path.
    if settings.USE_X_FORWARDED_HOST:
        return app
    session_cookie = settings.SESSION_COOKIE_NAME + "="
    visitor_cookie = settings.FANWEN_VISITOR_COOKIE + "="
    headers = _static_headers()
    hsts = _hsts_header()

    def page_cache_key(
        environ: dict, scheme: str, article_id: str, cookies: str
    ) -> tuple[str | None, bool]:
        """(the page's cache key, or None when Django must choose; whether it is public)."""
        # An entry exists only for a host Django accepted when it rendered the page.
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
        public = visitor_cookie not in cookies
        if public:
            name = anonymous_cache_name()
        else:
            # A buyer whose right Django found a moment ago gets the shared clean page.
            name = clean_cache_name(cookies, int(article_id))
            if name is None:
                return None, False
        return page_key(scheme, host, f"a:{article_id}:{name}"), public

    def page_and_limit(environ: dict, key: str) -> tuple[bytes | None, int | None]:
        """(the cached page or None, None or the 429's Retry-After), each looked up once."""
        redis = rediscache.raw(key)
        reader = pagelimit.wsgi_reader(environ)
        user_agent = environ.get("HTTP_USER_AGENT", "")
        if redis is None or pagecache.owes_bump():
            body = pagecache.lookup(key)[0]
            # A miss is counted by the middleware on Django's path.
            if body is None or reader is None:
                return body, None
            return body, pagelimit.page_limited(reader[0], reader[1], user_agent)
        # Redis: the page and the page-limit counters in one round trip.
        limits = pagelimit.page_counters(reader[1]) if reader else []
        window = settings.FANWEN_PAGE_RATE_WINDOW
        pipe = redis[0].pipeline(transaction=False)
        pagecache.queue_lookup(pipe, key)
        for who, _ in limits:
            ident = pagelimit.counter_ident(reader[0], who)
            ratelimit.queue_incr(pipe, pagelimit.SCOPE, ident, window=window)
        try:
            replies = pipe.execute()
        except RedisError:
            return None, None  # Django renders it, counting in the database meanwhile
        counts = replies[1::2]
        within = all(count <= limit for count, (_, limit) in zip(counts, limits, strict=True))
        retry_after = pagelimit.verdict(within, reader[0], user_agent) if limits else None
        # Counted here: the middleware takes this verdict instead of counting the page again.
        environ[pagelimit.COUNTED] = retry_after
        return pagecache.looked_up(replies[0]), retry_after

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        cookies = environ.get("HTTP_COOKIE", "")
        scheme = _scheme(environ)
        # Plain HTTP that must be redirected is Django's (SecurityMiddleware) to answer.
        redirect = settings.SECURE_SSL_REDIRECT and scheme != "https"
        if (
            environ.get("REQUEST_METHOD") == "GET"
            and session_cookie not in cookies
            and not redirect
        ):
            match = ARTICLE_PATH.fullmatch(environ.get("PATH_INFO", ""))
            # A search crawler's claim is checked by Django; nobody else pays for that.
            if match and claimed_crawler(environ.get("HTTP_USER_AGENT", "")) is None:
                started = time.perf_counter()
                key, public = page_cache_key(environ, scheme, match[1], cookies)
                body, retry_after = page_and_limit(environ, key) if key else (None, None)
                if body is not None:
                    # The middleware does not run here: the id and the request line are set here.
                    request_id = accepted_id(environ.get("HTTP_X_REQUEST_ID"))
                    id_header = ("X-Request-ID", request_id)
                    if retry_after is not None:
                        status, too_many, too_many_body = pagelimit.too_many_wsgi(retry_after)
                        start_response(status, [*too_many, id_header])
                        _log(environ, request_id, 429, started)
                        return [too_many_body]
                    viewcount.record_view(int(match[1]))
                    counters.record(Metric.ARTICLE_VIEW)
                    # A buyer's clean page is private; the anonymous one says how long to keep it.
                    page_headers = [*headers, *cache_headers(public)]
                    if hsts and scheme == "https":
                        page_headers.append(hsts)
                    page_headers.append(id_header)
                    start_response("200 OK", [*page_headers, ("Content-Length", str(len(body)))])
                    _log(environ, request_id, 200, started)
                    return [body]
        return app(environ, start_response)

    return application


def _log(environ: dict, request_id: str, status: int, started: float) -> None:
    log_request(
        request_log,
        environ.get("REQUEST_METHOD", ""),
        environ.get("PATH_INFO", ""),
        status,
        (time.perf_counter() - started) * 1000,
        request_id=request_id,
    )
