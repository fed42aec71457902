"""A buyer pays, asks 客服 for a refund naming the order; staff find the ticket, refund from it and
reply; the buyer's page asks for payment again and 我的购买 shows the refund and the reply."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from fanwen.orders.models import Order
from fanwen.sandbox.models import SandboxRefund
from fanwen.support.models import ContactInfo, Ticket
from tests.browser.chromium import ARTIFACTS
from tests.browser.test_paywall import (  # noqa: F401  (fixtures)
    alipay_sandbox,
    chromium,
    live_backend,
    new_context,
    no_csp_violations,
    pay_on_sandbox_page,
    plans,
    sandbox_keys,
    shop,
    try_to_copy,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
PC = {"width": 1280, "height": 900}


def no_sideways_scroll(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")


def staff_login(context, live_server):
    get_user_model().objects.create_user("kefu", password="kefu-pass-123456", is_staff=True)
    page = context.new_page()
    page.goto(live_server.url + "/admin/login/?next=/staff/tickets/")
    page.fill("#id_username", "kefu")
    page.fill("#id_password", "kefu-pass-123456")
    page.locator("input[type=submit]").click()
    page.wait_for_url("**/staff/tickets/")
    return page


def test_a_refund_asked_for_in_a_ticket_is_done_from_the_inbox(
    chromium,  # noqa: F811
    live_server,
    shop,  # noqa: F811
    settings,
):
    from playwright.sync_api import expect

    info = ContactInfo.current()
    info.wechat_id, info.qq, info.phone = "fanwen_kefu", "800012345", "400-123-4567"
    info.email, info.hours = "kefu@fanwen.example", "每天 9:00–21:00"
    info.save()
    article = shop[0]

    # The buyer pays for one article in the sandbox.
    buyer = new_context(chromium, live_server, viewport=PC)
    page = buyer.new_page()
    page.goto(live_server.url + article.get_absolute_url())
    try_to_copy(page)
    page.locator('#pw-modal .pw-offer[data-plan="article_copy"]').click()
    pay_on_sandbox_page(buyer, page)
    expect(page.locator("#doc")).to_have_attribute("data-variant", "clean", timeout=10_000)
    order = Order.objects.get(article=article, status=Order.Status.PAID)

    # … then opens 联系客服 from the footer and asks for a refund, naming the order.
    page.locator("footer").get_by_role("link", name="联系客服").click()
    page.wait_for_url("**/contact/")
    expect(page.locator(".contact-list")).to_contain_text("fanwen_kefu")
    page.screenshot(path=str(ARTIFACTS / "support-contact-pc.png"), full_page=True)
    page.get_by_label("申请退款").check()
    page.fill("#id_order_number", order.out_trade_no.lower())
    page.fill("#id_contact", "buyer@example.com")
    page.fill("#id_message", "买错了，想买的是另一篇，麻烦退款。")
    page.get_by_role("button", name="提交").click()
    page.wait_for_url("**/account/purchases/**")
    expect(page.locator(".acc-alert")).to_contain_text("已收到您的问题")
    ticket = Ticket.objects.get()
    assert ticket.order_number == order.out_trade_no.lower() and ticket.kind == "refund"

    # Staff find the ticket in the inbox, the named order beside it, and refund from there.
    desk = new_context(chromium, live_server, viewport=PC)
    inbox = staff_login(desk, live_server)
    expect(inbox.locator(".tk-item")).to_have_count(1)
    inbox.screenshot(path=str(ARTIFACTS / "staff-inbox-pc.png"), full_page=True)
    inbox.locator(".tk-link").first.click()
    inbox.wait_for_url(f"**/staff/tickets/{ticket.pk}/")
    named = inbox.locator(".tk-named")
    expect(named).to_contain_text(order.out_trade_no)
    named.locator("summary", has_text="退款").click()
    named.locator(".od-refund input[name=reason]").fill("买家误购，工单申请退款")
    inbox.screenshot(path=str(ARTIFACTS / "staff-ticket-pc.png"), full_page=True)
    # The refund settles from the provider's answer to the desk's request. Its notification
    # would arrive meanwhile on another thread of the live server, which on SQLite shares the
    # desk request's in-memory connection and its open transaction ("no such savepoint"):
    # a test-server limit, not the site's (each request has its own connection in production).
    settings.FANWEN_SANDBOX_AUTO_NOTIFY = False
    named.get_by_role("button", name="确认退款").click()
    expect(inbox.locator(".desk-messages")).to_contain_text("退款成功，权益已撤销")
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert SandboxRefund.objects.get().out_refund_no == order.out_refund_no
    inbox.fill("#id_body", "您好，已原路退回 5.99 元，1-3 个工作日到账。")
    inbox.get_by_role("button", name="发送回复").click()
    expect(inbox.locator(".desk-messages")).to_contain_text("已回复工单")
    expect(inbox.locator(".od-log").last).to_contain_text("买家误购，工单申请退款")
    expect(inbox.locator(".od-log").last).to_contain_text("kefu")

    # The order desk shows the refund and who did it, and why.
    inbox.goto(live_server.url + f"/staff/orders/?q={order.out_trade_no}")
    inbox.wait_for_url(f"**/staff/orders/{order.pk}/")
    expect(inbox.locator(".od-log").first).to_contain_text("退款成功，权益已撤销")
    expect(inbox.locator("body")).to_contain_text("已撤销")
    inbox.screenshot(path=str(ARTIFACTS / "staff-order-pc.png"), full_page=True)
    inbox.set_viewport_size(PHONE)
    assert no_sideways_scroll(inbox)
    inbox.screenshot(path=str(ARTIFACTS / "staff-order-phone.png"), full_page=True)
    inbox.goto(live_server.url + f"/staff/tickets/{ticket.pk}/")
    assert no_sideways_scroll(inbox)
    inbox.screenshot(path=str(ARTIFACTS / "staff-ticket-phone.png"), full_page=True)

    # The buyer's article asks for payment again; 我的购买 shows the refund and the reply.
    page.goto(live_server.url + article.get_absolute_url())
    expect(page.locator("#doc")).to_have_attribute("data-variant", "protected")
    try_to_copy(page)
    expect(page.locator("#pw-modal")).to_be_visible()
    page.goto(live_server.url + "/account/purchases/")
    row = page.locator("tr", has_text=order.out_trade_no)
    expect(row).to_contain_text("已退款")
    expect(row).to_contain_text("已原路退回")
    expect(page.locator("#tickets")).to_contain_text("已原路退回 5.99 元")
    page.screenshot(path=str(ARTIFACTS / "support-purchases-pc.png"), full_page=True)

    phone = new_context(chromium, live_server, viewport=PHONE, is_mobile=True, has_touch=True)
    small = phone.new_page()
    small.goto(live_server.url + "/contact/")
    assert no_sideways_scroll(small)
    small.screenshot(path=str(ARTIFACTS / "support-contact-phone.png"), full_page=True)
    for context in (buyer, desk, phone):
        context.close()
