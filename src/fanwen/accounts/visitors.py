"""Who is reading: staff, or a visitor named by the signed visitor cookie (read and set here)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from fanwen.accounts.models import Visitor

# A salt of our own so a value signed for another purpose can never pass as a visitor id.
COOKIE_SALT = "fanwen.accounts.visitor"
_CACHE_ATTR = "_fanwen_visitor"


def is_staff(request: HttpRequest) -> bool:
    """Whether an active staff member is logged in. Only a session cookie can carry a login, so
    readers without one never load a session (or the user) for this question."""
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_active and user.is_staff)


def signed_visitor_id(cookies: Mapping[str, str]) -> str | None:
    """The visitor id of a validly signed, unexpired visitor cookie among `cookies`, or None.

    No database: for the WSGI fast path and the limits as much as for views. The cookies of a
    request (request.COOKIES) or of a raw header (django.http.parse_cookie) alike.
    """
    name = settings.FANWEN_VISITOR_COOKIE
    if not cookies.get(name):
        return None
    # Django's own reader, so signing details (salts, fallback keys) stay in one place.
    carrier = HttpRequest()
    carrier.COOKIES = {name: cookies[name]}
    return carrier.get_signed_cookie(
        name,
        default=None,
        salt=COOKIE_SALT,
        max_age=settings.FANWEN_VISITOR_COOKIE_DAYS * 86400,
    )


def current_visitor(request: HttpRequest) -> Visitor | None:
    """The visitor named by a valid signed cookie, or None (no cookie, bad signature, unknown id)."""
    if hasattr(request, _CACHE_ATTR):
        return getattr(request, _CACHE_ATTR)
    visitor = None
    raw = signed_visitor_id(request.COOKIES)
    if raw:
        try:
            visitor = Visitor.objects.filter(pk=uuid.UUID(raw)).first()
        except ValueError:
            visitor = None
    setattr(request, _CACHE_ATTR, visitor)
    return visitor


def get_or_create_visitor(request: HttpRequest, response: HttpResponse) -> Visitor:
    """The current visitor, or a new one whose cookie is set on `response`.

    Call it only where a visitor is needed (creating an order, restoring a purchase): setting a
    cookie on every article page would defeat the shared page cache.
    """
    visitor = current_visitor(request)
    if visitor is None:
        visitor = Visitor.objects.create()
        set_visitor_cookie(response, visitor)
        setattr(request, _CACHE_ATTR, visitor)
    return visitor


def set_visitor_cookie(response: HttpResponse, visitor: Visitor) -> None:
    response.set_signed_cookie(
        settings.FANWEN_VISITOR_COOKIE,
        str(visitor.pk),
        salt=COOKIE_SALT,
        max_age=settings.FANWEN_VISITOR_COOKIE_DAYS * 86400,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
