import datetime as dt

import pytest
from django.utils import timezone

from fanwen.orders.models import Entitlement, Plan
from fanwen.orders.tests.fixtures import make_order, settle

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def buy_pass(visitor, paid_at, user=None) -> Entitlement:
    order = make_order(visitor, Plan.Code.PASS_30D, None, user=user)
    return settle(order, paid_at=paid_at).entitlement


def test_a_pass_lasts_30_days_from_the_payment_time(xiaoming, plans):
    # Heard of by the reconcile worker an hour late: the buyer still gets 30 days from paying.
    paid_at = timezone.now() - dt.timedelta(hours=1)
    entitlement = buy_pass(xiaoming, paid_at)
    assert (entitlement.kind, entitlement.article) == ("pass", None)
    assert (entitlement.starts_at, entitlement.ends_at) == (paid_at, paid_at + 30 * DAY)


def test_two_passes_stack_to_60_days_from_the_first_payment(xiaoming, plans):
    first_paid = timezone.now() - 10 * DAY
    first = buy_pass(xiaoming, first_paid)
    second = buy_pass(xiaoming, first_paid + 3 * DAY)
    assert second.starts_at == first.ends_at == first_paid + 30 * DAY
    assert second.ends_at == first_paid + 60 * DAY
    access = Entitlement.objects.access_for(xiaoming, None, None)
    assert access["pass_until"] == first_paid + 60 * DAY


def test_a_third_pass_stacks_after_a_queued_second_one(xiaoming, plans):
    first_paid = timezone.now() - DAY
    buy_pass(xiaoming, first_paid)
    buy_pass(xiaoming, first_paid + dt.timedelta(minutes=1))
    third = buy_pass(xiaoming, first_paid + dt.timedelta(minutes=2))
    assert (third.starts_at, third.ends_at) == (first_paid + 60 * DAY, first_paid + 90 * DAY)


def test_a_pass_bought_after_the_last_one_expired_starts_at_payment_time(xiaoming, plans):
    buy_pass(xiaoming, timezone.now() - 40 * DAY)
    paid_at = timezone.now() - dt.timedelta(minutes=5)
    second = buy_pass(xiaoming, paid_at)
    assert (second.starts_at, second.ends_at) == (paid_at, paid_at + 30 * DAY)


def test_an_account_pass_stacks_after_the_pass_bought_in_another_browser(
    xiaoming, xiaoming_laptop, alice, plans
):
    first_paid = timezone.now() - DAY
    buy_pass(xiaoming, first_paid, user=alice)
    second = buy_pass(xiaoming_laptop, timezone.now(), user=alice)
    assert second.starts_at == first_paid + 30 * DAY


def test_another_visitors_pass_does_not_delay_mine(xiaoming, stranger, plans):
    buy_pass(stranger, timezone.now() - DAY)
    paid_at = timezone.now()
    assert buy_pass(xiaoming, paid_at).starts_at == paid_at


def test_a_pass_opens_every_article_until_it_ends(xiaoming, article, other_article, plans):
    paid_at = timezone.now() - DAY
    buy_pass(xiaoming, paid_at)
    for piece in (article, other_article):
        assert Entitlement.objects.access_for(xiaoming, None, piece) == {
            "copy": True,
            "download": True,
            "pass_until": paid_at + 30 * DAY,
        }
    after = paid_at + 30 * DAY + dt.timedelta(seconds=1)
    assert Entitlement.objects.access_for(xiaoming, None, article, at=after) == {
        "copy": False,
        "download": False,
        "pass_until": None,
    }


def test_a_bought_article_opens_that_article_only_and_forever(xiaoming, article, other_article):
    settle(make_order(xiaoming, Plan.Code.ARTICLE_COPY, article))
    years_later = timezone.now() + 3650 * DAY
    assert Entitlement.objects.access_for(xiaoming, None, article, at=years_later)["copy"] is True
    assert Entitlement.objects.access_for(xiaoming, None, other_article) == {
        "copy": False,
        "download": False,
        "pass_until": None,
    }


def test_nobody_gets_access_without_an_entitlement(xiaoming, stranger, article):
    settle(make_order(xiaoming, Plan.Code.ARTICLE_COPY, article))
    assert Entitlement.objects.access_for(stranger, None, article)["copy"] is False
    assert Entitlement.objects.access_for(None, None, article)["copy"] is False
    assert not Entitlement.objects.active_for(None, None).exists()


def test_active_for_lists_the_running_entitlements_of_the_visitor_and_the_account(
    xiaoming, xiaoming_laptop, alice, article, other_article, plans
):
    phone = settle(make_order(xiaoming, Plan.Code.ARTICLE_COPY, article)).entitlement
    laptop = settle(
        make_order(xiaoming_laptop, Plan.Code.ARTICLE_COPY, other_article, user=alice)
    ).entitlement
    buy_pass(xiaoming, timezone.now() - 40 * DAY)  # expired
    assert set(Entitlement.objects.active_for(xiaoming, None)) == {phone}
    assert set(Entitlement.objects.active_for(xiaoming, alice)) == {phone, laptop}
