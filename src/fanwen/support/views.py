"""联系客服: the contact details and the ticket form (rate- and size-limited, CSRF-checked)."""

from __future__ import annotations

import mimetypes

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from fanwen.accounts.visitors import current_visitor, get_or_create_visitor
from fanwen.lib.ratelimit import allowed
from fanwen.support.actions import do_open_ticket
from fanwen.support.forms import TicketForm
from fanwen.support.models import ContactInfo, Ticket

TOO_MANY = "提交太频繁，请稍后再试，或直接通过上面的电话、微信、QQ联系客服。"
TOO_BIG = "内容太长，请精简后再提交。"


def _page(
    request: HttpRequest, form: TicketForm, status: int = 200, error: str = ""
) -> HttpResponse:
    context = {"contact": ContactInfo.current(), "form": form, "error": error}
    return render(request, "support/contact.html", context, status=status)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def contact(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        initial = {}
        if number := request.GET.get("order", "").strip()[:64]:
            initial = {"order_number": number}
        if request.GET.get("kind") in Ticket.Kind.values:
            initial["kind"] = request.GET["kind"]
        return _page(request, TicketForm(initial=initial))
    # Refused before anything is counted or stored: a form post is a few hundred bytes.
    if int(request.META.get("CONTENT_LENGTH") or 0) > settings.FANWEN_TICKET_MAX_BYTES:
        return _page(request, TicketForm(), status=413, error=TOO_BIG)
    visitor = current_visitor(request)
    if not allowed(
        request,
        "ticket",
        str(visitor.pk) if visitor else None,
        limit=settings.FANWEN_TICKET_LIMIT,
        ip_limit=settings.FANWEN_TICKET_IP_LIMIT,
        window=settings.FANWEN_TICKET_WINDOW,
    ):
        response = _page(request, TicketForm(request.POST), status=429, error=TOO_MANY)
        response["Retry-After"] = str(settings.FANWEN_TICKET_WINDOW)
        return response
    form = TicketForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    response = redirect(reverse("accounts:purchases") + "#tickets")
    # The ticket belongs to this browser, so its reply shows on this browser's 我的购买.
    visitor = get_or_create_visitor(request, response)
    ticket = do_open_ticket(visitor=visitor, user=request.user, data=form.cleaned_data)
    messages.success(
        request,
        f"已收到您的问题（工单号 {ticket.number}）。客服会尽快处理，回复会显示在本页"
        + ("，并发到您的邮箱。" if "@" in ticket.contact or ticket.invoice_email else "。"),
    )
    return response


def wechat_qr(request: HttpRequest) -> HttpResponse:
    """The QR image staff uploaded, from whatever storage holds uploads."""
    info = ContactInfo.current()
    if not info.wechat_qr:
        raise Http404("no QR image")
    try:
        handle = info.wechat_qr.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404("QR image missing") from exc
    content_type = mimetypes.guess_type(info.wechat_qr.name)[0] or "image/png"
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "public, max-age=300"
    return response
