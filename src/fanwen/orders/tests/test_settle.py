import datetime as dt
import logging

import pytest
from django.utils import timezone

from fanwen.orders.actions import do_close_order, do_settle_order
from fanwen.orders.errors import (
    AmountMismatch,
    ConflictingPayment,
    CurrencyMismatch,
    MerchantMismatch,
    ProviderMismatch,
    UnknownOrder,
)
from fanwen.orders.models import Entitlement, Order, PaymentEvent, Plan
from fanwen.orders.signals import order_paid
from fanwen.orders.tests.fixtures import make_order, settle

pytestmark = pytest.mark.django_db


def test_settling_marks_the_order_paid_and_grants_the_article_forever(
    pending_copy, xiaoming, article
):
    paid_at = timezone.now() - dt.timedelta(minutes=2)
    result = settle(pending_copy, txn_id="4200001", paid_at=paid_at, event_id="EV-1")
    order = Order.objects.get(pk=pending_copy.pk)
    assert result.outcome == "settled" and result.settled_now and not result.late
    assert (order.status, order.provider_txn_id, order.paid_at) == ("paid", "4200001", paid_at)
    assert order.payer_ref == "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
    entitlement = Entitlement.objects.get(order=order)
    assert entitlement == result.entitlement
    assert (entitlement.kind, entitlement.article, entitlement.visitor) == (
        "article",
        article,
        xiaoming,
    )
    assert (entitlement.starts_at, entitlement.ends_at) == (paid_at, None)
    event = PaymentEvent.objects.get(order=order)
    assert (event.kind, event.provider_event_id, event.outcome) == ("notify", "EV-1", "settled")
    assert event.payload["reported"]["amount_fen"] == 599


def test_a_duplicate_notification_with_the_same_event_id_is_a_no_op(pending_copy):
    settle(pending_copy, txn_id="4200001", event_id="EV-1")
    again = settle(pending_copy, txn_id="4200001", event_id="EV-1")
    assert again.outcome == "duplicate_event" and again.entitlement is None
    assert Entitlement.objects.filter(order=pending_copy).count() == 1
    assert list(
        PaymentEvent.objects.order_by("id").values_list("provider_event_id", flat=True)
    ) == ["EV-1", None]


def test_a_query_after_the_notification_is_a_no_op(pending_copy):
    settle(pending_copy, txn_id="4200001", event_id="EV-1", source="notify")
    again = settle(pending_copy, txn_id="4200001", source="query")
    assert again.outcome == "already_settled"
    assert Entitlement.objects.filter(order=pending_copy).count() == 1
    assert (
        PaymentEvent.objects.filter(
            order=pending_copy, kind="query", outcome__startswith="already"
        ).count()
        == 1
    )


def test_a_second_transaction_for_a_paid_order_is_a_conflict(pending_copy):
    settle(pending_copy, txn_id="4200001")
    with pytest.raises(ConflictingPayment):
        settle(pending_copy, txn_id="4200999")
    order = Order.objects.get(pk=pending_copy.pk)
    assert order.provider_txn_id == "4200001"
    assert Entitlement.objects.count() == 1
    assert PaymentEvent.objects.filter(outcome__startswith="rejected").count() == 1


def test_a_transaction_that_paid_another_order_cannot_pay_this_one(xiaoming, article, pending_copy):
    other = make_order(xiaoming, Plan.Code.ARTICLE_COPY, article)
    settle(other, txn_id="4200001")
    with pytest.raises(ConflictingPayment):
        settle(pending_copy, txn_id="4200001")
    assert Order.objects.get(pk=pending_copy.pk).status == "pending"


@pytest.mark.parametrize(
    ("report", "error", "reason"),
    [
        ({"amount_fen": 1}, AmountMismatch, "amount"),
        ({"amount_fen": 59900}, AmountMismatch, "amount"),
        ({"currency": "USD"}, CurrencyMismatch, "currency"),
        ({"mchid": "1900000999"}, MerchantMismatch, "mchid"),
        ({"appid": "wx_someone_else"}, MerchantMismatch, "appid"),
        ({"mchid": None}, MerchantMismatch, "mchid"),
        ({"provider": "alipay"}, ProviderMismatch, "provider"),
    ],
)
def test_a_report_that_does_not_match_the_order_grants_nothing_and_is_recorded(
    pending_copy, report, error, reason
):
    with pytest.raises(error) as caught:
        settle(pending_copy, event_id="EV-bad", **report)
    assert caught.value.reason == reason
    order = Order.objects.get(pk=pending_copy.pk)
    assert (order.status, order.provider_txn_id) == ("pending", None)
    assert not Entitlement.objects.exists()
    event = PaymentEvent.objects.get(order=order)
    assert event.outcome.startswith(f"rejected ({reason})")
    # Not marked as handled: the provider's retry is checked again.
    assert event.provider_event_id is None


def test_the_merchant_stored_on_the_order_is_checked_when_the_caller_gives_none(pending_copy):
    with pytest.raises(MerchantMismatch):
        settle(pending_copy, mchid="1900000999", expected_mchid=None, expected_appid=None)
    assert Order.objects.get(pk=pending_copy.pk).status == "pending"


def test_a_rejected_notification_is_accepted_when_retried_with_the_right_facts(pending_copy):
    with pytest.raises(MerchantMismatch):
        settle(pending_copy, event_id="EV-1", expected_mchid="1900000999")
    result = settle(pending_copy, event_id="EV-1")
    assert result.outcome == "settled"
    assert Entitlement.objects.filter(order=pending_copy).count() == 1


def test_an_unknown_order_number_raises_and_is_logged(db, caplog):
    with caplog.at_level(logging.WARNING, logger="fanwen.orders.actions"):
        with pytest.raises(UnknownOrder):
            do_settle_order(
                "20240101NOSUCHORDER",
                provider="wechat",
                txn_id="4200001",
                amount_fen=599,
                currency="CNY",
                paid_at=timezone.now(),
                event_id="EV-9",
            )
    assert "20240101NOSUCHORDER" in caplog.text
    event = PaymentEvent.objects.get()
    assert (event.order, event.out_trade_no) == (None, "20240101NOSUCHORDER")
    assert event.outcome.startswith("rejected (UnknownOrder)")
    assert not Entitlement.objects.exists()


def test_a_payment_on_a_closed_order_is_honoured(pending_copy, article):
    do_close_order(pending_copy, reason="expired")
    assert Order.objects.get(pk=pending_copy.pk).status == "closed"
    result = settle(pending_copy, source="reconcile")
    order = Order.objects.get(pk=pending_copy.pk)
    assert result.outcome == "settled" and result.late
    assert order.status == "paid"
    assert Entitlement.objects.get(order=order).article == article
    assert order.events.filter(kind="reconcile").get().outcome.startswith("settled after close")


def test_closing_is_a_no_op_for_a_paid_order(pending_copy):
    settle(pending_copy)
    assert do_close_order(pending_copy).status == "paid"
    assert not PaymentEvent.objects.filter(kind="close").exists()


def test_the_paid_signal_is_sent_once_after_commit(
    pending_copy, django_capture_on_commit_callbacks
):
    heard = []

    def listener(sender, order, entitlement, late, **kwargs):
        heard.append((order.out_trade_no, entitlement.pk, late))

    order_paid.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            settle(pending_copy, event_id="EV-1")
        with django_capture_on_commit_callbacks(execute=True):
            settle(pending_copy, event_id="EV-1")
            settle(pending_copy, event_id="EV-2")
    finally:
        order_paid.disconnect(listener)
    assert heard == [(pending_copy.out_trade_no, Entitlement.objects.get().pk, False)]


def test_an_unknown_source_is_refused_before_touching_anything(pending_copy):
    with pytest.raises(ValueError):
        settle(pending_copy, source="browser")
    assert Order.objects.get(pk=pending_copy.pk).status == "pending"
    assert not PaymentEvent.objects.exists()
