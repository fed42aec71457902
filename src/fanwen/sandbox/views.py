"""The sandbox payer page: what the buyer's phone would show after scanning the QR code."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from fanwen.sandbox.actions import SandboxRefused, do_confirm_sandbox_payment
from fanwen.sandbox.models import SandboxTransaction


def _sandbox_on() -> None:
    if not getattr(settings, "FANWEN_SANDBOX", False):
        raise Http404("sandbox is off")


def _redirect_url(request: HttpRequest) -> str:
    # H5 merchants append redirect_url; only our own hosts, so the page is no open redirect.
    url = request.POST.get("redirect_url") or request.GET.get("redirect_url") or ""
    allowed = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=False
    )
    return url if allowed else ""


def _page(
    request: HttpRequest, txn: SandboxTransaction, *, message: str = "", status: int = 200
) -> HttpResponse:
    context = {
        "txn": txn,
        "amount_yuan": f"{txn.amount_total / 100:.2f}",
        "merchant_name": settings.SITE_NAME,
        "message": message,
        "redirect_url": _redirect_url(request),
        "payable": txn.trade_state == SandboxTransaction.State.NOTPAY and not txn.is_expired(),
        "cancelled": request.GET.get("cancelled") == "1",
    }
    return render(request, "sandbox/pay.html", context, status=status)


@require_GET
def pay(request: HttpRequest, token: str) -> HttpResponse:
    _sandbox_on()
    txn = get_object_or_404(SandboxTransaction, token=token)
    return _page(request, txn)


@require_GET
def pay_by_prepay_id(request: HttpRequest, prepay_id: str) -> HttpResponse:
    """Stands in for WeixinJSBridge outside WeChat: the JSAPI prepay_id opens the same page."""
    _sandbox_on()
    txn = get_object_or_404(SandboxTransaction, prepay_id=prepay_id)
    url = reverse("sandbox:pay", args=[txn.token])
    # ?redirect_url= (our own hosts only) gives the payer page its 返回商户页面 link.
    redirect_url = _redirect_url(request)
    return redirect(url + ("?" + urlencode({"redirect_url": redirect_url}) if redirect_url else ""))


@require_POST
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    _sandbox_on()
    txn = get_object_or_404(SandboxTransaction, token=token)
    try:
        txn = do_confirm_sandbox_payment(txn)
    except SandboxRefused as exc:
        return _page(request, txn, message=str(exc), status=409)
    return _back_to_page(request, txn)


@require_POST
def cancel(request: HttpRequest, token: str) -> HttpResponse:
    """The payer closes the sheet: like WeChat, the trade stays NOTPAY and can still be paid."""
    _sandbox_on()
    txn = get_object_or_404(SandboxTransaction, token=token)
    return _back_to_page(request, txn, cancelled=True)


def _back_to_page(
    request: HttpRequest, txn: SandboxTransaction, *, cancelled: bool = False
) -> HttpResponse:
    # Post/redirect/get, so a reload does not post twice.
    query = []
    if cancelled:
        query.append("cancelled=1")
    redirect_url = _redirect_url(request)
    if redirect_url:
        query.append(urlencode({"redirect_url": redirect_url}))
    url = reverse("sandbox:pay", args=[txn.token])
    return redirect(url + ("?" + "&".join(query) if query else ""))
