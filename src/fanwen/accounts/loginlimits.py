"""Password guessing limits shared by /account/login/ and /admin/login/: only failures count.

Three counters per fixed window (FANWEN_LOGIN_WINDOW), all of failed password checks:
- an account from one IP (FANWEN_LOGIN_LIMIT): one address guessing one password;
- one IP over all accounts (FANWEN_LOGIN_IP_LIMIT): one address walking a list of accounts;
- an account from all IPs (FANWEN_LOGIN_ACCOUNT_LIMIT, higher): guessing spread over many
  addresses.
The last is the one a stranger could use to lock the owner out, so it does not hold a browser
the account has logged in from before (its visitor cookie belongs to the account): the owner
gets in from home while the guessing goes on elsewhere.

An attempt is counted before the password is checked (so parallel requests cannot all slip
under the limit) and handed back unless the check failed: a successful login, a CSRF refusal
or an empty form cost nothing, and a success never clears failures someone else made.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import math
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

from fanwen.accounts.forms import normalize_identifier
from fanwen.accounts.visitors import current_visitor
from fanwen.lib import ratelimit
from fanwen.lib.clientip import client_ip

log = logging.getLogger("fanwen.accounts")

SCOPE = "login"
_FAILED = "_fanwen_login_failed"

View = Callable[..., HttpResponse]


@receiver(user_login_failed, dispatch_uid="fanwen.accounts.login_failed")
def _mark_failure(sender: Any, credentials: dict, request: HttpRequest | None = None, **kwargs):
    # authenticate() found no user for these credentials: this attempt stays counted.
    if request is not None:
        setattr(request, _FAILED, True)


def lockout_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return f"登录失败次数过多，请在 {minutes} 分钟后再试。忘记密码请联系客服。"


def masked_identifier(identifier: str) -> str:
    # Enough to match a complaint, not a list of our users' addresses in the log.
    name, at, domain = identifier.partition("@")
    if at:
        return f"{name[:2]}***@{domain}"
    return f"{identifier[:3]}****{identifier[-4:]}" if len(identifier) > 7 else "***"


def _counters(request: HttpRequest, identifier: str) -> list[tuple[str, int]]:
    """(counter name, limit) for this attempt; the account one last."""
    ip = ratelimit.ip_key(client_ip(request))
    counters = [(ip, settings.FANWEN_LOGIN_IP_LIMIT)]
    if identifier:
        # Hashed: user input never becomes a counter name as it is.
        account = "id:" + hashlib.sha256(identifier.encode()).hexdigest()[:32]
        counters += [
            (f"pair:{account}:{ip}", settings.FANWEN_LOGIN_LIMIT),
            (account, settings.FANWEN_LOGIN_ACCOUNT_LIMIT),
        ]
    return counters


def _known_browser(request: HttpRequest, identifier: str) -> bool:
    """Whether this browser's visitor belongs to the account being logged in to."""
    visitor = current_visitor(request)
    if visitor is None or visitor.user_id is None:
        return False
    users = get_user_model().objects.filter(pk=visitor.user_id, username__iexact=identifier)
    return users.exists()


def _over(counts: list[int], counters: list[tuple[str, int]], request, identifier) -> bool:
    # A limit of 0 is off, as for the other limits.
    over = [0 < limit <= n for n, (_, limit) in zip(counts, counters, strict=True)]
    if not any(over):
        return False
    # Only the account-wide counter is over: the owner's own browser still gets in.
    if over == [False, False, True]:
        return not _known_browser(request, identifier)
    return True


def _reserve(request: HttpRequest, identifier: str) -> tuple[list[str], int | None]:
    """Count this attempt; (the counters to hand back on success, seconds to wait if locked)."""
    counters = _counters(request, identifier)
    window = settings.FANWEN_LOGIN_WINDOW
    # A locked attempt adds nothing: hammering a locked account does not lengthen anything.
    if _over(
        [ratelimit.count(SCOPE, n, window=window) for n, _ in counters],
        counters,
        request,
        identifier,
    ):
        return [], ratelimit.seconds_left(window)
    counts = [ratelimit.incr(SCOPE, name, window=window) - 1 for name, _ in counters]
    if _over(counts, counters, request, identifier):
        # Parallel attempts took the last places first.
        _release([name for name, _ in counters])
        return [], ratelimit.seconds_left(window)
    return [name for name, _ in counters], None


def _release(names: list[str]) -> None:
    for name in names:
        ratelimit.decr(SCOPE, name, window=settings.FANWEN_LOGIN_WINDOW)


def limited_login(view: View, limited_page: Callable[[HttpRequest, str], HttpResponse]) -> View:
    """`view` (a login view) under the login limits; `limited_page(request, message)` is the
    page shown instead, as a 429 with Retry-After.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST":
            return view(request, *args, **kwargs)
        identifier = normalize_identifier(request.POST.get("username", ""))[:150]
        counted, wait = _reserve(request, identifier)
        if wait is not None:
            log.warning(
                "login at %s from %s as %r refused: rate limited",
                request.path,
                client_ip(request),
                masked_identifier(identifier),
            )
            response = limited_page(request, lockout_message(wait))
            response.status_code = 429
            response["Retry-After"] = str(wait)
            return response
        try:
            return view(request, *args, **kwargs)
        finally:
            if not getattr(request, _FAILED, False):
                _release(counted)

    return wrapped


def _admin_limited_page(request: HttpRequest, message: str) -> HttpResponse:
    # The admin's own login page (a GET of it) with the message above the form.
    as_get = copy.copy(request)
    as_get.method = "GET"
    response = admin.site.login(as_get, extra_context={"limited_message": message})
    if hasattr(response, "render"):
        response.render()
    return response


admin_login = limited_login(admin.site.login, _admin_limited_page)
