"""{% reader_tickets %}: this browser's and account's tickets with their replies (on 我的购买)."""

from __future__ import annotations

from django import template

from fanwen.accounts.visitors import current_visitor
from fanwen.support.models import Ticket

register = template.Library()

TICKETS_SHOWN = 20


@register.inclusion_tag("support/_reader_tickets.html", takes_context=True)
def reader_tickets(context: template.Context) -> dict:
    request = context["request"]
    tickets = (
        Ticket.objects.of_reader(current_visitor(request), request.user)
        .prefetch_related("replies")
        .order_by("-created_at")[:TICKETS_SHOWN]
    )
    return {"tickets": list(tickets)}
