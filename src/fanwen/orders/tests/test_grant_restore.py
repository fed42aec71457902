import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from fanwen.orders.actions import (
    do_close_order,
    do_complete_refund,
    do_grant,
    do_refund,
    do_restore,
)
from fanwen.orders.errors import OrderNotPaid, UnknownOrder
from fanwen.orders.models import Entitlement, Order, PaymentEvent, Plan
from fanwen.orders.tests.fixtures import make_order, settle

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


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


def test_restoring_by_order_number_moves_the_purchase_to_the_new_browser(
    paid_copy, xiaoming, xiaoming_laptop, article
):
    restored = do_restore(visitor=xiaoming_laptop, number=paid_copy.out_trade_no)
    assert [e.order for e in restored] == [paid_copy]
    assert Entitlement.objects.access_for(xiaoming_laptop, None, article)["copy"] is True
    # Moved, not copied: a shared number opens one browser at a time.
    assert Entitlement.objects.access_for(xiaoming, None, article)["copy"] is False
    event = PaymentEvent.objects.get(kind="restore")
    assert event.payload["from_visitors"] == [str(xiaoming.pk)]
    assert event.payload["to_visitor"] == str(xiaoming_laptop.pk)


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
    [entitlement] = do_restore(visitor=xiaoming_laptop, number=order.out_trade_no)
    assert (entitlement.starts_at, entitlement.ends_at) == (paid_at, paid_at + 30 * DAY)
    assert Entitlement.objects.pass_until(xiaoming_laptop, None) == paid_at + 30 * DAY
    assert Entitlement.objects.pass_until(xiaoming, None) is None


@pytest.mark.parametrize(
    "number", ["20240101ABCDEFGHJKLMNPQRSTUV", "4200000000000000000000000000", "", "   "]
)
def test_restoring_an_unknown_number_raises(paid_copy, xiaoming_laptop, number):
    with pytest.raises(UnknownOrder):
        do_restore(visitor=xiaoming_laptop, number=number)
    assert not Entitlement.objects.filter(visitor=xiaoming_laptop).exists()


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
    assert not Entitlement.objects.filter(visitor=xiaoming_laptop).exists()
