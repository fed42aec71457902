import pytest
from django.contrib.auth import login
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from fanwen.accounts.actions import do_merge_visitor
from fanwen.accounts.models import Visitor
from fanwen.accounts.visitors import get_or_create_visitor
from fanwen.orders.models import Entitlement, Order, Plan
from fanwen.orders.tests.fixtures import make_order, settle

pytestmark = pytest.mark.django_db


def test_logging_in_binds_the_visitor_and_its_purchases_to_the_account(
    xiaoming, alice, article, plans
):
    copy = make_order(xiaoming, Plan.Code.ARTICLE_COPY, article)
    settle(copy)
    pass_order = make_order(xiaoming, Plan.Code.PASS_30D)
    settle(pass_order)
    assert do_merge_visitor(xiaoming, alice) is True
    assert Visitor.objects.get(pk=xiaoming.pk).user == alice
    assert set(Order.objects.filter(user=alice)) == {copy, pass_order}
    assert Entitlement.objects.filter(user=alice).count() == 2


def test_after_the_merge_the_account_opens_the_purchase_in_any_browser(
    xiaoming, xiaoming_laptop, alice, article
):
    settle(make_order(xiaoming, Plan.Code.ARTICLE_COPY, article))
    assert Entitlement.objects.access_for(xiaoming_laptop, alice, article)["copy"] is False
    do_merge_visitor(xiaoming, alice)
    assert Entitlement.objects.access_for(xiaoming_laptop, alice, article)["copy"] is True
    # Logged out on the laptop, the purchase stays with the phone's cookie only.
    assert Entitlement.objects.access_for(xiaoming_laptop, None, article)["copy"] is False
    assert Entitlement.objects.access_for(xiaoming, None, article)["copy"] is True


def test_a_browser_of_another_account_is_not_merged(xiaoming, alice, kefu, article):
    settle(make_order(xiaoming, Plan.Code.ARTICLE_COPY, article))
    do_merge_visitor(xiaoming, alice)
    assert do_merge_visitor(xiaoming, kefu) is False
    assert Visitor.objects.get(pk=xiaoming.pk).user == alice
    assert not Entitlement.objects.filter(user=kefu).exists()


def test_merging_twice_changes_nothing(xiaoming, alice, article):
    settle(make_order(xiaoming, Plan.Code.ARTICLE_COPY, article))
    assert do_merge_visitor(xiaoming, alice) and do_merge_visitor(xiaoming, alice)
    assert Entitlement.objects.filter(user=alice).count() == 1


def test_logging_in_with_a_visitor_cookie_merges_through_the_login_signal(alice, article):
    first = RequestFactory().get("/")
    response = HttpResponse()
    visitor = get_or_create_visitor(first, response)
    settle(make_order(visitor, Plan.Code.ARTICLE_COPY, article), paid_at=timezone.now())

    request = RequestFactory().post("/login/")
    request.COOKIES[response.cookies["fw_visitor"].key] = response.cookies["fw_visitor"].value
    SessionMiddleware(lambda r: HttpResponse()).process_request(request)
    login(request, alice)
    assert Visitor.objects.get(pk=visitor.pk).user == alice
    assert Entitlement.objects.get().user == alice
