"""Provider-facing endpoints: WeChat Pay and Alipay notifications (no login, no CSRF)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from fanwen.lib import clientip
from fanwen.lib.sqlite.base import WriteLockTimeout
from fanwen.payments.backends import InvalidBackendError, backends
from fanwen.payments.backends.alipay import AlipayBackend
from fanwen.payments.backends.wechat import WeChatPayBackend
from fanwen.payments.errors import PaymentError, error_response, status_for
from fanwen.payments.settlement import handle_alipay_notification, handle_wechat_notification

log = logging.getLogger("fanwen.payments")

# A provider's answer to a notification we did not settle: (message, status) -> response.
Reply = Callable[[str, int], HttpResponse]
NotifyView = Callable[..., HttpResponse]


def _wechat_fail(message: str, status: int) -> HttpResponse:
    return JsonResponse({"code": "FAIL", "message": message}, status=status)


def _alipay_fail(message: str, status: int) -> HttpResponse:
    return HttpResponse("fail", status=status, content_type="text/plain")


def notification_entry(fail: Reply) -> Callable[[NotifyView], NotifyView]:
    """The door of a notify view: bodies over FANWEN_NOTIFY_MAX_BYTES get 413 unread, and a
    database too busy to write gets 503 + Retry-After so the provider sends it again."""

    def decorate(view: NotifyView) -> NotifyView:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            cap = settings.FANWEN_NOTIFY_MAX_BYTES
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = -1
            if declared < 0:
                return fail("bad content length", 400)
            # The WSGI stream stops at the declared length, so this bounds what is ever read.
            if declared > cap:
                log.warning("notification of %d bytes from %s refused", declared, _ip(request))
                return fail("body too large", 413)
            try:
                request.body  # noqa: B018 - read once here, within the bound checked above
                if request.content_type == "application/x-www-form-urlencoded":
                    request.POST  # noqa: B018 - a form with too many fields is refused here
            except RequestDataTooBig:
                return fail("body too large", 413)
            except TooManyFieldsSent:
                return fail("too many fields", 400)
            try:
                return view(request, *args, **kwargs)
            except WriteLockTimeout as exc:
                log.warning("notification from %s answered 503: %s", _ip(request), exc)
                response = fail("busy, retry later", 503)
                response["Retry-After"] = str(exc.retry_after)
                return response

        return wrapped

    return decorate


def _ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


@csrf_exempt
@require_POST
@notification_entry(_wechat_fail)
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
    except WriteLockTimeout:
        raise  # notification_entry answers 503
    except Exception as exc:
        log.exception("wechat notification via %s from %s failed", alias, client_ip)
        return error_response(exc)
    log.info("wechat notification %s via %s: %s", event.event_id, alias, outcome)
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
@notification_entry(_alipay_fail)
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
    except WriteLockTimeout:
        raise  # notification_entry answers 503
    except Exception:
        log.exception("alipay notification via %s from %s failed", alias, client_ip)
        return HttpResponse("fail", status=500, content_type="text/plain")
    log.info("alipay notification %s via %s: %s", txn.event_id, alias, outcome)
    return HttpResponse("success", content_type="text/plain")
