"""The two offers of the paywall block, priced by the server for one article."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone

from fanwen.lib.money import yuan_label
from fanwen.library.models import Article
from fanwen.orders.models import Order, Plan, next_price_change
from fanwen.payments.backends import alias_for_channel


@dataclass(frozen=True)
class Offer:
    plan: str
    letter: str
    name: str
    blurb: str
    price_fen: int
    list_price_fen: int

    @property
    def price(self) -> str:
        return _yuan(self.price_fen)

    @property
    def list_price(self) -> str:
        return _yuan(self.list_price_fen)

    @property
    def discounted(self) -> bool:
        return self.list_price_fen > self.price_fen


def _yuan(fen: int) -> str:
    # 599 → "5.99", 1000 → "10": how the reference page writes prices.
    return yuan_label(fen)


BLURBS = {
    Plan.Code.ARTICLE_COPY: ("a", "付费复制", "本篇全文可复制，可下载Word文档"),
    Plan.Code.PASS_30D: ("b", "包月复制", "{days}天内全站文章随意复制、下载Word"),
}


def paywall_offers(article: Article) -> list[Offer]:
    offers = []
    plans = {p.code: p for p in Plan.objects.filter(code__in=list(BLURBS))}
    for code, (letter, name, blurb) in BLURBS.items():
        plan = plans.get(code)
        if plan is None:
            continue
        price = plan.price_for(article)
        blurb = blurb.format(days=plan.days or 30)
        offers.append(Offer(code, letter, name, blurb, price.price_fen, price.list_price_fen))
    return offers


def offers_fresh_seconds(limit: int) -> int:
    """How long a page showing today's offers may be kept: at most `limit`, and never past the
    moment a timed promotion starts or ends (0: do not keep it)."""
    now = timezone.now()
    change = next_price_change(now)
    if change is None:
        return limit
    return max(0, min(limit, math.floor((change - now).total_seconds())))


def paywall_config(article: Article) -> dict:
    """What the paywall script needs; the same for every reader, so the page stays cacheable."""
    return {
        "article": article.pk,
        # Named in the payment dialog, so the buyer sees what the QR code pays for.
        "title": article.display_title,
        # The providers with keys here (or the sandbox's stand-ins); neither: not set up.
        "wechat": bool(alias_for_channel(Order.Channel.NATIVE)),
        "alipay": bool(alias_for_channel(Order.Channel.ALIPAY_QR)),
        "text": reverse("paywall:clean-text", args=[article.pk]),
        "orders": reverse("payments:create-order"),
        "qr": reverse("paywall:qr"),
        # The funnel's beacon: the modal opened (once per page view).
        "opened": reverse("stats:paywall-opened", args=[article.pk]),
    }
