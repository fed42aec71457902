"""The emulated Alipay open API at /sandbox/alipay/gateway.do, and the page a buyer pays on.

Like Alipay it checks the application's RSA2 request signature (isv.invalid-signature
otherwise), answers `{"<method>_response": {...}, "sign": ...}` signed with "Alipay's" key,
so python-alipay-sdk verifies every answer for real, and posts signed trade_status_sync
forms to the notify_url until the merchant answers `success`. The subset fanwen uses:
alipay.trade.precreate, alipay.trade.wap.pay (the buyer's browser comes here), query, close
and refund.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import secrets
import string
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from fanwen.sandbox.actions import send_after_commit
from fanwen.sandbox.alipay_keys import AlipaySandboxKeys, load_alipay_keys
from fanwen.sandbox.models import SandboxAlipayTrade, SandboxNotification

log = logging.getLogger("fanwen.sandbox")

BEIJING = dt.timezone(dt.timedelta(hours=8))
OUT_TRADE_NO = re.compile(r"[0-9A-Za-z_]{1,64}")
TIMEOUT_EXPRESS = re.compile(r"(\d{1,4})([mhd])")
SUCCESS = {"code": "10000", "msg": "Success"}


class GatewayRefusal(Exception):
    """An answer other than 10000: code, sub_code and sub_msg as Alipay gives them."""

    def __init__(self, code: str, sub_code: str, sub_msg: str) -> None:
        super().__init__(f"{code} {sub_code} {sub_msg}")
        self.answer = {
            "code": code,
            "msg": "Business Failed" if code == "40004" else "Invalid Arguments",
            "sub_code": sub_code,
            "sub_msg": sub_msg,
        }


def _not_exist() -> GatewayRefusal:
    return GatewayRefusal("40004", "ACQ.TRADE_NOT_EXIST", "交易不存在")


def _sandbox_on() -> None:
    if not getattr(settings, "FANWEN_SANDBOX", False):
        raise Http404("sandbox is off")


def beijing(moment: dt.datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def canonical(params: dict[str, str]) -> str:
    """Alipay's string to sign: non-empty fields sorted by name, k=v joined by &, values as sent."""
    return "&".join(f"{key}={value}" for key, value in sorted(params.items()) if value != "")


def _digits(length: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(length))


# --- the gateway -------------------------------------------------------------------------------


def _verified_call(params: dict[str, str], keys: AlipaySandboxKeys) -> tuple[str, dict[str, Any]]:
    """(method, biz_content) of a request our application signed, or GatewayRefusal."""
    params = dict(params)
    sign = params.pop("sign", "")
    method = params.get("method", "")
    if not sign:
        raise GatewayRefusal("40001", "isv.missing-signature", "缺少签名参数")
    if params.get("app_id") != keys.appid:
        raise GatewayRefusal("40002", "isv.invalid-app-id", "无效的AppID参数")
    if params.get("sign_type") != "RSA2":
        raise GatewayRefusal("40002", "isv.invalid-signature-type", "无效的签名类型")
    if not keys.verify_app_signature(canonical(params), sign):
        raise GatewayRefusal("40002", "isv.invalid-signature", "验签出错")
    try:
        biz = json.loads(params.get("biz_content") or "{}")
    except ValueError:
        biz = None
    if not isinstance(biz, dict):
        raise GatewayRefusal("40002", "isv.invalid-parameter", "biz_content 不是 JSON 对象")
    return method, biz


def _answer(keys: AlipaySandboxKeys, method: str, body: dict[str, Any]) -> HttpResponse:
    # The signature covers the response object exactly as written, as the SDK re-reads it.
    response_type = (method or "error").replace(".", "_") + "_response"
    body_json = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    raw = f'{{"{response_type}":{body_json},"sign":"{keys.sign_as_alipay(body_json)}"}}'
    return HttpResponse(raw, content_type="application/json;charset=utf-8")


@csrf_exempt
def gateway(request: HttpRequest) -> HttpResponse:
    """Every API method at one address, GET or POST, as Alipay's gateway.do."""
    _sandbox_on()
    keys = load_alipay_keys()
    params = {**request.GET.dict(), **request.POST.dict()}
    method = params.get("method", "")
    try:
        method, biz = _verified_call(params, keys)
        if method == "alipay.trade.wap.pay":
            return _wap_pay(request, keys, params, biz)
        handler = API.get(method)
        if handler is None:
            raise GatewayRefusal("40002", "isv.invalid-method", f"不存在的方法名 {method}")
        body = handler(request, keys, params, biz)
    except GatewayRefusal as exc:
        log.info("sandbox alipay %s refused: %s", method or "?", exc)
        if method == "alipay.trade.wap.pay":
            return _error_page(request, exc.answer)
        return _answer(keys, method, exc.answer)
    return _answer(keys, method, {**SUCCESS, **body})


def _fen(value: Any) -> int:
    try:
        fen = Decimal(str(value)) * 100
    except (InvalidOperation, ValueError):
        fen = Decimal("NaN")
    if not fen.is_finite() or fen != fen.to_integral_value() or not 1 <= fen <= 10_000_000_000:
        raise GatewayRefusal("40002", "isv.invalid-parameter", "total_amount 不合法")
    return int(fen)


def _expiry(biz: dict[str, Any]) -> dt.datetime:
    match = TIMEOUT_EXPRESS.fullmatch(str(biz.get("timeout_express") or "90m"))
    if not match:
        raise GatewayRefusal("40002", "isv.invalid-parameter", "timeout_express 不合法")
    unit = {"m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
    return timezone.now() + dt.timedelta(**{unit: int(match.group(1))})


def _open_trade(
    keys: AlipaySandboxKeys, params: dict[str, str], biz: dict[str, Any], kind: str
) -> SandboxAlipayTrade:
    """The trade of out_trade_no, created on first sight; a repeat must ask for the same thing."""
    out_trade_no = str(biz.get("out_trade_no") or "")
    if not OUT_TRADE_NO.fullmatch(out_trade_no):
        raise GatewayRefusal("40002", "isv.invalid-parameter", "out_trade_no 不合法")
    subject = str(biz.get("subject") or "")
    if not subject:
        raise GatewayRefusal("40002", "isv.missing-parameter", "缺少 subject")
    amount_fen = _fen(biz.get("total_amount"))
    trade = SandboxAlipayTrade.objects.filter(out_trade_no=out_trade_no).first()
    if trade is None:
        try:
            with transaction.atomic():
                return SandboxAlipayTrade.objects.create(
                    app_id=keys.appid,
                    seller_id=keys.seller_id,
                    out_trade_no=out_trade_no,
                    kind=kind,
                    subject=subject[:256],
                    total_amount=f"{Decimal(amount_fen) / 100:.2f}",
                    amount_fen=amount_fen,
                    notify_url=params.get("notify_url", "")[:256],
                    return_url=params.get("return_url", "")[:512],
                    time_expire=_expiry(biz),
                )
        except IntegrityError:
            trade = SandboxAlipayTrade.objects.get(out_trade_no=out_trade_no)
    if trade.amount_fen != amount_fen:
        raise GatewayRefusal("40004", "ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
    if trade.trade_status == SandboxAlipayTrade.Status.TRADE_SUCCESS:
        raise GatewayRefusal("40004", "ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
    if trade.trade_status == SandboxAlipayTrade.Status.TRADE_CLOSED:
        raise GatewayRefusal("40004", "ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
    return trade


def pay_url(trade: SandboxAlipayTrade) -> str:
    return reverse("sandbox:alipay-pay", args=[trade.token])


def _precreate(
    request: HttpRequest, keys: AlipaySandboxKeys, params: dict[str, str], biz: dict
) -> dict:
    trade = _open_trade(keys, params, biz, SandboxAlipayTrade.Kind.PRECREATE)
    # Alipay's qr_code is an https address; the sandbox's opens its payer page.
    return {
        "out_trade_no": trade.out_trade_no,
        "qr_code": request.build_absolute_uri(pay_url(trade)),
    }


def _wap_pay(
    request: HttpRequest, keys: AlipaySandboxKeys, params: dict[str, str], biz: dict
) -> HttpResponse:
    # The buyer's browser arrives with the signed request; Alipay shows its cashier page.
    trade = _open_trade(keys, params, biz, SandboxAlipayTrade.Kind.WAP)
    return redirect(pay_url(trade))


def _trade_for(biz: dict[str, Any]) -> SandboxAlipayTrade:
    found = SandboxAlipayTrade.objects.filter(
        **(
            {"out_trade_no": str(biz["out_trade_no"])}
            if biz.get("out_trade_no")
            else {"trade_no": str(biz.get("trade_no") or "-")}
        )
    ).first()
    if found is None:
        raise _not_exist()
    return found


def _query(
    request: HttpRequest, keys: AlipaySandboxKeys, params: dict[str, str], biz: dict
) -> dict:
    trade = _trade_for(biz)
    if not trade.scanned:
        raise _not_exist()
    body = {
        "out_trade_no": trade.out_trade_no,
        "trade_status": trade.trade_status,
        "total_amount": trade.total_amount,
    }
    if trade.trade_no:
        body.update(
            trade_no=trade.trade_no,
            buyer_logon_id=trade.buyer_logon_id,
            buyer_user_id=trade.buyer_id,
            buyer_pay_amount=trade.total_amount,
            receipt_amount=trade.total_amount,
            send_pay_date=beijing(trade.gmt_payment) if trade.gmt_payment else "",
        )
    return body


def _close(
    request: HttpRequest, keys: AlipaySandboxKeys, params: dict[str, str], biz: dict
) -> dict:
    with transaction.atomic():
        trade = _trade_for(biz)
        trade = SandboxAlipayTrade.objects.select_for_update().get(pk=trade.pk)
        if trade.trade_status == SandboxAlipayTrade.Status.TRADE_SUCCESS:
            raise GatewayRefusal("40004", "ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        trade.trade_status = SandboxAlipayTrade.Status.TRADE_CLOSED
        trade.save(update_fields=["trade_status"])
    if not trade.scanned:
        # Alipay never heard of an unscanned precreate; the QR code is dead all the same.
        raise _not_exist()
    return {"out_trade_no": trade.out_trade_no, "trade_no": trade.trade_no or ""}


def _refund(
    request: HttpRequest, keys: AlipaySandboxKeys, params: dict[str, str], biz: dict
) -> dict:
    request_no = str(biz.get("out_request_no") or biz.get("out_trade_no") or "")
    amount_fen = _fen(biz.get("refund_amount"))
    with transaction.atomic():
        trade = SandboxAlipayTrade.objects.select_for_update().get(pk=_trade_for(biz).pk)
        repeated = request_no in trade.refunds
        if not repeated:
            if trade.trade_status != SandboxAlipayTrade.Status.TRADE_SUCCESS:
                raise GatewayRefusal("40004", "ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
            if trade.refund_fen + amount_fen > trade.amount_fen:
                raise GatewayRefusal("40004", "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
            trade.refunds[request_no] = amount_fen
            trade.refund_fen += amount_fen
            if trade.refund_fen == trade.amount_fen:
                # Alipay closes a trade once all of it is refunded.
                trade.trade_status = SandboxAlipayTrade.Status.TRADE_CLOSED
            trade.save(update_fields=["refunds", "refund_fen", "trade_status"])
    return {
        "out_trade_no": trade.out_trade_no,
        "trade_no": trade.trade_no,
        "buyer_logon_id": trade.buyer_logon_id,
        # "N": this request number was refunded before and no money moved now.
        "fund_change": "N" if repeated else "Y",
        "refund_fee": f"{Decimal(trade.refund_fen) / 100:.2f}",
        "gmt_refund_pay": beijing(timezone.now()),
    }


API = {
    "alipay.trade.precreate": _precreate,
    "alipay.trade.query": _query,
    "alipay.trade.close": _close,
    "alipay.trade.refund": _refund,
}


# --- the buyer's side --------------------------------------------------------------------------


class PaymentRefused(Exception):
    """The emulated Alipay says no; the text is shown on the payer page."""


def do_confirm_alipay_sandbox_payment(trade: SandboxAlipayTrade) -> SandboxAlipayTrade:
    """The buyer pressed 确认付款: the trade succeeds and trade_status_sync goes to notify_url."""
    with transaction.atomic():
        trade = SandboxAlipayTrade.objects.select_for_update().get(pk=trade.pk)
        if trade.trade_status == SandboxAlipayTrade.Status.TRADE_SUCCESS:
            return trade
        if trade.trade_status != SandboxAlipayTrade.Status.WAIT_BUYER_PAY:
            raise PaymentRefused(f"交易{trade.get_trade_status_display()}，不能付款。")
        if trade.is_expired():
            raise PaymentRefused("交易已超时，不能付款。")
        now = timezone.now()
        trade.trade_status = SandboxAlipayTrade.Status.TRADE_SUCCESS
        trade.scanned = True
        trade.trade_no = beijing(now)[:10].replace("-", "") + "22001" + _digits(15)
        trade.buyer_id = "2088" + _digits(12)
        trade.buyer_logon_id = f"sbx***{_digits(4)}@sandbox.test"
        trade.gmt_payment = now
        trade.save()
        if trade.notify_url:
            send_after_commit(queue_trade_notification(trade, keys=load_alipay_keys()))
    return trade


def queue_trade_notification(
    trade: SandboxAlipayTrade, *, keys: AlipaySandboxKeys
) -> SandboxNotification:
    """The trade_status_sync form, signed once: every retry sends the same fields and notify_id."""
    now = timezone.now()
    fields = {
        "notify_time": beijing(now),
        "notify_type": "trade_status_sync",
        "notify_id": secrets.token_hex(16),
        "charset": "utf-8",
        "version": "1.0",
        "app_id": trade.app_id,
        "seller_id": trade.seller_id,
        "trade_no": trade.trade_no or "",
        "out_trade_no": trade.out_trade_no,
        "buyer_id": trade.buyer_id,
        "buyer_logon_id": trade.buyer_logon_id,
        "trade_status": trade.trade_status,
        "total_amount": trade.total_amount,
        "receipt_amount": trade.total_amount,
        "buyer_pay_amount": trade.total_amount,
        "subject": trade.subject,
        "gmt_create": beijing(trade.created_at),
        "gmt_payment": beijing(trade.gmt_payment) if trade.gmt_payment else "",
    }
    signed = signed_notification(fields, keys)
    return SandboxNotification.objects.create(
        event_id=signed["notify_id"],
        kind=SandboxNotification.Kind.ALIPAY,
        event_type="trade_status_sync",
        notify_url=trade.notify_url,
        body=urlencode(signed),
        alipay_trade=trade,
    )


def signed_notification(fields: dict[str, str], keys: AlipaySandboxKeys) -> dict[str, str]:
    """A notification's form fields as Alipay sends them: empty ones dropped, RSA2-signed."""
    fields = {key: value for key, value in fields.items() if value != ""}
    # Notifications leave sign and sign_type out of what is signed.
    fields["sign"] = keys.sign_as_alipay(canonical(fields))
    fields["sign_type"] = "RSA2"
    return fields


def return_url_for(trade: SandboxAlipayTrade, keys: AlipaySandboxKeys) -> str:
    """Where 返回商家 goes after a wap payment: return_url with Alipay's signed sync parameters."""
    if not trade.return_url:
        return ""
    if trade.trade_status != SandboxAlipayTrade.Status.TRADE_SUCCESS:
        return trade.return_url
    fields = {
        "app_id": trade.app_id,
        "method": "alipay.trade.wap.pay.return",
        "charset": "utf-8",
        "version": "1.0",
        "timestamp": beijing(timezone.now()),
        "out_trade_no": trade.out_trade_no,
        "trade_no": trade.trade_no or "",
        "total_amount": trade.total_amount,
        "seller_id": trade.seller_id,
    }
    fields["sign"] = keys.sign_as_alipay(canonical(fields))
    fields["sign_type"] = "RSA2"
    separator = "&" if "?" in trade.return_url else "?"
    return trade.return_url + separator + urlencode(fields)


def _error_page(request: HttpRequest, answer: dict[str, str]) -> HttpResponse:
    return render(request, "sandbox/alipay_pay.html", {"error": answer, "trade": None}, status=400)


def _page(
    request: HttpRequest, trade: SandboxAlipayTrade, *, message: str = "", status: int = 200
) -> HttpResponse:
    context = {
        "trade": trade,
        "merchant_name": settings.SITE_NAME,
        "message": message,
        "payable": trade.trade_status == SandboxAlipayTrade.Status.WAIT_BUYER_PAY
        and not trade.is_expired(),
        "cancelled": request.GET.get("cancelled") == "1",
        "back_url": return_url_for(trade, load_alipay_keys()),
    }
    return render(request, "sandbox/alipay_pay.html", context, status=status)


@require_GET
def pay(request: HttpRequest, token: str) -> HttpResponse:
    """What the QR code opens (the buyer has scanned it) and where wap pay lands."""
    _sandbox_on()
    trade = get_object_or_404(SandboxAlipayTrade, token=token)
    if not trade.scanned:
        SandboxAlipayTrade.objects.filter(pk=trade.pk).update(scanned=True)
        trade.scanned = True
    return _page(request, trade)


@require_POST
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    _sandbox_on()
    trade = get_object_or_404(SandboxAlipayTrade, token=token)
    try:
        trade = do_confirm_alipay_sandbox_payment(trade)
    except PaymentRefused as exc:
        return _page(request, trade, message=str(exc), status=409)
    # Post/redirect/get, so a reload does not post twice.
    return redirect(pay_url(trade))


@require_POST
def cancel(request: HttpRequest, token: str) -> HttpResponse:
    """The buyer leaves the cashier: the trade stays WAIT_BUYER_PAY and can still be paid."""
    _sandbox_on()
    trade = get_object_or_404(SandboxAlipayTrade, token=token)
    return redirect(pay_url(trade) + "?cancelled=1")
