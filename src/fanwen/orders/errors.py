"""What can go wrong with money; the payments app maps these to HTTP answers in one place."""

from __future__ import annotations


class PaymentError(Exception):
    """Base of every order and payment failure."""

    # Shown to the buyer; the exception text itself is for logs and staff.
    user_message = "支付处理失败，请稍后再试或联系客服。"


class InvalidOrder(PaymentError):
    """The order cannot be created as asked (unknown plan, missing or unpublished article...)."""

    user_message = "无法创建订单，请刷新页面后重试。"


class UnknownOrder(PaymentError):
    """No order with this number (a settle for a foreign number, a mistyped restore)."""

    user_message = "找不到这个订单号或交易单号，请核对后再试。"


class OrderNotPaid(PaymentError):
    """The order exists but holds nothing to restore (pending, closed or refunded)."""

    user_message = "这笔订单尚未支付成功，无法恢复。如已付款，请稍后再试或联系客服。"


class OrderStateError(PaymentError):
    """The action does not apply to the order in its current status (e.g. refund of an unpaid order)."""


class VerificationFailed(PaymentError):
    """The provider's report does not match the order: nothing is granted."""

    reason = "verification"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class AmountMismatch(VerificationFailed):
    reason = "amount"


class CurrencyMismatch(VerificationFailed):
    reason = "currency"


class MerchantMismatch(VerificationFailed):
    """The payment went to another merchant (mchid / seller_id) or app (appid / app_id)."""

    reason = "merchant"


class ProviderMismatch(VerificationFailed):
    reason = "provider"


class ConflictingPayment(PaymentError):
    """A second, different transaction for a paid order, or one transaction claimed by two orders."""

    user_message = "这笔订单的支付状态异常，请联系客服处理。"


class UnknownRefund(PaymentError):
    """No refund with this out_refund_no was requested here."""
