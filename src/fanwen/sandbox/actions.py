"""State changes of the emulated platform: a payer confirms, a refund completes. Sandbox rows only."""

from __future__ import annotations

import datetime as dt
import secrets
import string

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from fanwen.sandbox.models import SandboxNotification, SandboxRefund, SandboxTransaction
from fanwen.sandbox.notify import (
    queue_payment_notification,
    queue_refund_notification,
    send_in_background,
)


class SandboxRefused(Exception):
    """The emulated platform says no; the text is shown on the payer page."""


def _digits(length: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(length))


def new_transaction_id() -> str:
    # WeChat's transaction ids are 28 digits starting 42000; the sandbox's start 4200099 to stand out.
    return "4200099" + timezone.localtime().strftime("%Y%m%d") + _digits(13)


def new_openid() -> str:
    return "oSBX" + secrets.token_urlsafe(21)[:24]


def do_confirm_sandbox_payment(txn: SandboxTransaction) -> SandboxTransaction:
    """The payer pressed 确认支付: the trade succeeds and TRANSACTION.SUCCESS goes to notify_url."""
    with transaction.atomic():
        txn = SandboxTransaction.objects.select_for_update().get(pk=txn.pk)
        if txn.trade_state == SandboxTransaction.State.SUCCESS:
            return txn
        if txn.trade_state != SandboxTransaction.State.NOTPAY:
            raise SandboxRefused(f"订单{txn.get_trade_state_display()}，不能支付。")
        if txn.is_expired():
            raise SandboxRefused("订单已过期，不能支付。")
        txn.trade_state = SandboxTransaction.State.SUCCESS
        txn.transaction_id = new_transaction_id()
        txn.success_time = timezone.now()
        txn.payer_openid = txn.payer_openid or new_openid()
        txn.save(update_fields=["trade_state", "transaction_id", "success_time", "payer_openid"])
        notification = queue_payment_notification(txn)
        send_after_commit(notification)
    return txn


def do_refund_sandbox_payment(
    txn: SandboxTransaction,
    *,
    out_refund_no: str,
    amount_refund: int,
    reason: str = "",
    notify_url: str = "",
) -> SandboxRefund:
    """A refund succeeds at once, or after FANWEN_SANDBOX_REFUND_SECONDS (PROCESSING until then,
    as WeChat's often are); REFUND.SUCCESS goes to notify_url when it succeeds."""
    processing = settings.FANWEN_SANDBOX_REFUND_SECONDS > 0
    with transaction.atomic():
        txn = SandboxTransaction.objects.select_for_update().get(pk=txn.pk)
        now = timezone.now()
        refund = SandboxRefund.objects.create(
            transaction=txn,
            out_refund_no=out_refund_no,
            refund_id="50399" + timezone.localtime(now).strftime("%Y%m%d") + _digits(16),
            amount_refund=amount_refund,
            reason=reason,
            notify_url=notify_url,
            status="PROCESSING" if processing else "SUCCESS",
            success_time=None if processing else now,
        )
        txn.trade_state = SandboxTransaction.State.REFUND
        txn.save(update_fields=["trade_state"])
        if not processing:
            notification = queue_refund_notification(refund)
            if notification is not None:
                send_after_commit(notification)
    return refund


def advance_sandbox_refund(refund: SandboxRefund) -> SandboxRefund:
    """A PROCESSING refund whose time has come succeeds (asked about, or sent again)."""
    if refund.status != "PROCESSING":
        return refund
    due = refund.created_at + dt.timedelta(seconds=settings.FANWEN_SANDBOX_REFUND_SECONDS)
    if timezone.now() < due:
        return refund
    with transaction.atomic():
        refund = SandboxRefund.objects.select_for_update().get(pk=refund.pk)
        if refund.status == "PROCESSING":
            refund.status = "SUCCESS"
            refund.success_time = timezone.now()
            refund.save(update_fields=["status", "success_time"])
            notification = queue_refund_notification(refund)
            if notification is not None:
                send_after_commit(notification)
    return refund


def send_after_commit(notification: SandboxNotification) -> None:
    # Tests switch this off and deliver by hand with deliver_notification().
    if getattr(settings, "FANWEN_SANDBOX_AUTO_NOTIFY", True):
        transaction.on_commit(lambda: send_in_background(notification))
