"""The emulated WeChat web OAuth (snsapi_base): the authorize page and the code → openid exchange.

Mounted at /sandbox/wechat/connect/oauth2/authorize and /sandbox/wechat/sns/oauth2/access_token,
like open.weixin.qq.com and api.weixin.qq.com. Like WeChat, the token endpoint answers errors
as HTTP 200 with {"errcode", "errmsg"}; a code lives 5 minutes and is good for one exchange.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from fanwen.sandbox.actions import new_openid
from fanwen.sandbox.keys import load_keys

log = logging.getLogger("fanwen.sandbox")

CODE_SALT = "fanwen.sandbox.oauth-code"
CODE_MAX_AGE = 300
# The emulated WeChat user of this browser, so the same browser gets the same openid.
USER_COOKIE = "fw_sandbox_wx_user"
USER_COOKIE_SALT = "fanwen.sandbox.wx-user"
SCOPES = {"snsapi_base", "snsapi_userinfo"}


def _sandbox_on() -> None:
    if not getattr(settings, "FANWEN_SANDBOX", False):
        raise Http404("sandbox is off")


def _refuse(request: HttpRequest, errcode: int, message: str) -> HttpResponse:
    # WeChat shows its own error page and never goes back to the merchant.
    log.warning("sandbox oauth authorize refused: %s %s", errcode, message)
    context = {"errcode": errcode, "message": message}
    return render(request, "sandbox/oauth.html", context, status=400)


@require_GET
@never_cache
def authorize(request: HttpRequest) -> HttpResponse:
    """snsapi_base is silent in WeChat; the sandbox shows one 沙箱 page with the way back."""
    _sandbox_on()
    keys = load_keys()
    params = request.GET
    if params.get("appid") != keys.appid:
        return _refuse(request, 10016, "appid 参数错误")
    if params.get("response_type") != "code":
        return _refuse(request, 10004, "response_type 应为 code")
    scope = params.get("scope", "")
    if scope not in SCOPES:
        return _refuse(request, 10005, "scope 参数错误")
    redirect_uri = params.get("redirect_uri", "")
    parts = urlsplit(redirect_uri)
    # WeChat only returns to the account's configured domain; the sandbox's is its own host.
    if parts.scheme not in {"http", "https"} or parts.netloc != request.get_host():
        return _refuse(request, 10003, "redirect_uri 域名与后台配置不一致")
    state = params.get("state", "")
    if len(state) > 128:
        return _refuse(request, 10009, "state 最长 128 字节")
    openid = request.get_signed_cookie(USER_COOKIE, default=None, salt=USER_COOKIE_SALT)
    openid = openid or new_openid()
    code = signing.dumps(
        {"appid": keys.appid, "openid": openid, "scope": scope, "n": secrets.token_hex(8)},
        salt=CODE_SALT,
    )
    separator = "&" if parts.query else "?"
    back = f"{redirect_uri}{separator}{urlencode({'code': code, 'state': state})}"
    context = {"back": back, "appid": keys.appid, "openid": openid, "scope": scope}
    response = render(request, "sandbox/oauth.html", context)
    response.set_signed_cookie(
        USER_COOKIE,
        openid,
        salt=USER_COOKIE_SALT,
        max_age=365 * 86400,
        httponly=True,
        samesite="Lax",
        path="/sandbox/",
    )
    return response


def _error(errcode: int, errmsg: str) -> JsonResponse:
    log.warning("sandbox oauth access_token refused: %s %s", errcode, errmsg)
    return JsonResponse({"errcode": errcode, "errmsg": errmsg})


@require_GET
@never_cache
def access_token(request: HttpRequest) -> HttpResponse:
    """The server-side exchange: appid + secret + code → openid (errors as errcode/errmsg)."""
    _sandbox_on()
    keys = load_keys()
    params = request.GET
    if params.get("appid") != keys.appid:
        return _error(40013, "invalid appid")
    if not secrets.compare_digest(params.get("secret", ""), keys.app_secret):
        return _error(40125, "invalid appsecret")
    if params.get("grant_type") != "authorization_code":
        return _error(40002, "invalid grant_type")
    code = params.get("code", "")
    if not code:
        return _error(41008, "missing code")
    try:
        ticket = signing.loads(code, salt=CODE_SALT, max_age=CODE_MAX_AGE)
    except signing.BadSignature:
        return _error(40029, "invalid code")
    if ticket.get("appid") != keys.appid:
        return _error(40029, "invalid code")
    digest = hashlib.sha256(code.encode()).hexdigest()
    if not cache.add(f"fanwen:sandbox:oauth-code:{digest}", 1, timeout=CODE_MAX_AGE + 60):
        return _error(40163, "code been used")
    return JsonResponse(
        {
            "access_token": secrets.token_urlsafe(48),
            "expires_in": 7200,
            "refresh_token": secrets.token_urlsafe(48),
            "openid": ticket["openid"],
            "scope": ticket["scope"],
        }
    )
