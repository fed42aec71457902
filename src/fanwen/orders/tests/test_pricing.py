import datetime as dt

import pytest
from django.utils import timezone

from fanwen.orders.models import Plan, PriceOverride, price_for
from fanwen.orders.tests.fixtures import make_article

pytestmark = pytest.mark.django_db


def test_the_migration_creates_the_two_plans_of_the_paywall():
    plans = {plan.code: plan for plan in Plan.objects.all()}
    assert plans["article_copy"].price_fen == 599
    assert plans["article_copy"].list_price_fen == 1000
    assert plans["article_copy"].days is None
    assert plans["pass_30d"].price_fen == 999
    # Each plan its own list price: the pass's is not the single article's.
    assert plans["pass_30d"].list_price_fen == 3000
    assert plans["pass_30d"].days == 30


def test_an_article_without_overrides_costs_the_plan_price(copy_plan, article):
    price = price_for(copy_plan, article)
    assert (price.price_fen, price.list_price_fen, price.override) == (599, 1000, None)


def test_an_article_override_beats_a_category_override(copy_plan, article, summaries):
    PriceOverride.objects.create(plan=copy_plan, category=summaries, price_fen=399)
    PriceOverride.objects.create(plan=copy_plan, article=article, price_fen=199, list_price_fen=500)
    price = price_for(copy_plan, article)
    assert (price.price_fen, price.list_price_fen) == (199, 500)


def test_a_category_override_applies_to_articles_in_its_subcategories(
    copy_plan, essays, grade_three
):
    PriceOverride.objects.create(plan=copy_plan, category=essays, price_fen=299)
    assert price_for(copy_plan, make_article(grade_three)).price_fen == 299


def test_the_nearest_category_override_beats_an_ancestors(
    copy_plan, essays, primary_school, grade_three
):
    PriceOverride.objects.create(plan=copy_plan, category=essays, price_fen=299)
    PriceOverride.objects.create(plan=copy_plan, category=primary_school, price_fen=399)
    assert price_for(copy_plan, make_article(grade_three)).price_fen == 399
    assert price_for(copy_plan, make_article(essays)).price_fen == 299


def test_a_plan_wide_promotion_applies_when_nothing_more_specific_does(copy_plan, article, essays):
    PriceOverride.objects.create(plan=copy_plan, price_fen=499, note="双十一")
    PriceOverride.objects.create(plan=copy_plan, category=essays, price_fen=299)
    assert price_for(copy_plan, article).price_fen == 499
    assert price_for(copy_plan, make_article(essays)).price_fen == 299


def test_an_override_without_a_list_price_keeps_the_plans_list_price(copy_plan, article):
    PriceOverride.objects.create(plan=copy_plan, article=article, price_fen=100)
    assert price_for(copy_plan, article).list_price_fen == 1000


def test_overrides_count_only_inside_their_time_window(copy_plan, article):
    now = timezone.now()
    PriceOverride.objects.create(
        plan=copy_plan, article=article, price_fen=100, ends_at=now - dt.timedelta(hours=1)
    )
    PriceOverride.objects.create(
        plan=copy_plan, article=article, price_fen=200, starts_at=now + dt.timedelta(hours=1)
    )
    assert price_for(copy_plan, article).price_fen == 599
    assert price_for(copy_plan, article, at=now + dt.timedelta(hours=2)).price_fen == 200
    assert price_for(copy_plan, article, at=now - dt.timedelta(hours=2)).price_fen == 100


def test_the_newest_of_two_overrides_for_the_same_article_wins(copy_plan, article):
    now = timezone.now()
    PriceOverride.objects.create(
        plan=copy_plan, article=article, price_fen=300, created_at=now - dt.timedelta(days=1)
    )
    PriceOverride.objects.create(plan=copy_plan, article=article, price_fen=450, created_at=now)
    assert price_for(copy_plan, article).price_fen == 450


def test_an_override_of_another_plan_does_not_apply(copy_plan, pass_plan, article):
    PriceOverride.objects.create(plan=pass_plan, article=article, price_fen=1)
    assert price_for(copy_plan, article).price_fen == 599
    assert price_for(pass_plan, article).price_fen == 1
    # Without an article (a pass bought from the home page) only plan-wide overrides count.
    assert price_for(pass_plan).price_fen == 999
