"""From a verified provider report to orders' settle action; notification and query share it."""

from __future__ import annotations

import logging

from fanwen.orders.actions import SettleResult, do_complete_refund, do_settle_order
from fanwen.orders.errors import MerchantMismatch
from fanwen.orders.models import PaymentEvent
from fanwen.payments.backends.base import PaymentBackend, ProviderReport
from fanwen.payments.errors import MalformedNotification, UnpaidNotification

log = logging.getLogger("fanwen.payments")


def settle_transaction(
    backend: PaymentBackend,
    report: ProviderReport,
    *,
    source: str,
    payload: dict | None = None,
) -> SettleResult:
    """Settle the order of a verified report that says the payment is made."""
    if not report.paid:
        raise UnpaidNotification(
            f"state {report.provider_state or report.state!r} of {report.out_trade_no} does not settle"
        )
    if not report.out_trade_no:
        raise MalformedNotification("transaction has no out_trade_no")
    if report.paid_at is None:
        raise MalformedNotification(f"transaction {report.out_trade_no} has no valid payment time")
    return do_settle_order(
        report.out_trade_no,
        provider=backend.order_provider,
        txn_id=report.txn_id,
        amount_fen=report.amount_fen,
        currency=report.currency,
        mchid=report.mchid,
        appid=report.appid,
        paid_at=report.paid_at,
        payer_ref=report.payer_ref,
        event_id=report.event_id,
        source=source,
        payload=payload if payload is not None else report.raw,
        expected_mchid=backend.mchid,
        expected_appid=backend.appid,
    )


def handle_wechat_notification(backend: PaymentBackend, report: ProviderReport) -> str:
    """Act on a verified, decrypted notification; return what was done (for the log)."""
    event_type = report.event_type
    if event_type.startswith("TRANSACTION."):
        if event_type != "TRANSACTION.SUCCESS" and not report.paid:
            return f"{event_type} for {report.out_trade_no}: nothing to settle"
        result = settle_transaction(backend, report, source=PaymentEvent.Kind.NOTIFY)
        return f"{event_type} {report.out_trade_no}: {result.outcome}"
    if event_type.startswith("REFUND."):
        if report.mchid != backend.mchid:
            raise MerchantMismatch(f"refund event for mchid {report.mchid!r}", reason="mchid")
        if not report.out_refund_no or not report.refund_status:
            raise MalformedNotification("refund event lacks out_refund_no or refund_status")
        try:
            order = do_complete_refund(
                report.out_refund_no,
                report.refund_status,
                provider=backend.order_provider,
                event_id=report.event_id,
                payload=report.raw,
            )
        except ValueError as exc:
            raise MalformedNotification(str(exc)) from exc
        return f"{event_type} {report.out_refund_no}: order {order.out_trade_no} {order.status}"
    # Events we do not act on are acknowledged, or WeChat would resend them for a day.
    return f"{event_type}: ignored"


def settle_from_query(backend: PaymentBackend, out_trade_no: str) -> SettleResult | None:
    """已付款请点这里: ask the provider, settle if it says paid; None when it is not paid."""
    report = backend.query(out_trade_no)
    return settle_report(backend, report, out_trade_no)


def settle_report(
    backend: PaymentBackend, report: ProviderReport | None, out_trade_no: str
) -> SettleResult | None:
    """Settle what a query answered (asked beforehand, e.g. outside a lock); None when unpaid."""
    if report is None or not report.paid:
        log.info(
            "query %s via %s: %s",
            out_trade_no,
            backend.alias,
            report.provider_state or report.state if report else "unknown to provider",
        )
        return None
    return settle_transaction(backend, report, source=PaymentEvent.Kind.QUERY)


def handle_alipay_notification(backend: PaymentBackend, report: ProviderReport) -> str:
    """Act on a verified Alipay notification; TRADE_SUCCESS/TRADE_FINISHED settle, the rest is acknowledged."""
    if not report.paid:
        return f"{report.provider_state} for {report.out_trade_no}: nothing to settle"
    result = settle_transaction(backend, report, source=PaymentEvent.Kind.NOTIFY)
    return f"{report.provider_state} {report.out_trade_no}: {result.outcome}"
