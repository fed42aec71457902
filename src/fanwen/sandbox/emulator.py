"""The emulated WeChat Pay v3 API, mounted at /sandbox/wechat/v3/...: the subset fanwen uses.

Like the real API it checks the merchant's request signature (401 SIGN_ERROR otherwise),
validates the body, and signs every answer with the platform key, so the SDK's response
verification runs for real.
"""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import hashlib
import json
import logging
import re
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from fanwen.payments.backends.wechat import BEIJING, parse_time
from fanwen.sandbox.actions import advance_sandbox_refund, do_refund_sandbox_payment
from fanwen.sandbox.keys import SandboxKeys, load_keys
from fanwen.sandbox.models import SandboxRefund, SandboxTransaction
from fanwen.sandbox.platform import (
    AuthError,
    nonce_str,
    platform_headers,
    verify_merchant_request,
)

log = logging.getLogger("fanwen.sandbox")

OUT_TRADE_NO = re.compile(r"[0-9A-Za-z_\-|*]{6,32}")
OUT_REFUND_NO = re.compile(r"[0-9A-Za-z_\-|*@]{1,64}")
TRADE_TYPES = {
    "native": SandboxTransaction.TradeType.NATIVE,
    "h5": SandboxTransaction.TradeType.H5,
    "jsapi": SandboxTransaction.TradeType.JSAPI,
}
PAID_STATES = {SandboxTransaction.State.SUCCESS, SandboxTransaction.State.REFUND}

View = Callable[..., HttpResponse]


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def signed_response(keys: SandboxKeys, status: int, data: dict | None = None) -> HttpResponse:
    """An answer signed like WeChat's: Wechatpay-* headers over TS, nonce and the exact body."""
    body = "" if data is None else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    response = HttpResponse(body.encode("utf-8"), status=status)
    if data is None:
        del response["Content-Type"]
    else:
        response["Content-Type"] = "application/json; charset=utf-8"
    for name, value in platform_headers(keys, body).items():
        response[name] = value
    response["Request-ID"] = nonce_str(24)
    return response


def merchant_api(method: str) -> Callable[[View], View]:
    """Authenticate the merchant as WeChat does, parse the JSON body, map ApiError to answers."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            return _serve(view, method, request, *args, **kwargs)

        return wrapper

    return decorate


def _serve(
    view: View, method: str, request: HttpRequest, *args: Any, **kwargs: Any
) -> HttpResponse:
    if not getattr(settings, "FANWEN_SANDBOX", False):
        raise Http404("sandbox is off")
    keys = load_keys()
    if request.method != method:
        return signed_response(
            keys, 405, {"code": "INVALID_REQUEST", "message": f"请使用 {method}"}
        )
    try:
        body = request.body.decode("utf-8")
    except UnicodeDecodeError:
        return signed_response(keys, 400, {"code": "PARAM_ERROR", "message": "请求体不是 UTF-8"})
    full_path = request.get_full_path()
    # The merchant signed the path as the real API sees it: from /v3/ on, without our mount point.
    signed_path = full_path[full_path.index("/v3/") :]
    try:
        auth = verify_merchant_request(
            keys, request.method or "", signed_path, body, request.headers.get("Authorization", "")
        )
    except AuthError as exc:
        log.warning("sandbox: %s %s rejected: %s", request.method, signed_path, exc)
        return signed_response(keys, 401, {"code": "SIGN_ERROR", "message": str(exc)})
    serial = request.headers.get("Wechatpay-Serial")
    if serial and serial != keys.public_key_id:
        return signed_response(
            keys, 400, {"code": "INVALID_REQUEST", "message": "Wechatpay-Serial 与平台公钥ID不符"}
        )
    data: dict = {}
    if body:
        try:
            data = json.loads(body)
        except ValueError:
            return signed_response(
                keys, 400, {"code": "PARAM_ERROR", "message": "请求体不是有效的 JSON"}
            )
        if not isinstance(data, dict):
            return signed_response(
                keys, 400, {"code": "PARAM_ERROR", "message": "请求体必须是 JSON 对象"}
            )
    try:
        return view(request, keys, auth.mchid, data, *args, **kwargs)
    except ApiError as exc:
        return signed_response(keys, exc.status, {"code": exc.code, "message": exc.message})


def _param_error(message: str) -> ApiError:
    return ApiError(400, "PARAM_ERROR", message)


def _check_merchant(keys: SandboxKeys, mchid: str, data: dict) -> None:
    if data.get("mchid") != keys.mchid or mchid != keys.mchid:
        raise ApiError(400, "MCH_NOT_EXISTS", "商户号不存在或与签名不符")
    if data.get("appid") != keys.appid:
        raise ApiError(400, "APPID_MCHID_NOT_MATCH", "appid 和 mchid 不匹配")


def _validate_order(data: dict, trade_type: str) -> dict[str, Any]:
    description = data.get("description")
    if not isinstance(description, str) or not 1 <= len(description) <= 127:
        raise _param_error("description 长度应为 1-127")
    out_trade_no = data.get("out_trade_no")
    if not isinstance(out_trade_no, str) or not OUT_TRADE_NO.fullmatch(out_trade_no):
        raise _param_error("out_trade_no 应为 6-32 位数字、字母、_-|*")
    notify_url = data.get("notify_url")
    parts = urlsplit(notify_url) if isinstance(notify_url, str) else None
    # The real API demands https; the sandbox also takes http for local servers.
    if (
        parts is None
        or parts.scheme not in {"http", "https"}
        or not parts.netloc
        or parts.query
        or len(notify_url) > 256
    ):
        raise _param_error("notify_url 应为不带参数的 http(s) 地址")
    amount = data.get("amount")
    total = amount.get("total") if isinstance(amount, dict) else None
    if not isinstance(total, int) or isinstance(total, bool) or total < 1:
        raise _param_error("amount.total 应为正整数（分）")
    currency = amount.get("currency", "CNY")
    if currency != "CNY":
        raise _param_error("amount.currency 只支持 CNY")
    time_expire = None
    if data.get("time_expire"):
        time_expire = parse_time(data["time_expire"])
        if time_expire is None or time_expire.tzinfo is None:
            raise _param_error("time_expire 应为 RFC3339 格式")
    attach = data.get("attach", "")
    if not isinstance(attach, str) or len(attach) > 128:
        raise _param_error("attach 最长 128 字符")
    fields: dict[str, Any] = {
        "description": description,
        "out_trade_no": out_trade_no,
        "notify_url": notify_url,
        "amount_total": total,
        "currency": currency,
        "time_expire": time_expire,
        "attach": attach,
    }
    scene_info = data.get("scene_info") or {}
    if trade_type == SandboxTransaction.TradeType.H5:
        h5_info = scene_info.get("h5_info") if isinstance(scene_info, dict) else None
        if not isinstance(scene_info, dict) or not scene_info.get("payer_client_ip"):
            raise _param_error("H5 下单需要 scene_info.payer_client_ip")
        if not isinstance(h5_info, dict) or not h5_info.get("type"):
            raise _param_error("H5 下单需要 scene_info.h5_info.type")
    if isinstance(scene_info, dict):
        fields["payer_client_ip"] = str(scene_info.get("payer_client_ip", ""))[:45]
    if trade_type == SandboxTransaction.TradeType.JSAPI:
        payer = data.get("payer")
        if not isinstance(payer, dict) or not payer.get("openid"):
            raise _param_error("JSAPI 下单需要 payer.openid")
        fields["payer_openid"] = str(payer["openid"])[:128]
    return fields


def _order_answer(request: HttpRequest, txn: SandboxTransaction) -> dict:
    page = request.build_absolute_uri(reverse("sandbox:pay", args=[txn.token]))
    if txn.trade_type == SandboxTransaction.TradeType.NATIVE:
        return {"code_url": page}
    if txn.trade_type == SandboxTransaction.TradeType.H5:
        # Like WeChat's h5_url it already has a query, so the merchant appends &redirect_url=.
        return {"h5_url": f"{page}?prepay_id={txn.prepay_id}"}
    return {"prepay_id": txn.prepay_id}


@merchant_api("POST")
def create_transaction(
    request: HttpRequest, keys: SandboxKeys, mchid: str, data: dict, kind: str
) -> HttpResponse:
    trade_type = TRADE_TYPES[kind]
    _check_merchant(keys, mchid, data)
    fields = _validate_order(data, trade_type)
    existing = SandboxTransaction.objects.filter(out_trade_no=fields["out_trade_no"]).first()
    if existing is None:
        prepay_id = "wx" + timezone.localtime().strftime("%d%H%M%S") + secrets.token_hex(12)
        try:
            with transaction.atomic():
                existing = SandboxTransaction.objects.create(
                    mchid=keys.mchid,
                    appid=keys.appid,
                    trade_type=trade_type,
                    request_body=data,
                    prepay_id=prepay_id,
                    **fields,
                )
            log.info(
                "sandbox: %s order %s, %s fen",
                trade_type,
                existing.out_trade_no,
                existing.amount_total,
            )
            return signed_response(keys, 200, _order_answer(request, existing))
        except IntegrityError:
            existing = SandboxTransaction.objects.get(out_trade_no=fields["out_trade_no"])
    if existing.trade_state in PAID_STATES:
        raise ApiError(400, "ORDERPAID", "该订单已支付")
    if existing.trade_state == SandboxTransaction.State.CLOSED:
        raise ApiError(400, "ORDER_CLOSED", "该订单已关闭")
    # The same request again (a retry after a timeout) gets the same answer; different ones do not.
    if existing.request_body != data or existing.trade_type != trade_type:
        raise ApiError(403, "OUT_TRADE_NO_USED", "商户订单号重复")
    return signed_response(keys, 200, _order_answer(request, existing))


def _mchid_query(request: HttpRequest, keys: SandboxKeys) -> None:
    if request.GET.get("mchid") != keys.mchid:
        raise ApiError(400, "PARAM_ERROR", "mchid 参数有误")


@merchant_api("GET")
def query_by_out_trade_no(
    request: HttpRequest, keys: SandboxKeys, mchid: str, data: dict, out_trade_no: str
) -> HttpResponse:
    _mchid_query(request, keys)
    txn = SandboxTransaction.objects.filter(out_trade_no=out_trade_no, mchid=keys.mchid).first()
    if txn is None:
        raise ApiError(404, "ORDER_NOT_EXIST", "订单不存在")
    return signed_response(keys, 200, txn.as_wechat_json())


@merchant_api("GET")
def query_by_transaction_id(
    request: HttpRequest, keys: SandboxKeys, mchid: str, data: dict, transaction_id: str
) -> HttpResponse:
    _mchid_query(request, keys)
    txn = SandboxTransaction.objects.filter(transaction_id=transaction_id, mchid=keys.mchid).first()
    if txn is None:
        raise ApiError(404, "ORDER_NOT_EXIST", "订单不存在")
    return signed_response(keys, 200, txn.as_wechat_json())


@merchant_api("POST")
def close_transaction(
    request: HttpRequest, keys: SandboxKeys, mchid: str, data: dict, out_trade_no: str
) -> HttpResponse:
    if data.get("mchid") != keys.mchid:
        raise _param_error("mchid 参数有误")
    with transaction.atomic():
        txn = (
            SandboxTransaction.objects.select_for_update().filter(out_trade_no=out_trade_no).first()
        )
        if txn is None:
            raise ApiError(404, "ORDER_NOT_EXIST", "订单不存在")
        if txn.trade_state in PAID_STATES:
            raise ApiError(400, "ORDERPAID", "订单已支付，不能关闭")
        if txn.trade_state != SandboxTransaction.State.CLOSED:
            txn.trade_state = SandboxTransaction.State.CLOSED
            txn.save(update_fields=["trade_state"])
    return signed_response(keys, 204)


@merchant_api("POST")
def create_refund(request: HttpRequest, keys: SandboxKeys, mchid: str, data: dict) -> HttpResponse:
    out_refund_no = data.get("out_refund_no")
    if not isinstance(out_refund_no, str) or not OUT_REFUND_NO.fullmatch(out_refund_no):
        raise _param_error("out_refund_no 应为 1-64 位数字、字母、_-|*@")
    if data.get("transaction_id"):
        txn = SandboxTransaction.objects.filter(transaction_id=data["transaction_id"]).first()
    elif data.get("out_trade_no"):
        txn = SandboxTransaction.objects.filter(out_trade_no=data["out_trade_no"]).first()
    else:
        raise _param_error("需要 transaction_id 或 out_trade_no")
    if txn is None or txn.mchid != mchid:
        raise ApiError(404, "RESOURCE_NOT_EXISTS", "订单不存在")
    amount = data.get("amount")
    refund, total = (
        (amount.get("refund"), amount.get("total")) if isinstance(amount, dict) else (None, None)
    )
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in (refund, total)):
        raise _param_error("amount.refund 和 amount.total 应为正整数（分）")
    if amount.get("currency", "CNY") != txn.currency:
        raise _param_error("amount.currency 有误")
    existing = SandboxRefund.objects.filter(out_refund_no=out_refund_no).first()
    if existing is not None:
        # out_refund_no makes refunds idempotent: the same number never refunds twice.
        if existing.transaction_id != txn.pk or existing.amount_refund != refund:
            raise _param_error("out_refund_no 已用于其他退款")
        return signed_response(keys, 200, advance_sandbox_refund(existing).as_wechat_json())
    if txn.trade_state not in PAID_STATES:
        raise ApiError(403, "INVALID_REQUEST", "订单未支付，不能退款")
    if total != txn.amount_total:
        raise _param_error("amount.total 与订单金额不符")
    refunded = sum(txn.refunds.values_list("amount_refund", flat=True))
    if refund > txn.amount_total - refunded:
        raise ApiError(403, "NOT_ENOUGH", "可退金额不足")
    reason = data.get("reason") or ""
    notify_url = data.get("notify_url") or ""
    try:
        created = do_refund_sandbox_payment(
            txn,
            out_refund_no=out_refund_no,
            amount_refund=refund,
            reason=str(reason)[:80],
            notify_url=notify_url,
        )
    except IntegrityError:
        created = SandboxRefund.objects.get(out_refund_no=out_refund_no)
    return signed_response(keys, 200, created.as_wechat_json())


@merchant_api("GET")
def query_refund(
    request: HttpRequest, keys: SandboxKeys, mchid: str, data: dict, out_refund_no: str
) -> HttpResponse:
    refund = (
        SandboxRefund.objects.select_related("transaction")
        .filter(out_refund_no=out_refund_no)
        .first()
    )
    if refund is None or refund.transaction.mchid != mchid:
        raise ApiError(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
    return signed_response(keys, 200, advance_sandbox_refund(refund).as_wechat_json())


# --- trade bill ---------------------------------------------------------------------------

BILL_TYPES = {"ALL", "SUCCESS", "REFUND"}
BILL_TOKEN_SALT = "fanwen.sandbox.tradebill"
# WeChat's download_url lives 30 seconds; the sandbox is more forgiving.
BILL_TOKEN_MAX_AGE = 300
BILL_HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
    "交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,"
    "充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"
)
BILL_SUMMARY_HEADER = (
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
)


def yuan(fen: int) -> str:
    """Fen as WeChat's bills write yuan: 599 → "5.99"."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def _bill_line(values: list[Any]) -> str:
    # Every value starts with a backtick, so spreadsheets keep long numbers as text.
    return ",".join("`" + str(value).replace(",", " ") for value in values)


def _bill_day(bill_date: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(bill_date, dt.time.min, tzinfo=BEIJING)
    return start, start + dt.timedelta(days=1)


def build_trade_bill(
    mchid: str, bill_date: dt.date, bill_type: str, as_of: dt.datetime
) -> bytes | None:
    """The day's bill as WeChat writes it (UTF-8 CSV), or None when there is nothing on it.

    Payments: transactions paid that day (Asia/Shanghai), also those refunded since, as
    SUCCESS rows. Refunds that succeeded that day are REFUND rows. Only what happened up to
    `as_of` (when the bill was asked for) is in it, so the download matches the hash.
    """
    start, end = _bill_day(bill_date)
    end = min(end, as_of)
    lines: list[str] = []
    settled = refunded = 0
    if bill_type in {"ALL", "SUCCESS"}:
        paid = SandboxTransaction.objects.filter(
            mchid=mchid,
            trade_state__in=PAID_STATES,
            success_time__gte=start,
            success_time__lt=end,
        ).order_by("success_time", "pk")
        for txn in paid:
            settled += txn.amount_total
            lines.append(_bill_row(txn, txn.success_time, "SUCCESS"))
    if bill_type in {"ALL", "REFUND"}:
        refunds = (
            SandboxRefund.objects.select_related("transaction")
            .filter(
                transaction__mchid=mchid,
                status="SUCCESS",
                success_time__gte=start,
                success_time__lt=end,
            )
            .order_by("success_time", "pk")
        )
        for refund in refunds:
            refunded += refund.amount_refund
            lines.append(_bill_row(refund.transaction, refund.success_time, "REFUND", refund))
    if not lines:
        return None
    summary = _bill_line(
        [len(lines), yuan(settled), yuan(refunded), "0.00", "0.00", yuan(settled), yuan(refunded)]
    )
    return "\r\n".join([BILL_HEADER, *lines, BILL_SUMMARY_HEADER, summary, ""]).encode("utf-8")


def _bill_row(
    txn: SandboxTransaction, moment: dt.datetime, state: str, refund: SandboxRefund | None = None
) -> str:
    is_payment = refund is None
    amount = yuan(txn.amount_total) if is_payment else "0.00"
    return _bill_line(
        [
            moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
            txn.appid,
            txn.mchid,
            "0",
            "",
            txn.transaction_id or "",
            txn.out_trade_no,
            txn.payer_openid,
            txn.trade_type,
            state,
            "OTHERS",
            txn.currency,
            amount,
            "0.00",
            "" if is_payment else refund.refund_id,
            "" if is_payment else refund.out_refund_no,
            "0.00" if is_payment else yuan(refund.amount_refund),
            "0.00",
            "" if is_payment else "ORIGINAL",
            "" if is_payment else "SUCCESS",
            txn.description,
            txn.attach,
            "0.00",
            "0.60%",
            amount,
            "0.00" if is_payment else yuan(refund.amount_refund),
            "",
        ]
    )


def _bill_request(keys: SandboxKeys, request: HttpRequest) -> tuple[dt.date, str, str]:
    try:
        bill_date = dt.date.fromisoformat(request.GET.get("bill_date", ""))
    except ValueError:
        raise _param_error("bill_date 应为 YYYY-MM-DD") from None
    if bill_date > timezone.now().astimezone(BEIJING).date():
        raise _param_error("bill_date 不能晚于今天")
    bill_type = request.GET.get("bill_type", "ALL")
    if bill_type not in BILL_TYPES:
        raise _param_error("bill_type 应为 ALL、SUCCESS 或 REFUND")
    tar_type = request.GET.get("tar_type", "")
    if tar_type not in {"", "GZIP"}:
        raise _param_error("tar_type 只支持 GZIP")
    return bill_date, bill_type, tar_type


@merchant_api("GET")
def trade_bill(request: HttpRequest, keys: SandboxKeys, mchid: str, data: dict) -> HttpResponse:
    """申请交易账单: the hash of the (uncompressed) bill and where to download it."""
    bill_date, bill_type, tar_type = _bill_request(keys, request)
    as_of = timezone.now()
    bill = build_trade_bill(mchid, bill_date, bill_type, as_of)
    if bill is None:
        raise ApiError(400, "NO_STATEMENT_EXIST", "账单文件不存在")
    token = signing.dumps(
        {
            "mchid": mchid,
            "bill_date": bill_date.isoformat(),
            "bill_type": bill_type,
            "tar_type": tar_type,
            "as_of": as_of.isoformat(),
        },
        salt=BILL_TOKEN_SALT,
    )
    url = request.build_absolute_uri(reverse("sandbox:bill-download")) + "?token=" + token
    return signed_response(
        keys,
        200,
        {"hash_type": "SHA1", "hash_value": hashlib.sha1(bill).hexdigest(), "download_url": url},
    )


@merchant_api("GET")
def download_bill(request: HttpRequest, keys: SandboxKeys, mchid: str, data: dict) -> HttpResponse:
    """The file behind download_url: gzip'ed when asked so, unsigned like WeChat's."""
    try:
        ticket = signing.loads(
            request.GET.get("token", ""), salt=BILL_TOKEN_SALT, max_age=BILL_TOKEN_MAX_AGE
        )
    except signing.BadSignature:
        raise ApiError(400, "INVALID_REQUEST", "token 无效或已过期") from None
    if ticket["mchid"] != mchid:
        raise ApiError(403, "NO_AUTH", "无权下载该账单")
    bill = build_trade_bill(
        mchid,
        dt.date.fromisoformat(ticket["bill_date"]),
        ticket["bill_type"],
        dt.datetime.fromisoformat(ticket["as_of"]),
    )
    if bill is None:
        raise ApiError(400, "NO_STATEMENT_EXIST", "账单文件不存在")
    if ticket["tar_type"] == "GZIP":
        response = HttpResponse(gzip.compress(bill, mtime=0), content_type="application/gzip")
    else:
        response = HttpResponse(bill, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="tradebill-{ticket["bill_date"]}"'
    response["Request-ID"] = nonce_str(24)
    return response
