"""From a verified provider report to orders' settle action; notification and query share it."""

from __future__ import annotations

import logging
from typing import Any

from fanwen.orders.actions import SettleResult, do_complete_refund, do_settle_order
from fanwen.orders.errors import MerchantMismatch
from fanwen.orders.models import PaymentEvent
from fanwen.payments.backends.wechat import WeChatPayBackend, normalize_transaction
from fanwen.payments.errors import MalformedNotification, UnpaidNotification

log = logging.getLogger("fanwen.payments")


def settle_transaction(
    backend: WeChatPayBackend,
    txn: dict[str, Any],
    *,
    source: str,
    event_id: str | None = None,
    payload: dict | None = None,
) -> SettleResult:
    """Settle the order of a normalized, verified transaction whose state is SUCCESS."""
    if txn["state"] != "SUCCESS":
        raise UnpaidNotification(
            f"trade_state {txn['state']!r} of {txn['out_trade_no']} does not settle"
        )
    if not txn["out_trade_no"]:
        raise MalformedNotification("transaction has no out_trade_no")
    if txn["paid_at"] is None:
        raise MalformedNotification(f"transaction {txn['out_trade_no']} has no valid success_time")
    return do_settle_order(
        txn["out_trade_no"],
        provider=backend.order_provider,
        txn_id=txn["txn_id"],
        amount_fen=txn["amount_fen"],
        currency=txn["currency"],
        mchid=txn["mchid"],
        appid=txn["appid"],
        paid_at=txn["paid_at"],
        payer_ref=txn["payer_ref"],
        event_id=event_id,
        source=source,
        payload=payload if payload is not None else txn["raw"],
        expected_mchid=backend.mchid,
        expected_appid=backend.appid,
    )


def handle_wechat_notification(backend: WeChatPayBackend, event: dict) -> str:
    """Act on a verified, decrypted notification; return what was done (for the log)."""
    event_type = event["event_type"]
    resource = event["resource"]
    payload = {key: event[key] for key in ("id", "event_type", "create_time", "summary")} | {
        "resource": resource
    }
    if event_type.startswith("TRANSACTION."):
        txn = normalize_transaction(resource)
        if event_type != "TRANSACTION.SUCCESS" and txn["state"] != "SUCCESS":
            return f"{event_type} for {txn['out_trade_no']}: nothing to settle"
        result = settle_transaction(
            backend,
            txn,
            source=PaymentEvent.Kind.NOTIFY,
            event_id=event["id"] or None,
            payload=payload,
        )
        return f"{event_type} {txn['out_trade_no']}: {result.outcome}"
    if event_type.startswith("REFUND."):
        if str(resource.get("mchid", "")) != backend.mchid:
            raise MerchantMismatch(
                f"refund event for mchid {resource.get('mchid')!r}", reason="mchid"
            )
        out_refund_no = str(resource.get("out_refund_no", ""))
        status = str(resource.get("refund_status", ""))
        if not out_refund_no or not status:
            raise MalformedNotification("refund event lacks out_refund_no or refund_status")
        try:
            order = do_complete_refund(
                out_refund_no,
                status,
                provider=backend.order_provider,
                event_id=event["id"] or None,
                payload=payload,
            )
        except ValueError as exc:
            raise MalformedNotification(str(exc)) from exc
        return f"{event_type} {out_refund_no}: order {order.out_trade_no} {order.status}"
    # Events we do not act on are acknowledged, or WeChat would resend them for a day.
    return f"{event_type}: ignored"


def settle_from_query(backend: WeChatPayBackend, out_trade_no: str) -> SettleResult | None:
    """已付款请点这里: ask the provider, settle if it says SUCCESS; None when it is not paid."""
    txn = backend.query(out_trade_no)
    if txn is None or txn["state"] != "SUCCESS":
        log.info(
            "query %s via %s: %s",
            out_trade_no,
            backend.alias,
            txn["state"] if txn else "unknown to provider",
        )
        return None
    return settle_transaction(backend, txn, source=PaymentEvent.Kind.QUERY)


def handle_alipay_notification(backend: Any, txn: dict[str, Any]) -> str:
    """Act on a verified Alipay notification; TRADE_SUCCESS/TRADE_FINISHED settle, the rest is acknowledged."""
    if txn["state"] != "SUCCESS":
        return f"{txn['raw'].get('trade_status')} for {txn['out_trade_no']}: nothing to settle"
    result = settle_transaction(
        backend,
        txn,
        source=PaymentEvent.Kind.NOTIFY,
        event_id=txn.get("event_id"),
        payload=txn["raw"],
    )
    return f"{txn['raw'].get('trade_status')} {txn['out_trade_no']}: {result.outcome}"
