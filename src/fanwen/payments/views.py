"""Provider-facing endpoints: WeChat Pay and Alipay notifications (no login, no CSRF)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from fanwen.lib import clientip
from fanwen.payments.backends import InvalidBackendError, backends
from fanwen.payments.backends.alipay import AlipayBackend
from fanwen.payments.backends.wechat import WeChatPayBackend
from fanwen.payments.errors import PaymentError, error_response, status_for
from fanwen.payments.settlement import handle_alipay_notification, handle_wechat_notification

log = logging.getLogger("fanwen.payments")


@csrf_exempt
@require_POST
def wechat_notify(request: HttpRequest, alias: str | None = None) -> HttpResponse:
    """Verify, decrypt and settle; 204 when done (or already done), 4xx/5xx FAIL so WeChat retries."""
    alias = alias or settings.PAYMENT_WECHAT_BACKEND
    try:
        backend = backends[alias] if alias in backends else None
    except InvalidBackendError:
        backend = None
    if not isinstance(backend, WeChatPayBackend):
        log.warning("wechat notification for unknown backend %r rejected", alias)
        return JsonResponse({"code": "FAIL", "message": "unknown backend"}, status=404)
    client_ip = clientip.client_ip(request)
    try:
        event = backend.parse_notification(request.META, request.body)
        outcome = handle_wechat_notification(backend, event)
    except PaymentError as exc:
        # Settle already recorded a PaymentEvent where there is an order; the log sees them all.
        log.warning(
            "wechat notification via %s from %s rejected: %s: %s",
            alias,
            client_ip,
            type(exc).__name__,
            exc,
        )
        return error_response(exc)
    except Exception as exc:
        log.exception("wechat notification via %s from %s failed", alias, client_ip)
        return error_response(exc)
    log.info("wechat notification %s via %s: %s", event["id"], alias, outcome)
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def alipay_notify(request: HttpRequest, alias: str | None = None) -> HttpResponse:
    """Verify the form POST and settle; plain text `success` when done, 4xx `fail` so Alipay retries."""
    alias = alias or getattr(settings, "PAYMENT_ALIPAY_BACKEND", "")
    try:
        backend = backends[alias] if alias and alias in backends else None
    except InvalidBackendError:
        backend = None
    if not isinstance(backend, AlipayBackend):
        log.warning("alipay notification for unknown backend %r rejected", alias)
        return HttpResponse("fail", status=404, content_type="text/plain")
    client_ip = clientip.client_ip(request)
    try:
        txn = backend.parse_notification(request.META, request.POST.dict())
        outcome = handle_alipay_notification(backend, txn)
    except PaymentError as exc:
        log.warning(
            "alipay notification via %s from %s rejected: %s: %s",
            alias,
            client_ip,
            type(exc).__name__,
            exc,
        )
        return HttpResponse("fail", status=status_for(exc), content_type="text/plain")
    except Exception:
        log.exception("alipay notification via %s from %s failed", alias, client_ip)
        return HttpResponse("fail", status=500, content_type="text/plain")
    log.info("alipay notification %s via %s: %s", txn.get("event_id"), alias, outcome)
    return HttpResponse("success", content_type="text/plain")
