"""Whether this reader may take the clean text of an article, and under which order.

The page itself is the same for every reader without the right; what changes with the right
is the clean text (clean.json, copy, DOCX). Every such endpoint asks `reader_right` first.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from fanwen.accounts.visitors import current_visitor, is_staff, signed_visitor_id
from fanwen.library.models import Article
from fanwen.orders.models import Entitlement
from fanwen.protection.models import PassUse


@dataclass(frozen=True)
class ReaderRight:
    allowed: bool
    kind: str = ""  # "article" | "pass" | "staff"
    order_id: int | None = None  # the order whose mark the clean text carries
    pass_until: dt.datetime | None = None
    holder: str = ""  # "v:<uuid>" or "u:<id>": who the fair-use cap counts

    @property
    def is_pass(self) -> bool:
        return self.kind == "pass"


NO_RIGHT = ReaderRight(False)


def _user(request: HttpRequest) -> Any:
    # Only a session cookie can carry a login: readers without one never load a session.
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return None
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


# A right found is remembered this long, so a buyer's pages skip the database; rights change
# through Entitlement saves, which drop the holder's entries (signals.py) — in this process or
# everywhere with Redis; with a per-process cache another process may lag by this much.
RIGHT_SECONDS = 30


def _right_keys(holder: str, article_id: int) -> tuple[str, str]:
    return f"fw:rg:{holder}", f"fw:right:{holder}:{article_id}"


def forget_rights(holder: str) -> None:
    """Drop every remembered right of `holder` ("v:<uuid>" or "u:<id>")."""
    cache.set(f"fw:rg:{holder}", time.time_ns(), timeout=None)


def remembered_right(holder: str, article_id: int) -> ReaderRight | None:
    gen_key, key = _right_keys(holder, article_id)
    got = cache.get_many([gen_key, key])
    entry = got.get(key)
    if entry is None or entry[0] != got.get(gen_key, 0):
        return None
    right = entry[1]
    # A pass that ended since is no right, whatever was remembered.
    if right.pass_until is not None and right.kind == "pass" and right.pass_until <= timezone.now():
        return None
    return right


def _remember(holder: str, article_id: int, right: ReaderRight) -> None:
    gen_key, key = _right_keys(holder, article_id)
    cache.set(key, (cache.get(gen_key, 0), right), timeout=RIGHT_SECONDS)


def reader_right(request: HttpRequest, article: Article) -> ReaderRight:
    """The reader's right to the clean text of `article` now: a bought article beats a pass."""
    if is_staff(request):
        return ReaderRight(True, kind="staff", holder=f"u:{request.user.pk}")
    user = _user(request)
    if user is None:
        visitor_id = signed_visitor_id(request.COOKIES)
        if visitor_id is None:
            return NO_RIGHT
        holder = f"v:{visitor_id}"
        remembered = remembered_right(holder, article.pk)
        if remembered is not None:
            return remembered
        right = _right_from_database(request, None, article)
        # Only rights are remembered: a reader who just paid must not wait for an entry to expire.
        if right.allowed:
            _remember(holder, article.pk, right)
        return right
    return _right_from_database(request, user, article)


def _right_from_database(request: HttpRequest, user: Any, article: Article) -> ReaderRight:
    visitor = current_visitor(request)
    if visitor is None and user is None:
        return NO_RIGHT
    holder = f"u:{user.pk}" if user is not None else f"v:{visitor.pk}"
    now = timezone.now()
    held = Entitlement.objects.active_for(visitor, user, now)
    # Rows of one column: (order_id,) — a staff grant has no order, so None is a valid value.
    bought = (
        held.filter(kind=Entitlement.Kind.ARTICLE, article=article)
        .order_by("starts_at")
        .values_list("order_id")
        .first()
    )
    pass_until = Entitlement.objects.pass_until(visitor, user, now)
    if bought is not None:
        return ReaderRight(True, "article", bought[0], pass_until, holder)
    if pass_until is None:
        return NO_RIGHT
    running = (
        held.filter(kind=Entitlement.Kind.PASS, starts_at__lte=now)
        .order_by("starts_at")
        .values_list("order_id", flat=True)
        .first()
    )
    return ReaderRight(True, "pass", running, pass_until, holder)


def beijing_today() -> dt.date:
    return timezone.localdate(timezone.now())


def take_under_pass(right: ReaderRight, article: Article) -> bool:
    """Count `article` against the pass's daily cap; False when the cap is reached.

    The same article again on the same day is free: the cap counts articles, not clicks.
    """
    if not right.is_pass:
        return True
    cap = settings.FANWEN_PASS_DAILY_CAP
    if cap <= 0:
        return True
    day = beijing_today()
    taken_key = f"fw:pu:{right.holder}:{day.isoformat()}:{article.pk}"
    if cache.get(taken_key):
        return True
    uses = PassUse.objects.filter(holder=right.holder, day=day)
    if uses.filter(article=article).exists():
        cache.set(taken_key, 1, timeout=3600)
        return True
    if uses.count() >= cap:
        return False
    try:
        with transaction.atomic():
            PassUse.objects.create(holder=right.holder, article=article, day=day)
    except IntegrityError:
        # A parallel request of the same reader recorded it first: still one article.
        pass
    cache.set(taken_key, 1, timeout=3600)
    return True
