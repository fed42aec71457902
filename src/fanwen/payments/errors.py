"""What can go wrong when taking a payment, and the one place errors become HTTP answers.

The hierarchy starts at orders' PaymentError, so a caller catches money errors of both apps
with one except clause:

    PaymentError
      UnableToTakePayment   the provider refused; `user_message` is shown to the buyer
      GatewayError          the provider did not answer usably; retry with the same parameters
      NotificationRejected  a notification that is not provably from the provider, or unreadable
      (orders.errors)       UnknownOrder, VerificationFailed and its mismatches, ConflictingPayment...
"""

from __future__ import annotations

from django.http import JsonResponse

from fanwen.orders.errors import (
    ConflictingPayment,
    InvalidOrder,
    OrderNotPaid,
    OrderStateError,
    PaymentError,
    UnknownOrder,
    UnknownRefund,
    VerificationFailed,
)

__all__ = [
    "PaymentError",
    "UnableToTakePayment",
    "GatewayError",
    "NotificationRejected",
    "MissingHeaders",
    "ProbeSignature",
    "UnknownSerial",
    "StaleTimestamp",
    "BadSignature",
    "UndecryptableResource",
    "MalformedNotification",
    "UnpaidNotification",
    "status_for",
    "error_response",
]


class UnableToTakePayment(PaymentError):
    """The provider refused the request; retrying the same request will not help."""

    user_message = "暂时无法完成支付，请稍后再试或联系客服。"

    def __init__(
        self,
        message: str,
        *,
        user_message: str | None = None,
        provider_code: str = "",
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        if user_message is not None:
            self.user_message = user_message
        self.provider_code = provider_code
        self.http_status = http_status


class GatewayError(PaymentError):
    """Network failure, timeout, 429/5xx or an unverifiable answer: retry with the same parameters."""

    user_message = "支付服务暂时不可用，请稍后再试。"

    def __init__(
        self, message: str, *, provider_code: str = "", http_status: int | None = None
    ) -> None:
        super().__init__(message)
        self.provider_code = provider_code
        self.http_status = http_status


class NotificationRejected(PaymentError):
    """A notification we cannot trust or read; nothing is settled."""

    # What the provider sees in the FAIL answer; the exception text goes to the log.
    reason = "notification rejected"


class MissingHeaders(NotificationRejected):
    reason = "missing signature headers"


class ProbeSignature(NotificationRejected):
    # WeChat sends WECHATPAY/SIGNTEST/ signatures to check that merchants really verify.
    reason = "probe signature"


class UnknownSerial(NotificationRejected):
    reason = "unknown serial"


class StaleTimestamp(NotificationRejected):
    reason = "timestamp out of range"


class BadSignature(NotificationRejected):
    reason = "signature verification failed"


class UndecryptableResource(NotificationRejected):
    reason = "resource decryption failed"


class MalformedNotification(NotificationRejected):
    reason = "malformed notification"


class UnpaidNotification(NotificationRejected):
    """A payment event whose trade_state is not SUCCESS: only SUCCESS settles."""

    reason = "trade not successful"


# First match wins, so subclasses come before their bases.
_STATUSES: list[tuple[type[Exception], int]] = [
    (MissingHeaders, 400),
    (UndecryptableResource, 400),
    (MalformedNotification, 400),
    (UnpaidNotification, 400),
    (NotificationRejected, 401),
    (UnknownOrder, 404),
    (UnknownRefund, 404),
    (VerificationFailed, 400),
    (ConflictingPayment, 409),
    (OrderNotPaid, 409),
    (OrderStateError, 409),
    (InvalidOrder, 400),
    (UnableToTakePayment, 400),
    (GatewayError, 503),
    (PaymentError, 400),
]


def status_for(exc: Exception) -> int:
    for error_class, status in _STATUSES:
        if isinstance(exc, error_class):
            return status
    return 500


def error_response(exc: Exception, *, audience: str = "provider") -> JsonResponse:
    """The one place payment errors become answers.

    audience "provider": WeChat's notification contract, {"code": "FAIL", "message": ...} with a
    4xx/5xx status so it retries; the message names the reason without internals.
    audience "buyer": {"code": error class, "message": the Chinese text shown to the buyer}.
    """
    status = status_for(exc)
    if audience == "buyer":
        message = getattr(exc, "user_message", PaymentError.user_message)
        response = JsonResponse({"code": type(exc).__name__, "message": message}, status=status)
    else:
        response = JsonResponse({"code": "FAIL", "message": _provider_message(exc)}, status=status)
    if isinstance(exc, GatewayError):
        response["Retry-After"] = "5"
    return response


def _provider_message(exc: Exception) -> str:
    if isinstance(exc, NotificationRejected):
        return exc.reason
    if isinstance(exc, VerificationFailed):
        return f"verification failed: {exc.reason}"
    if isinstance(exc, PaymentError):
        return type(exc).__name__
    return "internal error"
