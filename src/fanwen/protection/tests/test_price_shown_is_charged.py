"""What the paywall offers on the (cached) article page is what the order charges: under article,
category and plan-wide overrides, and as timed promotions start and end."""

from __future__ import annotations

import datetime as dt
import json
import re
import time

import pytest
from django.test import Client
from django.utils import timezone

from fanwen.library.tests.factories import empty_cache, make_article, make_category  # noqa: F401
from fanwen.orders.models import Order, Plan, PriceOverride
from fanwen.orders.tests.fixtures import plans  # noqa: F401  (fixture)
from fanwen.payments.tests.fixtures import live_backend, sandbox_keys  # noqa: F401  (fixtures)
from fanwen.protection.offers import offers_fresh_seconds

# Orders are opened at the WeChat Pay emulator in the live server, as a reader's would be.
pytestmark = pytest.mark.django_db(transaction=True)
OFFER = re.compile(r'data-plan="(\w+)".*?特价<strong>([\d.]+)</strong>元', re.S)


@pytest.fixture(autouse=True)
def js_level(settings):
    # The prices, not the font, are under test: no font builds in the background.
    settings.FANWEN_PROTECTION = "js"
    settings.FANWEN_PAGE_CACHE_SECONDS = 600


@pytest.fixture
def shelf(plans, live_backend):  # noqa: F811
    parent = make_category("工作总结", "px-zongjie")
    child = make_category("年终总结", "px-nianzhong", parent=parent)
    return {
        "parent": parent,
        "child": child,
        "article": make_article(child, title="年终工作总结范文", pieces=2),
        "other": make_article(parent, title="季度工作总结范文", pieces=1),
    }


def offered(client: Client, article) -> dict[str, int]:
    """The price in fen of each offer on the article page, as a reader sees it."""
    html = client.get(article.get_absolute_url()).content.decode()
    found = {plan: round(float(yuan) * 100) for plan, yuan in OFFER.findall(html)}
    assert set(found) == {Plan.Code.ARTICLE_COPY, Plan.Code.PASS_30D}, html[:200]
    return found


def charged(client: Client, article, plan: str) -> int:
    response = client.post(
        "/pay/orders/",
        data=json.dumps({"plan": plan, "article_id": article.pk, "channel": "native"}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    order = Order.objects.get(out_trade_no=response.json()["out_trade_no"])
    assert order.amount_fen == response.json()["amount_fen"]
    return order.amount_fen


def assert_shown_is_charged(article) -> dict[str, int]:
    reader = Client()
    shown = offered(reader, article)
    for plan, fen in shown.items():
        assert charged(reader, article, plan) == fen, plan
    return shown


def test_overrides_made_after_the_page_was_cached_show_at_once(shelf):
    article, copy = shelf["article"], Plan.objects.get(code=Plan.Code.ARTICLE_COPY)
    monthly = Plan.objects.get(code=Plan.Code.PASS_30D)
    assert assert_shown_is_charged(article) == {"article_copy": 599, "pass_30d": 999}

    PriceOverride.objects.create(plan=copy, category=shelf["parent"], price_fen=399)
    assert assert_shown_is_charged(article)["article_copy"] == 399
    PriceOverride.objects.create(plan=copy, category=shelf["child"], price_fen=299)
    assert assert_shown_is_charged(article)["article_copy"] == 299
    assert assert_shown_is_charged(shelf["other"])["article_copy"] == 399
    special = PriceOverride.objects.create(plan=copy, article=article, price_fen=199)
    assert assert_shown_is_charged(article)["article_copy"] == 199
    PriceOverride.objects.create(plan=monthly, price_fen=699)
    assert assert_shown_is_charged(article) == {"article_copy": 199, "pass_30d": 699}

    special.delete()
    assert assert_shown_is_charged(article)["article_copy"] == 299
    copy.price_fen = 499
    copy.save()
    PriceOverride.objects.filter(plan=copy).delete()
    assert assert_shown_is_charged(article)["article_copy"] == 499


def test_a_cached_page_is_not_kept_past_the_start_or_end_of_a_promotion(shelf):
    article, copy = shelf["article"], Plan.objects.get(code=Plan.Code.ARTICLE_COPY)
    now = timezone.now()
    PriceOverride.objects.create(
        plan=copy,
        price_fen=100,
        starts_at=now + dt.timedelta(seconds=2),
        ends_at=now + dt.timedelta(seconds=4),
        note="限时特价",
    )
    assert assert_shown_is_charged(article)["article_copy"] == 599  # cached until the start
    time.sleep(max(0.0, (now + dt.timedelta(seconds=2.1) - timezone.now()).total_seconds()))
    assert assert_shown_is_charged(article)["article_copy"] == 100
    time.sleep(max(0.0, (now + dt.timedelta(seconds=4.1) - timezone.now()).total_seconds()))
    assert assert_shown_is_charged(article)["article_copy"] == 599


def test_the_page_cache_lifetime_stops_at_the_next_price_change(shelf):
    copy = Plan.objects.get(code=Plan.Code.ARTICLE_COPY)
    assert offers_fresh_seconds(600) == 600
    PriceOverride.objects.create(
        plan=copy, price_fen=100, starts_at=timezone.now() + dt.timedelta(seconds=90)
    )
    assert 88 <= offers_fresh_seconds(600) <= 90
    assert offers_fresh_seconds(30) == 30
    # A promotion that is over no longer limits anything.
    PriceOverride.objects.update(
        starts_at=timezone.now() - dt.timedelta(days=2),
        ends_at=timezone.now() - dt.timedelta(days=1),
    )
    assert offers_fresh_seconds(600) == 600
