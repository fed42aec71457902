"""Opening a ticket, and mailing a reply when SMTP is set up (EMAIL_HOST)."""

from __future__ import annotations

import logging
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.utils import timezone

from fanwen.accounts.models import Visitor
from fanwen.support.models import Ticket, TicketReply

log = logging.getLogger(__name__)


def do_open_ticket(*, visitor: Visitor | None, user: Any, data: dict) -> Ticket:
    """A ticket from the 联系客服 form's cleaned data, tied to this browser and account."""
    user = user if user is not None and getattr(user, "is_authenticated", False) else None
    ticket = Ticket.objects.create(visitor=visitor, user=user, **data)
    log.info("ticket %s opened (%s) by visitor %s", ticket.pk, ticket.kind, visitor and visitor.pk)
    return ticket


def reply_address(ticket: Ticket) -> str:
    """Where a reply can be mailed: the invoice mailbox, else the contact if it is an address."""
    contact = ticket.contact.strip()
    for candidate in (ticket.invoice_email, contact):
        try:
            validate_email(candidate)
        except ValidationError:
            continue
        return candidate
    # A bare QQ number reaches its QQ mailbox.
    if re.fullmatch(r"[1-9]\d{4,11}", contact) and not re.fullmatch(r"1\d{10}", contact):
        return f"{contact}@qq.com"
    return ""


def mail_enabled() -> bool:
    return bool(settings.EMAIL_HOST)


def mail_reply(reply: TicketReply) -> str:
    """Mail the reply if SMTP is set up and the buyer left an address; returns what happened."""
    ticket = reply.ticket
    address = reply_address(ticket)
    if not address:
        return "没有可用的邮箱，回复显示在我的购买"
    if not mail_enabled():
        return "未配置邮件服务，回复显示在我的购买"
    reply.emailed_to = address
    try:
        send_mail(
            subject=f"{settings.SITE_NAME}客服回复（工单 {ticket.number}）",
            message=(
                f"您好，\n\n{reply.body}\n\n——\n您的问题：{ticket.message[:500]}\n\n"
                f"也可以在「我的购买」页面查看回复。\n{settings.SITE_NAME}客服"
            ),
            from_email=None,
            recipient_list=[address],
        )
    except Exception as exc:  # smtplib and socket errors alike: the reply stays on the site
        log.warning("reply to ticket %s: mail to %s failed: %s", ticket.pk, address, exc)
        reply.email_error = f"{type(exc).__name__}: {exc}"[:200]
        outcome = f"邮件发送失败：{reply.email_error}"
    else:
        reply.emailed_at = timezone.now()
        outcome = f"邮件已发送到 {address}"
    reply.save(update_fields=["emailed_to", "emailed_at", "email_error"])
    return outcome
