"""Whether this reader may take the clean text of an article, and under which order.

The page itself is the same for every reader without the right; what changes with the right
is the clean text (clean.json, copy, DOCX). Every such endpoint asks `reader_right` first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from fanwen.accounts.visitors import current_visitor
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


def reader_right(request: HttpRequest, article: Article) -> ReaderRight:
    """The reader's right to the clean text of `article` now: a bought article beats a pass."""
    user = _user(request)
    if user is not None and user.is_staff:
        return ReaderRight(True, kind="staff", holder=f"u:{user.pk}")
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
    uses = PassUse.objects.filter(holder=right.holder, day=day)
    if uses.filter(article=article).exists():
        return True
    if uses.count() >= cap:
        return False
    try:
        with transaction.atomic():
            PassUse.objects.create(holder=right.holder, article=article, day=day)
    except IntegrityError:
        # A parallel request of the same reader recorded it first: still one article.
        pass
    return True
