"""WeChat OAuth snsapi_base: the payer's openid for JSAPI payments inside WeChat.

GET /pay/wechat/oauth/?next=/a/12.html → WeChat's authorize page → GET /pay/wechat/oauth/callback/
?code=...&state=... → the code is exchanged for the openid, kept on this browser's visitor, and
the browser goes back to `next`. The state is signed, short-lived, bound to this browser by a
cookie and good for one callback, so a callback URL can be neither forged nor replayed.
"""

from __future__ import annotations

import logging
import secrets
import time
from urllib.parse import urlencode, urlsplit

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from fanwen.accounts.actions import do_remember_openid
from fanwen.accounts.visitors import get_or_create_visitor
from fanwen.lib.ratelimit import client_ip
from fanwen.payments.backends import alias_for_channel, backends
from fanwen.payments.backends.wechat import WeChatPayBackend
from fanwen.payments.errors import PaymentError, status_for

log = logging.getLogger("fanwen.payments")

STATE_SALT = "fanwen.payments.wechat-oauth-state"
STATE_MAX_AGE = 600
# Where the state's nonce and the page to return to wait for the callback, in this browser only.
STATE_COOKIE = "fw_wx_oauth"
STATE_COOKIE_SALT = "fanwen.payments.wechat-oauth-cookie"
MAX_NEXT_LENGTH = 512
NONCE_HEX = 24
STAMP_HEX = 8


def oauth_backend() -> WeChatPayBackend | None:
    """The backend that takes JSAPI here, if it can ask WeChat for openids."""
    alias = alias_for_channel("jsapi")
    backend = backends[alias] if alias else None
    if isinstance(backend, WeChatPayBackend) and backend.supports_oauth:
        return backend
    return None


def safe_next(value: str) -> str | None:
    """`value` if it is a path on this site ("/a/12.html?x=1"), else None: never an open redirect."""
    if not value or len(value) > MAX_NEXT_LENGTH or not value.startswith("/"):
        return None
    # "//evil.example" and "/\\evil.example" are other sites to browsers; so are control characters.
    if value.startswith("//") or "\\" in value or any(ord(ch) < 32 for ch in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    if not url_has_allowed_host_and_scheme(value, allowed_hosts=set()):
        return None
    return value


def start_url(next_path: str) -> str:
    """Our own start of the OAuth round trip (what a 409 NeedOpenid tells the page to open)."""
    return reverse("payments:wechat-oauth") + "?" + urlencode({"next": next_path})


# --- the state: 24 hex nonce + 8 hex issue time + 32 hex HMAC, so [0-9a-f]{64} as WeChat allows.


def _mac(nonce: str, stamp: str) -> str:
    return salted_hmac(STATE_SALT, nonce + stamp, algorithm="sha256").hexdigest()[:32]


def make_state() -> tuple[str, str]:
    nonce = secrets.token_hex(NONCE_HEX // 2)
    stamp = f"{int(time.time()):0{STAMP_HEX}x}"
    return nonce, nonce + stamp + _mac(nonce, stamp)


def nonce_of(state: str) -> str | None:
    """The nonce of a state we issued less than STATE_MAX_AGE ago; None if forged or stale."""
    if len(state) != NONCE_HEX + STAMP_HEX + 32:
        return None
    nonce, stamp, mac = state[:NONCE_HEX], state[NONCE_HEX:-32], state[-32:]
    if not constant_time_compare(mac, _mac(nonce, stamp)):
        return None
    try:
        age = time.time() - int(stamp, 16)
    except ValueError:
        return None
    return nonce if 0 <= age <= STATE_MAX_AGE else None


# --- views -------------------------------------------------------------------------------------


def _failed(request: HttpRequest, message: str, status: int, next_path: str = "/") -> HttpResponse:
    context = {"message": message, "next": next_path}
    response = render(request, "payments/oauth_error.html", context, status=status)
    response.delete_cookie(STATE_COOKIE, path=reverse("payments:wechat-oauth-callback"))
    return response


@require_GET
@never_cache
def wechat_oauth_start(request: HttpRequest) -> HttpResponse:
    """Send the browser to WeChat's authorize page with a fresh state; ?next= is where to come back."""
    next_path = safe_next(request.GET.get("next", "") or "/")
    if next_path is None:
        log.warning(
            "wechat oauth from %s: next %r refused", client_ip(request), request.GET["next"]
        )
        return _failed(request, "返回地址无效，请从本站页面重新点击支付。", 400)
    backend = oauth_backend()
    if backend is None:
        return _failed(request, "本站暂未开通微信内支付，请使用扫码支付。", 404, next_path)
    nonce, state = make_state()
    callback = request.build_absolute_uri(reverse("payments:wechat-oauth-callback"))
    response = redirect(backend.oauth_authorize_url(callback, state))
    response.set_signed_cookie(
        STATE_COOKIE,
        f"{nonce}|{next_path}",
        salt=STATE_COOKIE_SALT,
        max_age=STATE_MAX_AGE,
        httponly=True,
        # Lax: sent on WeChat's top-level redirect back to the callback.
        samesite="Lax",
        secure=request.is_secure(),
        path=reverse("payments:wechat-oauth-callback"),
    )
    return response


@require_GET
@never_cache
def wechat_oauth_callback(request: HttpRequest) -> HttpResponse:
    """Check the state, exchange the code for the openid, keep it on the visitor, go back to next."""
    ip = client_ip(request)
    nonce = nonce_of(request.GET.get("state", ""))
    ticket = request.get_signed_cookie(
        STATE_COOKIE, default="", salt=STATE_COOKIE_SALT, max_age=STATE_MAX_AGE
    )
    cookie_nonce, _, next_path = ticket.partition("|")
    if nonce is None or not constant_time_compare(nonce, cookie_nonce):
        log.warning("wechat oauth callback from %s: state forged, stale or not this browser's", ip)
        return _failed(request, "授权已失效，请返回页面重新点击支付。", 400)
    # One callback per state: a replayed callback URL never binds an openid again.
    if not cache.add(f"fanwen:wx-oauth-state:{nonce}", 1, timeout=STATE_MAX_AGE + 60):
        log.warning("wechat oauth callback from %s: state %s replayed", ip, nonce)
        return _failed(request, "授权已使用过，请返回页面重新点击支付。", 400)
    next_path = safe_next(next_path) or "/"
    code = request.GET.get("code", "")
    if not code:
        log.info("wechat oauth callback from %s: no code", ip)
        return _failed(request, "未获得微信授权，请返回页面重新点击支付。", 400, next_path)
    backend = oauth_backend()
    if backend is None:
        return _failed(request, "本站暂未开通微信内支付，请使用扫码支付。", 404, next_path)
    try:
        openid = backend.oauth_openid(code)
    except PaymentError as exc:
        log.warning("wechat oauth callback from %s: %s: %s", ip, type(exc).__name__, exc)
        status = status_for(exc)
        return _failed(request, exc.user_message, 502 if status >= 500 else status, next_path)
    response = redirect(next_path)
    visitor = get_or_create_visitor(request, response)
    do_remember_openid(visitor, backend.appid, openid)
    response.delete_cookie(STATE_COOKIE, path=reverse("payments:wechat-oauth-callback"))
    log.info("wechat oauth: visitor %s has an openid for %s", visitor.pk, backend.appid)
    return response
