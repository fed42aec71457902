import datetime as dt
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from fanwen.accounts.models import Visitor
from fanwen.orders.actions import (
    do_close_order,
    do_complete_refund,
    do_grant,
    do_refund,
    do_restore,
)
from fanwen.orders.errors import OrderNotPaid, UnknownOrder
from fanwen.orders.models import Entitlement, EntitlementPlace, Order, PaymentEvent, Plan
from fanwen.orders.tests.fixtures import make_order, settle

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def freeze(at: dt.datetime):
    return mock.patch("django.utils.timezone.now", return_value=at)


# --- staff grants ---


def test_a_staff_grant_of_an_article_is_forever_and_logged(kefu, xiaoming, article):
    entitlement = do_grant(
        staff=kefu, visitor=xiaoming, kind="article", article=article, note="付款未到账，补发"
    )
    assert (entitlement.ends_at, entitlement.granted_by, entitlement.order) == (None, kefu, None)
    assert Entitlement.objects.access_for(xiaoming, None, article)["download"] is True
    event = PaymentEvent.objects.get(kind="grant")
    assert (event.staff, event.order) == (kefu, None)
    assert event.payload["note"] == "付款未到账，补发"
    assert event.payload["entitlement"] == entitlement.pk


def test_a_staff_grant_of_a_pass_stacks_after_the_bought_one(kefu, xiaoming, plans):
    paid_at = timezone.now() - DAY
    settle(make_order(xiaoming, Plan.Code.PASS_30D), paid_at=paid_at)
    granted = do_grant(staff=kefu, visitor=xiaoming, kind="pass", days=7, note="补偿")
    assert (granted.starts_at, granted.ends_at) == (paid_at + 30 * DAY, paid_at + 37 * DAY)
    assert Entitlement.objects.pass_until(xiaoming, None) == paid_at + 37 * DAY


def test_a_pass_grant_without_days_lasts_as_long_as_the_pass_plan(kefu, alice, plans):
    granted = do_grant(staff=kefu, user=alice, kind="pass", note="活动奖品")
    assert granted.ends_at - granted.starts_at == 30 * DAY
    assert granted.user == alice and granted.visitor is None


def test_only_staff_can_grant(alice, xiaoming, article):
    with pytest.raises(PermissionDenied):
        do_grant(staff=alice, visitor=xiaoming, kind="article", article=article, note="自己给自己")
    assert not Entitlement.objects.exists()


def test_a_grant_needs_a_holder_and_a_reason(kefu, xiaoming, article):
    with pytest.raises(ValueError):
        do_grant(staff=kefu, kind="article", article=article, note="没有对象")
    with pytest.raises(ValueError):
        do_grant(staff=kefu, visitor=xiaoming, kind="article", article=article, note="  ")
    assert not Entitlement.objects.exists()


# --- restore ---


@pytest.fixture
def paid_copy(pending_copy) -> Order:
    settle(pending_copy, txn_id="4200000000202401012345678901")
    return Order.objects.get(pk=pending_copy.pk)


def test_restoring_by_order_number_adds_the_purchase_to_the_new_browser(
    paid_copy, xiaoming, xiaoming_laptop, article
):
    restored = do_restore(visitor=xiaoming_laptop, number=paid_copy.out_trade_no)
    assert [e.order for e in restored.entitlements] == [paid_copy]
    assert (restored.places, restored.dropped) == (2, 0)
    assert Entitlement.objects.access_for(xiaoming_laptop, None, article)["copy"] is True
    # Added, not moved: the browser it was bought in keeps it.
    assert Entitlement.objects.access_for(xiaoming, None, article)["copy"] is True
    assert Entitlement.objects.count() == 1
    event = PaymentEvent.objects.get(kind="restore")
    assert event.payload["to_visitor"] == str(xiaoming_laptop.pk)
    assert (event.payload["places"], event.payload["dropped_visitors"]) == (2, [])


def test_restoring_again_in_the_same_browser_changes_nothing(
    paid_copy, xiaoming, xiaoming_laptop, article
):
    for _ in range(3):
        restored = do_restore(visitor=xiaoming_laptop, number=paid_copy.out_trade_no)
    do_restore(visitor=xiaoming, number=paid_copy.out_trade_no)
    assert (restored.places, restored.dropped) == (2, 0)
    assert EntitlementPlace.objects.count() == 1


def _browsers(count: int) -> list[Visitor]:
    return [Visitor.objects.create() for _ in range(count)]


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_an_order_holds_at_most_the_limit_of_browsers_the_oldest_dropping_out(
    settings, paid_copy, xiaoming, article, limit
):
    settings.FANWEN_RESTORE_PLACES = limit
    others = _browsers(limit + 2)
    start = timezone.now()
    for i, browser in enumerate(others):
        # Each restore a minute after the last, so "oldest" is unambiguous.
        with freeze(start + (i + 1) * dt.timedelta(minutes=1)):
            restored = do_restore(visitor=browser, number=paid_copy.out_trade_no)
    assert restored.places == limit
    holders = [xiaoming, *others]
    allowed = [Entitlement.objects.access_for(v, None, article)["copy"] for v in holders]
    # The newest `limit` browsers hold it, the buyer's first browser among the dropped.
    assert allowed == [False] * (len(holders) - limit) + [True] * limit
    dropped = [
        v
        for e in PaymentEvent.objects.filter(kind="restore").order_by("pk")
        for v in e.payload["dropped_visitors"]
    ]
    assert dropped == [str(v.pk) for v in holders[: len(holders) - limit]]
    # A dropped browser takes it back with the number, and the oldest of the others goes.
    with freeze(start + dt.timedelta(hours=1)):
        do_restore(visitor=xiaoming, number=paid_copy.out_trade_no)
    allowed = [Entitlement.objects.access_for(v, None, article)["copy"] for v in holders]
    assert allowed[0] is True and sum(allowed) == limit


def test_a_restore_adds_the_right_to_the_logged_in_account(paid_copy, xiaoming, alice, article):
    new_browser = Visitor.objects.create()
    restored = do_restore(visitor=new_browser, number=paid_copy.out_trade_no, user=alice)
    assert restored.added_to_account
    # Anywhere alice logs in, even in a browser the order was never restored to.
    assert Entitlement.objects.access_for(Visitor.objects.create(), alice, article)["copy"]
    assert Entitlement.objects.access_for(xiaoming, None, article)["copy"] is True


def test_a_restore_leaves_a_right_owned_by_another_account_with_it(paid_copy, alice, article):
    from django.contrib.auth import get_user_model

    Entitlement.objects.filter(order=paid_copy).update(user=alice)
    bob = get_user_model().objects.create_user("bob", "bob@example.com", "another horse battery")
    restored = do_restore(visitor=Visitor.objects.create(), number=paid_copy.out_trade_no, user=bob)
    assert not restored.added_to_account
    assert Entitlement.objects.get(order=paid_copy).user == alice


def test_an_account_registered_later_in_a_restored_browser_gets_the_right(
    paid_copy, xiaoming_laptop, alice, article
):
    from fanwen.accounts.actions import do_merge_visitor

    do_restore(visitor=xiaoming_laptop, number=paid_copy.out_trade_no)
    assert do_merge_visitor(xiaoming_laptop, alice)
    assert Entitlement.objects.access_for(Visitor.objects.create(), alice, article)["copy"]


def test_a_refund_takes_the_right_from_every_browser_it_was_restored_to(
    paid_copy, xiaoming, article
):
    browsers = _browsers(2)
    for browser in browsers:
        do_restore(visitor=browser, number=paid_copy.out_trade_no)
    order = do_refund(Order.objects.get(pk=paid_copy.pk), reason="买错了")
    do_complete_refund(order.out_refund_no, "SUCCESS")
    for holder in [xiaoming, *browsers]:
        assert Entitlement.objects.access_for(holder, None, article)["copy"] is False


def test_restoring_accepts_the_order_number_in_lower_case_with_spaces(
    paid_copy, xiaoming_laptop, article
):
    do_restore(visitor=xiaoming_laptop, number=f"  {paid_copy.out_trade_no.lower()} ")
    assert Entitlement.objects.access_for(xiaoming_laptop, None, article)["copy"] is True


def test_restoring_by_the_wechat_transaction_number(paid_copy, xiaoming_laptop, article):
    do_restore(visitor=xiaoming_laptop, number="4200000000202401012345678901")
    assert Entitlement.objects.access_for(xiaoming_laptop, None, article)["copy"] is True


def test_a_restored_pass_keeps_its_dates(xiaoming, xiaoming_laptop, plans):
    paid_at = timezone.now() - 3 * DAY
    order = make_order(xiaoming, Plan.Code.PASS_30D)
    settle(order, paid_at=paid_at)
    [entitlement] = do_restore(visitor=xiaoming_laptop, number=order.out_trade_no).entitlements
    assert (entitlement.starts_at, entitlement.ends_at) == (paid_at, paid_at + 30 * DAY)
    assert Entitlement.objects.pass_until(xiaoming_laptop, None) == paid_at + 30 * DAY
    assert Entitlement.objects.pass_until(xiaoming, None) == paid_at + 30 * DAY


@pytest.mark.parametrize(
    "number", ["20240101ABCDEFGHJKLMNPQRSTUV", "4200000000000000000000000000", "", "   "]
)
def test_restoring_an_unknown_number_raises(paid_copy, xiaoming_laptop, number):
    with pytest.raises(UnknownOrder):
        do_restore(visitor=xiaoming_laptop, number=number)
    assert not Entitlement.objects.held_by(xiaoming_laptop).exists()


def test_restoring_an_unpaid_order_raises(pending_copy, xiaoming_laptop):
    with pytest.raises(OrderNotPaid):
        do_restore(visitor=xiaoming_laptop, number=pending_copy.out_trade_no)
    do_close_order(pending_copy)
    with pytest.raises(OrderNotPaid):
        do_restore(visitor=xiaoming_laptop, number=pending_copy.out_trade_no)


def test_restoring_a_refunded_order_raises(paid_copy, xiaoming_laptop):
    order = do_refund(paid_copy, reason="买错了")
    do_complete_refund(order.out_refund_no, "SUCCESS")
    with pytest.raises(OrderNotPaid):
        do_restore(visitor=xiaoming_laptop, number=paid_copy.out_trade_no)
    assert not Entitlement.objects.held_by(xiaoming_laptop).exists()
