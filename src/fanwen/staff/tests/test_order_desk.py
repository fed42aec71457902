"""The order desk: finding orders by any number, and re-check / grant / refund through the provider,
each logged with who, when and why — against the WeChat Pay emulator over real HTTP."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from fanwen.orders.models import Entitlement, Order, PaymentEvent
from fanwen.orders.tests.fixtures import *  # noqa: F403  (buyers, plans, articles, kefu)
from fanwen.orders.tests.fixtures import make_order, settle
from fanwen.payments.jobs import retry_refunds
from fanwen.payments.settlement import settle_from_query
from fanwen.payments.tests.fixtures import *  # noqa: F403  (sandbox keys, live backend)
from fanwen.payments.tests.fixtures import LIVE_DB
from fanwen.payments.tests.test_jobs import opened, pay_at_wechat
from fanwen.sandbox.models import SandboxRefund
from fanwen.staff.models import StaffAction


@pytest.fixture
def desk(client, kefu):
    client.force_login(kefu)
    return client


# --- finding orders -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_order_is_found_by_every_number_a_buyer_or_a_bill_has(desk, xiaoming, alice, article):
    order = make_order(xiaoming, article=article, user=alice)
    settle(order, payer_ref="oPayer_123456789")
    order.refresh_from_db()
    other = make_order(xiaoming, article=article)
    page = reverse("staff:orders")
    target = reverse("staff:order", args=[order.pk])

    for number in (
        order.out_trade_no.lower(),  # read out over the phone, typed in lower case
        f" {order.out_trade_no[:4]} {order.out_trade_no[4:]} ",  # with spaces from a bill
        order.out_trade_no[:12],  # the start of it
        order.provider_txn_id,
        "oPayer_123456789",
        "alice",
        "ALICE@example.com",
    ):
        response = desk.get(page, {"q": number})
        assert response.status_code == 302 and response["Location"] == target, number

    # The visitor id names both of this browser's orders: a list, not a jump.
    listing = desk.get(page, {"q": str(xiaoming.pk)})
    assert listing.status_code == 200
    body = listing.content.decode()
    assert order.out_trade_no in body and other.out_trade_no in body

    nothing = desk.get(page, {"q": "20260101XXXXXXXXXXXXXXXXXXXX"}).content.decode()
    assert "没有符合条件的订单" in nothing


@pytest.mark.django_db
def test_orders_are_found_by_amount_and_beijing_date(desk, xiaoming, article, pass_plan):
    single = make_order(xiaoming, article=article)
    monthly = make_order(xiaoming, "pass_30d")
    # 23:30 in Beijing on 12-01 is 15:30 UTC; 00:30 on 12-02 is 16:30 UTC the day before.
    late = timezone.make_aware(dt.datetime(2026, 12, 1, 23, 30))
    early = timezone.make_aware(dt.datetime(2026, 12, 2, 0, 30))
    Order.objects.filter(pk=single.pk).update(created_at=late)
    Order.objects.filter(pk=monthly.pk).update(created_at=early)
    page = reverse("staff:orders")

    def found(**query) -> set[str]:
        body = desk.get(page, query).content.decode()
        return {o.out_trade_no for o in (single, monthly) if o.out_trade_no in body}

    yuan = f"{single.amount_fen / 100:.2f}"
    assert found(amount=yuan) == {single.out_trade_no}
    assert found(amount=f"￥{yuan}元") == {single.out_trade_no}
    assert found(date_from="2026-12-01", date_to="2026-12-01") == {single.out_trade_no}
    assert found(date_from="2026-12-02", date_to="2026-12-02") == {monthly.out_trade_no}
    assert found(date_from="2026-12-01", date_to="2026-12-02") == {
        single.out_trade_no,
        monthly.out_trade_no,
    }
    bad = desk.get(page, {"amount": "5.999"})
    assert bad.status_code == 200 and "金额写成 5.99 这样" in bad.content.decode()


@pytest.mark.django_db
def test_the_order_page_shows_its_events_entitlements_and_log(desk, xiaoming, article, kefu):
    order = make_order(xiaoming, article=article)
    settle(order)
    StaffAction.objects.create(staff=kefu, verb="recheck", order=order, outcome="订单为已支付")
    body = desk.get(reverse("staff:order", args=[order.pk])).content.decode()
    assert order.out_trade_no in body
    assert "支付通知" in body and "settled" in body  # the PaymentEvent
    assert "本订单" in body and "有效" in body  # the entitlement
    assert "向支付平台核实" in body and "订单为已支付" in body and "kefu" in body


# --- re-check, grant and refund through the emulator --------------------------------------------


@LIVE_DB
def test_recheck_settles_a_payment_whose_notification_never_came_and_logs_it(
    desk, kefu, live_backend, xiaoming, article, sandbox_keys
):
    order = opened(live_backend, xiaoming, article, sandbox_keys)
    desk.post(reverse("staff:order_recheck", args=[order.pk]))
    action = StaffAction.objects.get(order=order, verb="recheck")
    assert "未收到付款" in action.outcome and action.staff == kefu
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING

    pay_at_wechat(order)
    response = desk.post(reverse("staff:order_recheck", args=[order.pk]))
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert Entitlement.objects.active_for(xiaoming, None).filter(article=article).count() == 1
    latest = StaffAction.objects.filter(order=order, verb="recheck").first()
    assert latest.outcome == "订单为已支付"
    # Asking again changes nothing and grants nothing more.
    desk.post(reverse("staff:order_recheck", args=[order.pk]))
    assert Entitlement.objects.filter(order=order).count() == 1


@LIVE_DB
def test_grant_needs_a_reason_and_gives_the_orders_plan(desk, kefu, xiaoming, article, plans):
    order = make_order(xiaoming, article=article)
    url = reverse("staff:order_grant", args=[order.pk])
    page = desk.post(url, {"reason": "  "}, follow=True).content.decode()
    assert "请填写原因" in page
    assert not Entitlement.objects.filter(visitor=xiaoming).exists()
    assert not StaffAction.objects.filter(verb="grant").exists()

    desk.post(url, {"reason": "微信账单显示已扣款"})
    granted = Entitlement.objects.get(visitor=xiaoming, article=article)
    assert granted.granted_by == kefu and granted.ends_at is None
    action = StaffAction.objects.get(verb="grant", order=order)
    assert action.reason == "微信账单显示已扣款" and action.staff == kefu
    assert PaymentEvent.objects.filter(kind="grant", staff=kefu).count() == 1
    page = desk.get(reverse("staff:order", args=[order.pk])).content.decode()
    assert "人工补发" in page and "微信账单显示已扣款" in page


@LIVE_DB
def test_refund_goes_through_the_provider_and_revokes_the_right(
    desk, kefu, live_backend, xiaoming, article, sandbox_keys
):
    order = opened(live_backend, xiaoming, article, sandbox_keys)
    pay_at_wechat(order)
    settle_from_query(live_backend, order.out_trade_no)
    url = reverse("staff:order_refund", args=[order.pk])

    desk.post(url, {"reason": ""})
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and not SandboxRefund.objects.exists()

    desk.post(url, {"reason": "买家误购"})
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED and order.refund_requested_by == kefu
    refund = SandboxRefund.objects.get()
    assert refund.out_refund_no == order.out_refund_no and refund.amount_refund == order.amount_fen
    assert not Entitlement.objects.active_for(xiaoming, None).exists()
    action = StaffAction.objects.get(verb="refund", order=order)
    assert action.reason == "买家误购" and action.outcome == "退款成功，权益已撤销"

    # A second press refunds nothing more: the provider saw one refund number.
    desk.post(url, {"reason": "再点一次"})
    assert SandboxRefund.objects.count() == 1


@LIVE_DB
def test_a_refund_still_processing_shows_so_and_the_worker_finishes_it(
    desk, kefu, live_backend, xiaoming, article, sandbox_keys, settings
):
    settings.FANWEN_SANDBOX_REFUND_SECONDS = 3600
    order = opened(live_backend, xiaoming, article, sandbox_keys)
    pay_at_wechat(order)
    settle_from_query(live_backend, order.out_trade_no)

    desk.post(reverse("staff:order_refund", args=[order.pk]), {"reason": "重复购买"})
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.refund_status == Order.RefundStatus.PROCESSING
    action = StaffAction.objects.get(verb="refund", order=order)
    assert action.outcome.startswith("退款中")
    page = desk.get(reverse("staff:order", args=[order.pk])).content.decode()
    assert "退款中" in page
    # Still processing at the provider: the worker leaves it so.
    assert retry_refunds()["processing"] == 1
    assert Entitlement.objects.active_for(xiaoming, None).exists()

    # The provider finishes; the worker's next pass (due again) applies it.
    SandboxRefund.objects.update(created_at=timezone.now() - dt.timedelta(hours=2))
    from django.core.cache import cache

    cache.clear()  # the worker's "asked a moment ago" marks
    assert retry_refunds()["refunded"] == 1
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert not Entitlement.objects.active_for(xiaoming, None).exists()


@LIVE_DB
def test_only_paid_orders_can_be_refunded(desk, xiaoming, article, plans):
    order = make_order(xiaoming, article=article)
    page = desk.post(
        reverse("staff:order_refund", args=[order.pk]), {"reason": "试试"}, follow=True
    ).content.decode()
    assert "只有已支付的订单可以退款" in page
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING and not order.out_refund_no
    assert not StaffAction.objects.filter(verb="refund").exists()


@pytest.mark.django_db
def test_desk_actions_refuse_get_and_foreign_next(desk, xiaoming, article):
    order = make_order(xiaoming, article=article)
    assert desk.get(reverse("staff:order_recheck", args=[order.pk])).status_code == 405
    response = desk.post(
        reverse("staff:order_grant", args=[order.pk]),
        {"reason": "测试", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("staff:order", args=[order.pk])
