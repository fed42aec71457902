"""What 客服 does to an order from the desk or a ticket: re-check, grant, refund — each logged.

Money still moves only through fanwen.orders.actions; these wrap them with a StaffAction
(who, when, why) written in the same transaction, so no change goes unlogged. Calls to the
provider happen outside any transaction, and their answer is added to the log line.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from fanwen.orders.actions import do_grant, do_refund
from fanwen.orders.errors import OrderStateError
from fanwen.orders.models import Entitlement, Order
from fanwen.payments.backends import backend_for_provider
from fanwen.payments.errors import PaymentError
from fanwen.payments.jobs import send_refund
from fanwen.payments.settlement import settle_from_query
from fanwen.staff.models import StaffAction
from fanwen.support.actions import mail_reply
from fanwen.support.models import Ticket, TicketReply

log = logging.getLogger(__name__)

REASON_MAX = 200


class DeskRefused(Exception):
    """The action cannot be done to this order now; the message is for staff."""


def _log(
    staff: Any,
    verb: str,
    order: Order | None,
    reason: str,
    ticket: Ticket | None,
    outcome: str = "",
) -> StaffAction:
    return StaffAction.objects.create(
        staff=staff,
        verb=verb,
        order=order,
        ticket=ticket,
        reason=reason[:REASON_MAX],
        outcome=outcome[:300],
    )


def _set_outcome(action: StaffAction, outcome: str) -> None:
    action.outcome = outcome[:300]
    action.save(update_fields=["outcome"])


def _need_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DeskRefused("请填写原因")
    return reason[:REASON_MAX]


def do_recheck_order(order: Order, *, staff: Any, ticket: Ticket | None = None) -> StaffAction:
    """Ask the provider about the order now; a payment it confirms is settled, a refund re-sent."""
    action = _log(staff, StaffAction.Verb.RECHECK, order, "", ticket)
    backend = backend_for_provider(order.provider)
    if backend is None:
        _set_outcome(action, f"没有可用的支付接口（{order.get_provider_display()}）")
        return action
    try:
        if order.refund_status == Order.RefundStatus.PROCESSING and order.is_paid:
            # The same out_refund_no: the provider answers the refund's state, never refunds twice.
            order = send_refund(order, backend)
        elif order.status in (Order.Status.PENDING, Order.Status.CLOSED):
            result = settle_from_query(backend, order.out_trade_no)
            order.refresh_from_db()
            if result is None:
                _set_outcome(action, f"支付平台未收到付款，订单仍为{order.get_status_display()}")
                return action
        else:
            report = backend.query(order.out_trade_no)
            state = report.provider_state or report.state if report else "平台查无此单"
            _set_outcome(action, f"支付平台状态：{state}；订单为{order.get_status_display()}")
            return action
    except PaymentError as exc:
        _set_outcome(action, f"查询失败：{exc}")
        return action
    refund = order.get_refund_status_display() if order.refund_status else ""
    _set_outcome(action, f"订单为{order.get_status_display()}" + (f"，{refund}" if refund else ""))
    return action


def do_grant_for_order(
    order: Order, *, staff: Any, reason: str, ticket: Ticket | None = None
) -> Entitlement:
    """Give the order's buyer what the order sells, without a payment (a lost or stuck order)."""
    reason = _need_reason(reason)
    plan = order.plan
    with transaction.atomic():
        entitlement = do_grant(
            staff=staff,
            visitor=order.visitor,
            user=order.user,
            kind=plan.entitlement_kind,
            article=order.article,
            days=plan.days,
            note=f"订单 {order.out_trade_no}：{reason}",
        )
        what = "包月" if entitlement.kind == Entitlement.Kind.PASS else f"《{order.article}》"
        until = f"至 {entitlement.ends_at:%Y-%m-%d %H:%M}" if entitlement.ends_at else "永久"
        _log(staff, StaffAction.Verb.GRANT, order, reason, ticket, f"已补发{what}，{until}")
    return entitlement


def do_refund_order(
    order: Order, *, staff: Any, reason: str, ticket: Ticket | None = None
) -> tuple[Order, StaffAction]:
    """A full refund through the provider; access is revoked when the provider says it succeeded.

    The request is recorded first (with the log line); a provider that cannot be reached or
    answers PROCESSING leaves it 退款中, and the worker's retry_refunds finishes it.
    """
    reason = _need_reason(reason)
    with transaction.atomic():
        try:
            order = do_refund(order, reason=reason, staff=staff)
        except OrderStateError as exc:
            raise DeskRefused(
                f"订单{order.get_status_display()}，只有已支付的订单可以退款"
            ) from exc
        action = _log(staff, StaffAction.Verb.REFUND, order, reason, ticket, "退款已提交")
    if order.status != Order.Status.PAID:
        _set_outcome(action, "订单此前已退款")
        return order, action
    try:
        order = send_refund(order)
    except (PaymentError, ValueError) as exc:
        log.warning("refund %s from the desk: %s", order, exc)
        _set_outcome(action, f"已提交，支付平台暂未受理（{exc}），后台会自动重试")
        return order, action
    if order.status == Order.Status.REFUNDED:
        _set_outcome(action, "退款成功，权益已撤销")
    else:
        _set_outcome(action, f"{order.get_refund_status_display()}，后台会继续查询直到完成")
    return order, action


def do_reply_ticket(ticket: Ticket, *, staff: Any, body: str) -> TicketReply:
    """Record the reply (shown on 我的购买), mark the ticket answered, then mail it if we can."""
    body = body.strip()
    if not body:
        raise DeskRefused("请填写回复内容")
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        reply = TicketReply.objects.create(ticket=ticket, staff=staff, body=body)
        ticket.status = Ticket.Status.ANSWERED
        ticket.updated_at = timezone.now()
        ticket.save(update_fields=["status", "updated_at"])
        action = _log(staff, StaffAction.Verb.REPLY, None, body, ticket, "已回复")
    _set_outcome(action, "已回复；" + mail_reply(reply))
    return reply


def do_set_ticket_status(ticket: Ticket, *, staff: Any, close: bool) -> Ticket:
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if close:
            ticket.status = Ticket.Status.CLOSED
        else:
            ticket.status = (
                Ticket.Status.ANSWERED if ticket.replies.exists() else Ticket.Status.OPEN
            )
        ticket.updated_at = timezone.now()
        ticket.save(update_fields=["status", "updated_at"])
        verb = StaffAction.Verb.CLOSE if close else StaffAction.Verb.REOPEN
        _log(staff, verb, None, "", ticket, ticket.get_status_display())
    return ticket
