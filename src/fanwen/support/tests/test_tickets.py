"""联系客服: the contact page, the ticket form's guards, the inbox, and replies that reach the buyer
on 我的购买 and — through a real local SMTP server — by mail."""

from __future__ import annotations

import io
import socket
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from fanwen.accounts.visitors import set_visitor_cookie
from fanwen.orders.tests.fixtures import *  # noqa: F403  (buyers, plans, articles, kefu)
from fanwen.orders.tests.fixtures import make_order, settle
from fanwen.staff.models import StaffAction
from fanwen.support.models import ContactInfo, Ticket

CONTACT = "/contact/"


def ticket_data(**overrides) -> dict:
    data = {
        "kind": "payment",
        "order_number": "",
        "contact": "buyer@example.com",
        "message": "付款后页面还是让我付款，请帮忙看看。",
    }
    data.update(overrides)
    return data


@pytest.fixture
def tickets_limits(settings):
    settings.FANWEN_TICKET_LIMIT = 3
    settings.FANWEN_TICKET_IP_LIMIT = 100
    from django.core.cache import cache

    cache.clear()


# --- the contact page ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_contact_page_shows_what_staff_set_and_the_qr_image(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    info = ContactInfo.current()
    info.wechat_id = "fanwen_kefu"
    info.qq = "800012345"
    info.phone = "400-123-4567"
    info.email = "kefu@fanwen.example"
    info.hours = "工作日 9:00–18:00"
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
        b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
        b"\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    info.wechat_qr.save("qr.png", SimpleUploadedFile("qr.png", png), save=True)

    body = client.get(CONTACT).content.decode()
    for shown in ("fanwen_kefu", "800012345", "400-123-4567", "kefu@fanwen.example", "工作日"):
        assert shown in body
    assert 'href="tel:4001234567"' in body
    image = client.get(reverse("support:wechat_qr"))
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert b"".join(image.streaming_content) == png


@pytest.mark.django_db
def test_contact_is_linked_from_the_footer_and_the_paywall(client, article):
    assert 'href="/contact/"' in client.get("/").content.decode()
    page = client.get(article.get_absolute_url()).content.decode()
    assert page.count('href="/contact/"') >= 2  # the paywall's 联系客服 and the footer


@pytest.mark.django_db
def test_without_contact_details_the_page_still_takes_tickets(client):
    body = client.get(CONTACT).content.decode()
    assert "在线留言" in body and "客服微信" not in body


# --- the ticket form's guards ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_ticket_without_the_csrf_token_is_refused(tickets_limits):
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(CONTACT, ticket_data())
    assert response.status_code == 403
    assert not Ticket.objects.exists()
    # The same browser with the token from the page gets through.
    browser.get(CONTACT)
    token = browser.cookies["csrftoken"].value
    response = browser.post(CONTACT, ticket_data(csrfmiddlewaretoken=token))
    assert response.status_code == 302 and Ticket.objects.count() == 1


@pytest.mark.django_db
def test_oversize_posts_are_refused_before_anything_is_stored(client, tickets_limits):
    response = client.post(CONTACT, ticket_data(message="很长" * 9000))
    assert response.status_code == 413 and "内容太长" in response.content.decode()
    # Under the byte limit but over 2,000 characters: the form says so.
    response = client.post(CONTACT, ticket_data(message="字" * 2001))
    assert response.status_code == 400 and "2000" in response.content.decode()
    long_contact = client.post(CONTACT, ticket_data(contact="a" * 101))
    assert long_contact.status_code == 400
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_over_the_limit_posts_are_refused_with_429(client, tickets_limits, xiaoming):
    # One browser rotating its address is held by its visitor counter.
    _browse_as(client, xiaoming)
    for n in range(3):
        response = client.post(CONTACT, ticket_data(), REMOTE_ADDR=f"203.0.113.{n + 1}")
        assert response.status_code == 302
    refused = client.post(CONTACT, ticket_data(), REMOTE_ADDR="203.0.113.99")
    assert refused.status_code == 429 and refused["Retry-After"]
    assert "提交太频繁" in refused.content.decode()
    assert Ticket.objects.count() == 3
    # Bad posts count too: a flood of invalid forms is stopped the same way.
    assert client.post(CONTACT, ticket_data(message="")).status_code == 429


@pytest.mark.django_db
def test_one_address_without_cookies_is_held_by_its_ip_counter(settings, tickets_limits):
    settings.FANWEN_TICKET_IP_LIMIT = 4
    answers = [Client().post(CONTACT, ticket_data()).status_code for _ in range(6)]
    assert answers == [302] * 4 + [429] * 2
    assert Ticket.objects.count() == 4


@pytest.mark.django_db
def test_empty_and_short_messages_are_refused(client, tickets_limits):
    assert client.post(CONTACT, ticket_data(message="")).status_code == 400
    assert client.post(CONTACT, ticket_data(message="急")).status_code == 400
    assert client.post(CONTACT, ticket_data(contact="")).status_code == 400
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_an_invoice_request_needs_its_order_title_and_mailbox(client, tickets_limits):
    refused = client.post(CONTACT, ticket_data(kind="invoice"))
    body = refused.content.decode()
    assert refused.status_code == 400
    assert "开发票请填写订单号" in body and "发票抬头" in body and "邮箱" in body
    done = client.post(
        CONTACT,
        ticket_data(
            kind="invoice",
            order_number="20261204ABCDEFGHJKLMNPQRSTUV",
            invoice_title="某某科技有限公司",
            invoice_tax_id="91110000MA00000000",
            invoice_email="finance@example.com",
        ),
    )
    assert done.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.kind == "invoice" and ticket.invoice_title == "某某科技有限公司"


@pytest.mark.django_db
def test_invoice_fields_are_dropped_from_other_tickets(client, tickets_limits):
    client.post(CONTACT, ticket_data(invoice_title="不该存", invoice_email="x@example.com"))
    ticket = Ticket.objects.get()
    assert ticket.invoice_title == "" and ticket.invoice_email == ""


# --- the ticket follows its browser; the inbox links its orders ----------------------------------


@pytest.mark.django_db
def test_a_ticket_belongs_to_the_browser_and_the_inbox_shows_its_orders(
    client, tickets_limits, kefu, xiaoming, article
):
    _browse_as(client, xiaoming)
    paid = make_order(xiaoming, article=article)
    settle(paid)
    pending = make_order(xiaoming, article=article)
    stranger_order = make_order(
        type(xiaoming).objects.create(), article=article
    )  # someone else's: not shown
    client.post(CONTACT, ticket_data(order_number=paid.out_trade_no.lower()))
    ticket = Ticket.objects.get()
    assert ticket.visitor == xiaoming and ticket.order_number == paid.out_trade_no.lower()

    staff = Client()
    staff.force_login(kefu)
    inbox = staff.get(reverse("staff:tickets")).content.decode()
    assert ticket.number in inbox
    page = staff.get(reverse("staff:ticket", args=[ticket.pk])).content.decode()
    assert paid.out_trade_no in page and pending.out_trade_no in page
    assert stranger_order.out_trade_no not in page
    assert page.index(paid.out_trade_no) < page.index(pending.out_trade_no)  # the named one first
    assert "买家填写的订单" in page and "确认退款" in page


def _browse_as(client, visitor) -> None:
    carrier = HttpResponse()
    set_visitor_cookie(carrier, visitor)
    client.cookies.update(carrier.cookies)


# --- replies: on 我的购买, and by mail through a local SMTP server -----------------------------------


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd's hook name)
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.DEFAULT_FROM_EMAIL = "kefu@fanwen.example"
    yield inbox
    controller.stop()


def _text(message) -> str:
    part = message.get_payload(decode=True)
    return part.decode(message.get_content_charset() or "utf-8")


@pytest.mark.django_db
def test_a_reply_is_mailed_and_shown_on_my_purchases(client, tickets_limits, kefu, smtp):
    client.post(CONTACT, ticket_data(contact="buyer@example.com"))
    ticket = Ticket.objects.get()
    staff = Client()
    staff.force_login(kefu)
    staff.post(
        reverse("staff:ticket_reply", args=[ticket.pk]), {"body": "已为您恢复，请刷新页面。"}
    )

    ticket.refresh_from_db()
    assert ticket.status == "answered"
    reply = ticket.replies.get()
    assert reply.emailed_to == "buyer@example.com" and reply.emailed_at and not reply.email_error
    (recipients, message) = smtp.messages[0]
    assert recipients == ["buyer@example.com"]
    assert ticket.number in str(make_header(decode_header(message["Subject"])))
    assert "已为您恢复，请刷新页面。" in _text(message)
    action = StaffAction.objects.get(verb="reply", ticket=ticket)
    assert action.staff == kefu and "邮件已发送到 buyer@example.com" in action.outcome

    page = client.get(reverse("accounts:purchases")).content.decode()
    assert "客服留言与回复" in page and "已为您恢复，请刷新页面。" in page and ticket.number in page
    # Another browser does not see it.
    assert "已为您恢复" not in Client().get(reverse("accounts:purchases")).content.decode()


@pytest.mark.django_db
def test_a_mail_server_that_is_down_loses_no_reply(client, tickets_limits, kefu, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = _free_port()  # nobody listens
    settings.EMAIL_TIMEOUT = 2
    client.post(CONTACT, ticket_data(contact="12345678"))  # a QQ number: its QQ mailbox
    ticket = Ticket.objects.get()
    staff = Client()
    staff.force_login(kefu)
    staff.post(reverse("staff:ticket_reply", args=[ticket.pk]), {"body": "请查收。"})
    reply = ticket.replies.get()
    assert reply.emailed_to == "12345678@qq.com" and reply.emailed_at is None
    assert "ConnectionRefusedError" in reply.email_error
    assert "请查收。" in client.get(reverse("accounts:purchases")).content.decode()


@pytest.mark.django_db
def test_without_smtp_a_reply_is_only_shown_on_the_site(client, tickets_limits, kefu, settings):
    settings.EMAIL_HOST = ""
    client.post(CONTACT, ticket_data())
    ticket = Ticket.objects.get()
    staff = Client()
    staff.force_login(kefu)
    staff.post(reverse("staff:ticket_reply", args=[ticket.pk]), {"body": "好的"})
    reply = ticket.replies.get()
    assert reply.emailed_to == "" and reply.emailed_at is None
    assert "未配置邮件服务" in StaffAction.objects.get(verb="reply").outcome


@pytest.mark.django_db
def test_staff_close_and_reopen_tickets(client, tickets_limits, kefu):
    client.post(CONTACT, ticket_data())
    ticket = Ticket.objects.get()
    staff = Client()
    staff.force_login(kefu)
    staff.post(reverse("staff:ticket_status", args=[ticket.pk]), {"close": "1"})
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    staff.post(reverse("staff:ticket_status", args=[ticket.pk]), {"close": "0"})
    ticket.refresh_from_db()
    assert ticket.status == "open"
    verbs = list(StaffAction.objects.order_by("at", "id").values_list("verb", flat=True))
    assert verbs == ["close", "reopen"]


@pytest.mark.django_db
def test_a_reader_cannot_reply(client, tickets_limits):
    client.post(CONTACT, ticket_data())
    ticket = Ticket.objects.get()
    reader = get_user_model().objects.create_user("reader", password="pw-123456-long")
    client.force_login(reader)
    assert (
        client.post(reverse("staff:ticket_reply", args=[ticket.pk]), {"body": "x"}).status_code
        == 403
    )
    assert not ticket.replies.exists()


@pytest.mark.django_db
def test_staff_set_the_contact_details_in_the_admin(admin_client, client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    listing = admin_client.get("/admin/support/contactinfo/")
    assert listing.status_code == 302
    form_url = listing["Location"]
    assert admin_client.get(form_url).status_code == 200
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), "white").save(buffer, "PNG")
    saved = admin_client.post(
        form_url,
        {
            "wechat_id": "kefu_wx",
            "qq": "10001",
            "phone": "010-12345678",
            "email": "help@example.com",
            "hours": "9:00-18:00",
            "note": "春节期间回复较慢",
            "wechat_qr": SimpleUploadedFile("qr.png", buffer.getvalue(), "image/png"),
        },
    )
    assert saved.status_code == 302, saved.content.decode()[:500]
    page = client.get(CONTACT).content.decode()
    assert "kefu_wx" in page and "春节期间回复较慢" in page and "/contact/wechat-qr" in page
    not_an_image = admin_client.post(
        form_url,
        {"hours": "x", "wechat_qr": SimpleUploadedFile("qr.png", b"not a png", "image/png")},
    )
    assert not_an_image.status_code == 200 and "errorlist" in not_an_image.content.decode()
