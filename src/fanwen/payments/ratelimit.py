"""429 answers for the buyer API, counted by fanwen.lib.ratelimit."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from fanwen.lib.ratelimit import allowed

MESSAGE = "操作太频繁，请稍后再试。"


def limited(
    request: HttpRequest,
    scope: str,
    visitor_id: str | None,
    *,
    limit: int,
    ip_limit: int,
    window: int,
) -> JsonResponse | None:
    """A 429 answer when this visitor or this IP went over its limit, else None (both are counted).

    The IP limit is the higher one: a school or an office shares one address.
    """
    if allowed(request, scope, visitor_id, limit=limit, ip_limit=ip_limit, window=window):
        return None
    response = JsonResponse({"code": "RateLimited", "message": MESSAGE}, status=429)
    response["Retry-After"] = str(window)
    return response
