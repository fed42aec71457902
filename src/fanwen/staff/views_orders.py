"""The order desk: find any order by a number the buyer has, see its trail, re-check, grant, refund.

The buttons post to one view each; the work is in fanwen.staff.actions, which logs it.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from fanwen.lib.money import AmountError, fen_to_yuan, yuan_to_fen
from fanwen.orders.models import Order
from fanwen.staff.access import staff_required
from fanwen.staff.actions import (
    DeskRefused,
    do_grant_for_order,
    do_recheck_order,
    do_refund_order,
)
from fanwen.support.models import Ticket

PER_PAGE = 30


class OrderSearchForm(forms.Form):
    q = forms.CharField(
        label="号码",
        required=False,
        max_length=64,
        widget=forms.TextInput(
            attrs={"placeholder": "订单号、交易单号、退款单号、付款人标识、访客ID、账户"}
        ),
    )
    amount = forms.CharField(
        label="金额（元）", required=False, max_length=12, widget=forms.TextInput(attrs={"size": 6})
    )
    date_from = forms.DateField(
        label="下单日期从", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="到", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    status = forms.ChoiceField(
        label="状态", required=False, choices=[("", "全部状态"), *Order.Status.choices]
    )
    provider = forms.ChoiceField(
        label="支付方式", required=False, choices=[("", "全部方式"), *Order.Provider.choices]
    )

    def clean_amount(self) -> int | None:
        text = self.cleaned_data["amount"].strip().removeprefix("￥").removesuffix("元")
        if not text:
            return None
        try:
            return yuan_to_fen(text)
        except AmountError as exc:
            raise forms.ValidationError("金额写成 5.99 这样") from exc


def number_filter(number: str) -> Q:
    """Every field a buyer or a provider's bill may give us a number from."""
    number = "".join(number.split())
    match = (
        Q(out_trade_no=number.upper())
        | Q(provider_txn_id=number)
        | Q(out_refund_no=number.upper())
        | Q(payer_ref=number)
        | Q(user__username=number)
        | Q(user__email__iexact=number)
    )
    # Read out over the phone, a number often arrives in part: its start is enough.
    if len(number) >= 8:
        match |= Q(out_trade_no__startswith=number.upper())
    try:
        match |= Q(visitor_id=uuid.UUID(number))
    except ValueError:
        pass
    return match


def _beijing_day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def search_orders(data: dict) -> QuerySet:
    rows = Order.objects.select_related("plan", "article", "user").order_by("-created_at", "-pk")
    if data.get("q"):
        rows = rows.filter(number_filter(data["q"]))
    if data.get("amount") is not None:
        rows = rows.filter(amount_fen=data["amount"])
    if data.get("date_from"):
        rows = rows.filter(created_at__gte=_beijing_day_start(data["date_from"]))
    if data.get("date_to"):
        rows = rows.filter(
            created_at__lt=_beijing_day_start(data["date_to"] + dt.timedelta(days=1))
        )
    if data.get("status"):
        rows = rows.filter(status=data["status"])
    if data.get("provider"):
        rows = rows.filter(provider=data["provider"])
    return rows


@staff_required
def orders(request: HttpRequest) -> HttpResponse:
    form = OrderSearchForm(request.GET or None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    rows = search_orders(data) if not form.errors else Order.objects.none()
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    if data.get("q") and page.paginator.count == 1 and not request.GET.get("page"):
        # One hit for a number: straight to the order, as support wants.
        return redirect("staff:order", order_id=page.object_list[0].pk)
    return render(
        request,
        "staff/orders.html",
        {"form": form, "page": page, "query": query.urlencode(), "searched": bool(data)},
    )


def _order_or_404(order_id: int) -> Order:
    if order_id >= 2**63:
        raise Http404("没有这个订单")
    return get_object_or_404(
        Order.objects.select_related("plan", "article", "user", "visitor", "refund_requested_by"),
        pk=order_id,
    )


def tickets_for_order(order: Order) -> QuerySet:
    named = Q(order_number__iexact=order.out_trade_no)
    if order.provider_txn_id:
        named |= Q(order_number=order.provider_txn_id)
    holder = Q(visitor_id=order.visitor_id)
    if order.user_id:
        holder |= Q(user_id=order.user_id)
    return Ticket.objects.filter(named | holder).order_by("-created_at")[:20]


@staff_required
def order(request: HttpRequest, order_id: int) -> HttpResponse:
    item = _order_or_404(order_id)
    context = {
        "order": item,
        "yuan": fen_to_yuan(item.amount_fen),
        "list_yuan": fen_to_yuan(item.list_price_fen),
        "events": item.events.select_related("staff").order_by("-received_at", "-id"),
        "entitlements": item.entitlements.select_related(
            "article", "user", "granted_by"
        ).prefetch_related("places"),
        "grants": _grants_of_order(item),
        "actions": item.staff_actions.select_related("staff", "ticket"),
        "tickets": tickets_for_order(item),
        "can_refund": item.status == Order.Status.PAID,
        "now": timezone.now(),
    }
    return render(request, "staff/order.html", context)


def _grants_of_order(item: Order) -> QuerySet:
    from fanwen.orders.models import Entitlement

    # Grants given by hand for this order carry its number in their note.
    return Entitlement.objects.filter(
        order__isnull=True, note__startswith=f"订单 {item.out_trade_no}"
    ).select_related("granted_by", "article")


def _back(request: HttpRequest, item: Order) -> HttpResponse:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("staff:order", args=[item.pk])
    return redirect(target)


def _ticket_of(request: HttpRequest) -> Ticket | None:
    ticket_id = request.POST.get("ticket", "")
    return Ticket.objects.filter(pk=int(ticket_id)).first() if ticket_id.isdigit() else None


@staff_required
@require_POST
def order_recheck(request: HttpRequest, order_id: int) -> HttpResponse:
    item = _order_or_404(order_id)
    action = do_recheck_order(item, staff=request.user, ticket=_ticket_of(request))
    messages.success(request, f"订单 {item.out_trade_no} 核实结果：{action.outcome}")
    return _back(request, item)


@staff_required
@require_POST
def order_grant(request: HttpRequest, order_id: int) -> HttpResponse:
    item = _order_or_404(order_id)
    try:
        do_grant_for_order(
            item,
            staff=request.user,
            reason=request.POST.get("reason", ""),
            ticket=_ticket_of(request),
        )
    except DeskRefused as exc:
        messages.error(request, f"未补发：{exc}")
    else:
        messages.success(request, f"已为订单 {item.out_trade_no} 的买家补发权益")
    return _back(request, item)


@staff_required
@require_POST
def order_refund(request: HttpRequest, order_id: int) -> HttpResponse:
    item = _order_or_404(order_id)
    try:
        item, action = do_refund_order(
            item,
            staff=request.user,
            reason=request.POST.get("reason", ""),
            ticket=_ticket_of(request),
        )
    except DeskRefused as exc:
        messages.error(request, f"未退款：{exc}")
    else:
        messages.success(request, f"订单 {item.out_trade_no}：{action.outcome}")
    return _back(request, item)
