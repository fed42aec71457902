"""Buyer-facing JSON: create an order, poll it, ask the provider now, and what this reader may do.

Browser POSTs go through Django's CSRF check (the page sends the token in X-CSRFToken).
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from fanwen.accounts.models import WeChatIdentity
from fanwen.accounts.visitors import current_visitor, get_or_create_visitor
from fanwen.lib.ratelimit import client_ip
from fanwen.library.models import Article
from fanwen.orders.actions import do_close_order, do_create_order
from fanwen.orders.errors import InvalidOrder
from fanwen.orders.models import Entitlement, Order, Plan
from fanwen.payments.backends import alias_for_channel, backend_for_provider, backends
from fanwen.payments.errors import PaymentError, UnableToTakePayment, error_response
from fanwen.payments.oauth import oauth_backend, safe_next, start_url
from fanwen.payments.ratelimit import limited
from fanwen.payments.settlement import settle_from_query

log = logging.getLogger("fanwen.payments")

# What the page gets back, by channel: a QR code to draw, a page to go to, or JS bridge params.
RESULT_KEYS = {
    Order.Channel.NATIVE: "code_url",
    Order.Channel.H5: "h5_url",
    Order.Channel.ALIPAY_QR: "code_url",
    Order.Channel.ALIPAY_WAP: "redirect_url",
}


# By provider (is it Alipay?): what a buyer is told when it is not set up here.
NOT_CONFIGURED = {
    False: "暂未开通微信支付，请换一种支付方式。",
    True: "暂未开通支付宝支付，请换一种支付方式。",
}


def _bad_request(message: str, code: str = "InvalidOrder") -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=400)


def _not_found() -> JsonResponse:
    return JsonResponse({"code": "UnknownOrder", "message": "找不到这个订单。"}, status=404)


def _payload(request: HttpRequest) -> dict[str, Any]:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    return request.POST.dict()


def _in_wechat(request: HttpRequest) -> bool:
    return "MicroMessenger" in request.META.get("HTTP_USER_AGENT", "")


def _return_path(request: HttpRequest, data: dict[str, Any]) -> str:
    """The page to come back to after WeChat OAuth: the payload's `next`, else the referring page."""
    explicit = safe_next(str(data.get("next") or ""))
    if explicit:
        return explicit
    referer = urlsplit(request.META.get("HTTP_REFERER", ""))
    if referer.netloc == request.get_host():
        path = referer.path + (f"?{referer.query}" if referer.query else "")
        return safe_next(path) or "/"
    return "/"


def _need_openid(request: HttpRequest, data: dict[str, Any]) -> JsonResponse:
    """409: JSAPI needs the payer's openid first; the page sends the browser to oauth_url."""
    if oauth_backend() is None:
        return _bad_request("本站暂未开通微信内支付，请使用扫码支付。", "ChannelUnavailable")
    return JsonResponse(
        {
            "code": "NeedOpenid",
            "message": "需要先经微信授权，才能在微信内支付。",
            "oauth_url": start_url(_return_path(request, data)),
        },
        status=409,
    )


def _user(request: HttpRequest) -> Any:
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _rate_limited(request: HttpRequest, scope: str, visitor_id: str | None) -> JsonResponse | None:
    return limited(
        request,
        scope,
        visitor_id,
        limit=getattr(settings, f"FANWEN_ORDER_{scope.upper()}_LIMIT"),
        ip_limit=getattr(settings, f"FANWEN_ORDER_{scope.upper()}_IP_LIMIT"),
        window=settings.FANWEN_PAY_RATE_WINDOW,
    )


@require_POST
@never_cache
def create_order(request: HttpRequest) -> HttpResponse:
    """{plan, article_id?, channel, next?} → 201 with the order and what the page needs to take the payment.

    JSAPI without this browser's openid: 409 {"code": "NeedOpenid", "oauth_url"}; the page sends
    the browser there and WeChat OAuth brings it back to `next` (default: the referring page).
    """
    visitor = current_visitor(request)
    if (
        blocked := _rate_limited(request, "create", str(visitor.pk) if visitor else None)
    ) is not None:
        return blocked
    data = _payload(request)
    plan_code = str(data.get("plan") or "")
    channel = str(data.get("channel") or "")
    if plan_code not in Plan.Code.values:
        return _bad_request("未知的套餐。")
    if channel not in Order.Channel.values:
        return _bad_request("未知的支付方式。")
    if channel.startswith("alipay_") and _in_wechat(request):
        # WeChat blocks Alipay pages: the buyer must open the page in a browser.
        return _bad_request(
            "微信内无法使用支付宝，请选择微信支付或在浏览器中打开。", "ChannelUnavailable"
        )
    alias = alias_for_channel(channel)
    if not alias:
        # No keys for this provider here (and no sandbox): it is not offered, never a 500.
        return _bad_request(NOT_CONFIGURED[channel.startswith("alipay_")], "ChannelUnavailable")
    article = None
    raw_article = data.get("article_id")
    if raw_article not in (None, ""):
        try:
            article = Article.objects.filter(pk=int(raw_article)).first()
        except (TypeError, ValueError):
            article = None
        if article is None or not article.is_public:
            return _bad_request("文章不存在或未发布。")
    elif plan_code == Plan.Code.ARTICLE_COPY:
        return _bad_request("单篇购买需要指定文章。")
    openid = None
    if channel == Order.Channel.JSAPI:
        try:
            appid = backends[alias].appid
        except ImproperlyConfigured:
            appid = ""
        openid = WeChatIdentity.objects.openid_for(visitor, appid) if appid else None
        if not openid:
            # Asked before an order exists, so the OAuth round trip costs no order number.
            return _need_openid(request, data)

    try:
        backend = backends[alias]
        merchant = {"mchid": backend.mchid, "appid": backend.appid}
    except ImproperlyConfigured:
        # Keys set but incomplete or unreadable: the operator must fix them; the buyer hears so.
        log.exception("payment backend %r is not usable", alias)
        return JsonResponse(
            {
                "code": "PaymentsNotConfigured",
                "message": NOT_CONFIGURED[channel.startswith("alipay_")],
            },
            status=503,
        )
    response = JsonResponse({}, status=201)
    visitor = get_or_create_visitor(request, response)
    try:
        order = do_create_order(
            visitor=visitor,
            plan_code=plan_code,
            article=article if plan_code == Plan.Code.ARTICLE_COPY else None,
            provider=backend.order_provider,
            channel=channel,
            user=_user(request),
            **merchant,
        )
    except InvalidOrder as exc:
        log.info("order refused for visitor %s: %s", visitor.pk, exc)
        return _with_cookies(error_response(exc, audience="buyer"), response)
    try:
        return_url = (
            request.build_absolute_uri(_return_path(request, data))
            if channel == Order.Channel.ALIPAY_WAP
            else None
        )
        result = backend.create(
            order, channel, client_ip(request), openid=openid, return_url=return_url
        )
    except UnableToTakePayment as exc:
        # The provider said no for good: this number will never be paid.
        do_close_order(order, reason=f"create refused: {exc}")
        return _with_cookies(error_response(exc, audience="buyer"), response)
    except PaymentError as exc:
        # Perhaps created at the provider after all: the expire job closes it there and here.
        log.warning("order %s: create via %s failed: %s", order.out_trade_no, alias, exc)
        return _with_cookies(error_response(exc, audience="buyer"), response)
    body: dict[str, Any] = {
        "out_trade_no": order.out_trade_no,
        "amount_fen": order.amount_fen,
        "list_price_fen": order.list_price_fen,
        "expires_at": order.expires_at.isoformat(),
    }
    if channel == Order.Channel.JSAPI:
        pay_page_url = result.pop("pay_page_url", None)
        body["jsapi"] = result
        if pay_page_url:
            # No WeixinJSBridge outside WeChat: a backend's payer page (the sandbox's) stands in.
            body["pay_page_url"] = request.build_absolute_uri(pay_page_url)
    else:
        body[RESULT_KEYS[channel]] = result[RESULT_KEYS[channel]]
        # The QR code opens a web page (the sandbox's payer page): the dialog links to it too.
        body["pay_page"] = backend.qr_is_page
    response.content = JsonResponse(body).content
    return response


def _with_cookies(answer: HttpResponse, carrier: HttpResponse) -> HttpResponse:
    # A new visitor keeps the cookie even when the order fails, so a retry is the same buyer.
    for morsel in carrier.cookies.values():
        answer.cookies[morsel.key] = morsel
    return answer


def _owned_order(request: HttpRequest, out_trade_no: str) -> Order | None:
    order = Order.objects.filter(out_trade_no=out_trade_no).first()
    if order is None:
        return None
    visitor, user = current_visitor(request), _user(request)
    if visitor is not None and order.visitor_id == visitor.pk:
        return order
    if user is not None and order.user_id == user.pk:
        return order
    return None


def _order_state(order: Order) -> dict[str, Any]:
    entitlement = order.entitlements.filter(revoked_at__isnull=True).first()
    return {
        "status": order.status,
        "paid_at": order.paid_at.isoformat() if order.paid_at else None,
        "entitlement": (
            {
                "kind": entitlement.kind,
                "article_id": entitlement.article_id,
                "starts_at": entitlement.starts_at.isoformat(),
                "ends_at": entitlement.ends_at.isoformat() if entitlement.ends_at else None,
            }
            if entitlement is not None
            else None
        ),
    }


@require_GET
@never_cache
def order_status(request: HttpRequest, out_trade_no: str) -> HttpResponse:
    order = _owned_order(request, out_trade_no)
    if order is None:
        return _not_found()
    return JsonResponse(_order_state(order))


@require_POST
@never_cache
def check_order(request: HttpRequest, out_trade_no: str) -> HttpResponse:
    """已付款请点这里: ask the provider now; the browser's word never settles anything."""
    visitor = current_visitor(request)
    if (
        blocked := _rate_limited(request, "check", str(visitor.pk) if visitor else None)
    ) is not None:
        return blocked
    order = _owned_order(request, out_trade_no)
    if order is None:
        return _not_found()
    if order.status in (Order.Status.PENDING, Order.Status.CLOSED):
        backend = backend_for_provider(order.provider)
        if backend is None:
            log.error("order %s: no backend takes provider %r", order.out_trade_no, order.provider)
        else:
            try:
                settle_from_query(backend, order.out_trade_no)
            except PaymentError as exc:
                log.warning("check of %s failed: %s", order.out_trade_no, exc)
                return error_response(exc, audience="buyer")
            order.refresh_from_db()
    return JsonResponse(_order_state(order))


@require_GET
def article_access(request: HttpRequest, article_id: int) -> HttpResponse:
    """{copy, download, pass_until} for this reader; never sets a cookie (the page stays cacheable)."""
    article = Article.objects.filter(pk=article_id).first()
    if article is None or not article.is_public:
        return JsonResponse({"code": "NotFound", "message": "文章不存在。"}, status=404)
    access = Entitlement.objects.access_for(current_visitor(request), _user(request), article)
    response = JsonResponse(
        {
            "copy": access["copy"],
            "download": access["download"],
            "pass_until": access["pass_until"].isoformat() if access["pass_until"] else None,
        }
    )
    response["Cache-Control"] = "private, no-store"
    return response
