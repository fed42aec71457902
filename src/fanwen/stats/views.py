"""The paywall's beacon: the modal opened once on this page view (the funnel's second step)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from fanwen.lib import ratelimit
from fanwen.lib.clientip import client_ip
from fanwen.library.models import Article
from fanwen.stats import counters
from fanwen.stats.models import Metric


# CSRF-exempt: navigator.sendBeacon sends no X-CSRFToken header and a cached page may come
# without the CSRF cookie; a forged post can do no more than add one to a per-day counter,
# which anyone may do by posting here, and the rate limit bounds that.
@csrf_exempt
@require_POST
@never_cache
def paywall_opened(request: HttpRequest, article_id: int) -> HttpResponse:
    # The body (if any) is never read: the article id in the URL is all there is.
    if not ratelimit.hit(
        "paywall-beacon",
        ratelimit.ip_key(client_ip(request)),
        limit=settings.FANWEN_BEACON_LIMIT,
        window=settings.FANWEN_BEACON_WINDOW,
    ):
        return HttpResponse(status=429)
    # Ids past a 64-bit integer would make the database driver raise instead of finding nothing.
    if article_id >= 2**63 or not Article.objects.published().filter(pk=article_id).exists():
        return HttpResponse(status=404)
    counters.record(Metric.PAYWALL_OPEN)
    return HttpResponse(status=204)
