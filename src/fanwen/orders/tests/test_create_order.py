import datetime as dt
import re
from collections import Counter

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from fanwen.library.models import Article
from fanwen.orders.errors import InvalidOrder
from fanwen.orders.models import ORDER_NO_ALPHABET, Order, Plan, PriceOverride, new_out_trade_no
from fanwen.orders.tests.fixtures import make_article, make_order

pytestmark = pytest.mark.django_db

# What WeChat Pay and Alipay both accept for out_trade_no.
PROVIDER_FORMAT = re.compile(r"^[0-9A-Za-z_-]{6,32}$")


def test_an_order_is_priced_by_the_server_and_expires_in_30_minutes(xiaoming, article, copy_plan):
    PriceOverride.objects.create(plan=copy_plan, article=article, price_fen=299, list_price_fen=800)
    before = timezone.now()
    order = make_order(xiaoming, Plan.Code.ARTICLE_COPY, article)
    assert order.status == Order.Status.PENDING
    assert (order.amount_fen, order.list_price_fen, order.currency) == (299, 800, "CNY")
    assert dt.timedelta(minutes=30) <= order.expires_at - before <= dt.timedelta(minutes=31)
    assert order.visitor == xiaoming and order.user is None


def test_an_order_number_is_the_beijing_date_and_20_random_symbols():
    number = new_out_trade_no()
    assert PROVIDER_FORMAT.match(number)
    assert number[:8] == timezone.localdate().strftime("%Y%m%d")
    assert len(number) == 28
    assert set(number[8:]) <= set(ORDER_NO_ALPHABET)


def test_order_numbers_do_not_repeat_and_spread_over_the_whole_alphabet():
    numbers = [new_out_trade_no() for _ in range(5000)]
    assert len(set(numbers)) == 5000
    assert len({n[8:16] for n in numbers}) == 5000  # not a counter: even a slice never repeats
    # Every random position uses every symbol: nothing to predict from a neighbouring number.
    for position in range(8, 28):
        assert len(Counter(n[position] for n in numbers)) == len(ORDER_NO_ALPHABET)


def test_orders_get_distinct_numbers_in_the_provider_format(xiaoming, article):
    orders = [make_order(xiaoming, Plan.Code.ARTICLE_COPY, article) for _ in range(20)]
    numbers = {order.out_trade_no for order in orders}
    assert len(numbers) == 20
    assert all(PROVIDER_FORMAT.match(number) for number in numbers)


def test_an_article_copy_needs_an_article(xiaoming, plans):
    with pytest.raises(InvalidOrder):
        make_order(xiaoming, Plan.Code.ARTICLE_COPY, None)
    assert not Order.objects.exists()


def test_a_pass_needs_no_article(xiaoming, plans):
    order = make_order(xiaoming, Plan.Code.PASS_30D, None)
    assert (order.plan.code, order.amount_fen, order.article) == ("pass_30d", 999, None)


def test_a_draft_article_cannot_be_bought(xiaoming, summaries, plans):
    draft = make_article(summaries, status=Article.Status.DRAFT)
    with pytest.raises(InvalidOrder):
        make_order(xiaoming, Plan.Code.ARTICLE_COPY, draft)


def test_an_unknown_plan_is_refused(xiaoming, article):
    with pytest.raises(InvalidOrder):
        make_order(xiaoming, "lifetime", article)


@pytest.mark.parametrize(
    ("provider", "channel"),
    [
        ("wechat", "alipay_qr"),
        ("alipay", "native"),
        ("sandbox", "alipay_wap"),
        ("paypal", "native"),
    ],
)
def test_a_channel_the_provider_does_not_offer_is_refused(xiaoming, article, provider, channel):
    with pytest.raises(InvalidOrder):
        make_order(xiaoming, Plan.Code.ARTICLE_COPY, article, provider=provider, channel=channel)


def test_an_anonymous_user_is_stored_as_no_user(xiaoming, article, alice):
    assert make_order(xiaoming, Plan.Code.ARTICLE_COPY, article, user=AnonymousUser()).user is None
    assert make_order(xiaoming, Plan.Code.ARTICLE_COPY, article, user=alice).user == alice
