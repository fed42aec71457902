"""Search crawlers proven by reverse + forward DNS (they are served the clean text).

A User-Agent is free to claim anything, so a claim only starts the check the engines publish:
the IP's reverse DNS name must lie under the engine's own domains, and that name's forward
DNS must give the IP back. Only a request whose User-Agent claims a crawler pays for DNS;
the verdict is cached per (IP, engine) so a crawler pays once a day, and lookups run in a
small thread pool with a deadline, so a slow resolver cannot hold a page for long.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from fanwen.lib.clientip import client_ip

logger = logging.getLogger(__name__)

# The reverse DNS domains each engine documents for its crawler, and no others: Google's
# googleusercontent.com is every Google Cloud VM's default name (and only Google's
# user-triggered fetchers use it), so it proves nothing about Googlebot. The leading dot
# keeps "evilbaidu.com" out; geo.googlebot.com lies under googlebot.com.
CRAWLER_DOMAINS: dict[str, tuple[str, ...]] = {
    "baidu": (".baidu.com", ".baidu.jp"),
    "google": (".googlebot.com", ".google.com"),
    "bing": (".search.msn.com",),
    "sogou": (".sogou.com",),
    "360": (".360.cn", ".so.com"),
}
# One group per engine, in the order of ENGINE_BY_GROUP.
_CLAIM = re.compile(
    r"(baiduspider)|(googlebot)|(bingbot)|(sogou (?:web|inst) spider)|(360spider)", re.IGNORECASE
)
ENGINE_BY_GROUP = ("baidu", "google", "bing", "sogou", "360")

# Both lookups together must answer within this; a request waits no longer.
DNS_TIMEOUT_SECONDS = 2.0
# A refusal may be a transient DNS failure: ask again sooner than for a success.
NEGATIVE_CACHE_SECONDS = 3600
TIMEOUT_CACHE_SECONDS = 60

# Socket lookups take no timeout, so they run here and callers wait on the future.
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="fanwen-dns")
_inflight: dict[tuple[str, str], Future] = {}
_inflight_lock = threading.Lock()


def claimed_crawler(user_agent: str) -> str | None:
    """The engine a User-Agent claims to crawl for ("baidu", "google", ...), or None."""
    match = _CLAIM.search(user_agent or "")
    return ENGINE_BY_GROUP[match.lastindex - 1] if match else None


def reverse_dns(ip: str) -> str | None:
    """The PTR name of an IP, or None."""
    try:
        return socket.gethostbyaddr(ip)[0]
    except (OSError, UnicodeError):
        return None


def forward_dns(host: str) -> set[str]:
    """Every address (IPv4 and IPv6) a host name resolves to."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return set()
    return {info[4][0] for info in infos}


def _normal_ip(ip: str) -> str | None:
    try:
        return ipaddress.ip_address(ip.split("%", 1)[0]).compressed
    except ValueError:
        return None


def host_belongs_to(host: str, engine: str) -> bool:
    """Whether a reverse DNS name lies under one of the engine's documented domains."""
    # DNS names are case-insensitive and may be written fully qualified, with the root's dot.
    name = host.strip().lower().removesuffix(".")
    return name.endswith(CRAWLER_DOMAINS[engine])


def _cache_key(ip: str, engine: str) -> str:
    # v2: verdicts cached while googleusercontent.com still passed must not outlive that rule.
    return f"fanwen:crawler:v2:{engine}:{ip}"


def _verify(ip: str, engine: str) -> bool:
    """Reverse then forward DNS; caches and logs the verdict (also when the caller gave up)."""
    try:
        host = reverse_dns(ip)
        verified = bool(host) and host_belongs_to(host, engine)
        if verified:
            verified = ip in {_normal_ip(address) for address in forward_dns(host)}
        lifetime = settings.FANWEN_CRAWLER_CACHE_SECONDS
        if not verified:
            lifetime = min(lifetime, NEGATIVE_CACHE_SECONDS)
        cache.set(_cache_key(ip, engine), verified, timeout=lifetime)
        logger.info(
            "crawler %s %s: %s (reverse DNS %s)",
            engine,
            ip,
            "verified" if verified else "refused",
            host or "none",
        )
        return verified
    finally:
        with _inflight_lock:
            _inflight.pop((ip, engine), None)


def is_verified_crawler(ip: str, user_agent: str) -> bool:
    """True if the User-Agent claims a crawler and the IP proves it through DNS."""
    if not settings.FANWEN_CRAWLER_VERIFY:
        return False
    engine = claimed_crawler(user_agent)
    normal = _normal_ip(ip) if engine else None
    if normal is None:
        return False
    key = _cache_key(normal, engine)
    cached = cache.get(key)
    if cached is not None:
        return cached
    with _inflight_lock:
        # Parallel requests of one crawler share one lookup.
        future = _inflight.get((normal, engine))
        if future is None:
            future = _pool.submit(_verify, normal, engine)
            _inflight[(normal, engine)] = future
    try:
        return future.result(timeout=DNS_TIMEOUT_SECONDS)
    except FutureTimeout:
        # add(), not set(): a lookup that finished meanwhile keeps its real verdict.
        cache.add(
            key, False, timeout=min(settings.FANWEN_CRAWLER_CACHE_SECONDS, TIMEOUT_CACHE_SECONDS)
        )
        logger.info("crawler %s %s: refused (DNS timed out)", engine, normal)
        return False
    except Exception:
        logger.exception("crawler %s %s: verification failed", engine, normal)
        return False


def request_is_verified_crawler(request: HttpRequest) -> bool:
    """is_verified_crawler for a request, asked once per request whoever asks."""
    verdict = getattr(request, "_fanwen_verified_crawler", None)
    if verdict is None:
        verdict = is_verified_crawler(client_ip(request), request.META.get("HTTP_USER_AGENT", ""))
        request._fanwen_verified_crawler = verdict
    return verdict
