"""The 客服 inbox: tickets from 联系客服, each beside the orders it names or its buyer placed."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from fanwen.lib.money import fen_to_yuan
from fanwen.orders.models import Order
from fanwen.staff.access import staff_required
from fanwen.staff.actions import DeskRefused, do_reply_ticket, do_set_ticket_status
from fanwen.support.actions import mail_enabled, reply_address
from fanwen.support.forms import ReplyForm
from fanwen.support.models import Ticket

PER_PAGE = 30
FILTERS = [("open", "待处理"), ("answered", "已回复"), ("closed", "已关闭"), ("all", "全部")]


@staff_required
def tickets(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "open")
    if status not in dict(FILTERS):
        status = "open"
    rows = Ticket.objects.annotate(reply_count=Count("replies")).order_by("created_at", "pk")
    if status != "all":
        rows = rows.filter(status=status)
    if status in ("all", "closed", "answered"):
        rows = rows.order_by("-created_at", "-pk")
    query = request.GET.get("q", "").strip()[:64]
    if query:
        rows = rows.filter(
            Q(order_number__iexact=query)
            | Q(contact__icontains=query)
            | Q(message__icontains=query)
        )
    counts = dict(Ticket.objects.values_list("status").annotate(n=Count("pk")))
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "staff/tickets.html",
        {"page": page, "status": status, "filters": FILTERS, "counts": counts, "query": query},
    )


def _ticket_or_404(ticket_id: int) -> Ticket:
    if ticket_id >= 2**63:
        raise Http404("没有这个工单")
    return get_object_or_404(Ticket.objects.select_related("visitor", "user"), pk=ticket_id)


@staff_required
def ticket(request: HttpRequest, ticket_id: int) -> HttpResponse:
    item = _ticket_or_404(ticket_id)
    named = set(item.named_orders().values_list("pk", flat=True))
    orders = [
        {
            "order": o,
            "yuan": fen_to_yuan(o.amount_fen),
            "named": o.pk in named,
            "can_refund": o.status == Order.Status.PAID,
        }
        for o in item.related_orders()
    ]
    context = {
        "ticket": item,
        "orders": orders,
        "named_missing": bool(item.order_number) and not named,
        "replies": item.replies.select_related("staff"),
        "actions": item.staff_actions.select_related("staff", "order"),
        "form": ReplyForm(),
        "reply_address": reply_address(item),
        "mail_enabled": mail_enabled(),
    }
    return render(request, "staff/ticket.html", context)


@staff_required
@require_POST
def ticket_reply(request: HttpRequest, ticket_id: int) -> HttpResponse:
    item = _ticket_or_404(ticket_id)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "回复内容不能为空，且不超过2000字")
        return redirect("staff:ticket", ticket_id=item.pk)
    try:
        do_reply_ticket(item, staff=request.user, body=form.cleaned_data["body"])
    except DeskRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"已回复工单 {item.number}")
    return redirect("staff:ticket", ticket_id=item.pk)


@staff_required
@require_POST
def ticket_status(request: HttpRequest, ticket_id: int) -> HttpResponse:
    item = _ticket_or_404(ticket_id)
    close = request.POST.get("close") == "1"
    do_set_ticket_status(item, staff=request.user, close=close)
    messages.success(request, f"工单 {item.number} 已{'关闭' if close else '重新打开'}")
    return redirect("staff:ticket", ticket_id=item.pk)
