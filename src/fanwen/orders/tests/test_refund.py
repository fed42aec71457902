import pytest

from fanwen.orders.actions import do_complete_refund, do_refund
from fanwen.orders.errors import OrderStateError, UnknownRefund
from fanwen.orders.models import Entitlement, Order, PaymentEvent
from fanwen.orders.tests.fixtures import settle

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_copy(pending_copy) -> Order:
    settle(pending_copy, txn_id="4200001")
    return Order.objects.get(pk=pending_copy.pk)


def test_a_refund_request_has_a_fixed_number_and_keeps_access_until_it_succeeds(
    paid_copy, kefu, xiaoming, article
):
    order = do_refund(paid_copy, reason="买错了", staff=kefu)
    assert order.out_refund_no == "R" + paid_copy.out_trade_no == order.refund_no
    assert (order.status, order.refund_status, order.refund_requested_by) == (
        "paid",
        "processing",
        kefu,
    )
    assert Entitlement.objects.access_for(xiaoming, None, article)["copy"] is True
    event = order.events.get(kind="refund")
    assert (event.outcome, event.staff) == ("refund requested", kefu)


def test_asking_twice_for_a_refund_keeps_the_same_number(paid_copy, kefu):
    first = do_refund(paid_copy, reason="重复扣款", staff=kefu)
    second = do_refund(paid_copy, reason="重复扣款", staff=kefu)
    assert first.out_refund_no == second.out_refund_no


def test_a_successful_refund_marks_the_order_refunded_and_revokes_access(
    paid_copy, kefu, xiaoming, article
):
    order = do_refund(paid_copy, reason="买错了", staff=kefu)
    order = do_complete_refund(order.out_refund_no, "SUCCESS", event_id="RF-1")
    assert (order.status, order.refund_status) == ("refunded", "success")
    assert order.refunded_at is not None
    assert Entitlement.objects.get(order=order).revoked_at is not None
    assert Entitlement.objects.access_for(xiaoming, None, article)["copy"] is False


def test_a_repeated_refund_success_is_a_no_op(paid_copy):
    order = do_refund(paid_copy, reason="买错了")
    first = do_complete_refund(order.out_refund_no, "SUCCESS", event_id="RF-1")
    revoked_at = Entitlement.objects.get(order=order).revoked_at
    again = do_complete_refund(order.out_refund_no, "SUCCESS", event_id="RF-1")
    assert again.refunded_at == first.refunded_at
    assert Entitlement.objects.get(order=order).revoked_at == revoked_at
    assert order.events.filter(outcome__contains="ignored").count() == 1


def test_a_closed_or_abnormal_refund_keeps_access(paid_copy, xiaoming, article):
    order = do_refund(paid_copy, reason="买错了")
    for status, expected in (("CLOSED", "closed"), ("ABNORMAL", "abnormal")):
        order = do_complete_refund(order.out_refund_no, status)
        assert (order.status, order.refund_status) == ("paid", expected)
    assert Entitlement.objects.access_for(xiaoming, None, article)["copy"] is True


def test_an_unpaid_order_cannot_be_refunded(pending_copy):
    with pytest.raises(OrderStateError):
        do_refund(pending_copy, reason="?")
    assert Order.objects.get(pk=pending_copy.pk).out_refund_no is None


def test_an_unknown_refund_number_raises(db):
    with pytest.raises(UnknownRefund):
        do_complete_refund("R20240101NOSUCH", "SUCCESS")


def test_a_late_repeat_of_the_payment_after_the_refund_grants_nothing(paid_copy, xiaoming, article):
    order = do_refund(paid_copy, reason="买错了")
    do_complete_refund(order.out_refund_no, "SUCCESS")
    result = settle(paid_copy, txn_id="4200001", source="query")
    assert result.outcome == "already_settled"
    assert Order.objects.get(pk=paid_copy.pk).status == "refunded"
    assert Entitlement.objects.access_for(xiaoming, None, article)["copy"] is False
    assert PaymentEvent.objects.filter(order=paid_copy, outcome="settled").count() == 1
