"""What every payment backend offers; the provider-specific work lives in the subclasses."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

# ProviderReport.state: what the provider says of the payment, in one vocabulary for all.
PAID = "paid"
PENDING = "pending"
CLOSED = "closed"
REFUNDED = "refunded"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class ProviderReport:
    """What a provider says about one payment (a query answer, a notification, a bill row).

    Backends build it only from verified data (a signed answer or notification); settlement
    reads nothing else. `mchid`/`appid` are the merchant and app the provider names (for Alipay
    the seller_id and app_id), checked against the backend's own before anything settles.
    """

    out_trade_no: str
    state: str  # PAID, PENDING, CLOSED, REFUNDED or UNKNOWN
    # The order's price in fen as the provider reports it (None: absent or not a whole fen).
    amount_fen: int | None = None
    currency: str = "CNY"
    txn_id: str = ""
    paid_at: dt.datetime | None = None
    payer_ref: str = ""
    mchid: str = ""
    appid: str = ""
    # The provider's own word for the state (SUCCESS, TRADE_FINISHED, ...), for logs.
    provider_state: str = ""
    # Notifications: the provider's event id (replays are recognised by it) and type.
    event_id: str | None = None
    event_type: str = ""
    # A refund event: its out_refund_no and the provider's refund status (SUCCESS, CLOSED, ...).
    out_refund_no: str = ""
    refund_status: str = ""
    # What the provider sent, as stored with the payment event.
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def paid(self) -> bool:
        return self.state == PAID

    @property
    def is_refund(self) -> bool:
        return bool(self.out_refund_no)


class PaymentBackend:
    # The Order.provider value of the orders this backend takes (settle checks it).
    provider: str = ""
    # The Order.channel values it can create.
    channels: tuple[str, ...] = ()
    # What its QR code links start with (the QR view draws no other links).
    qr_prefixes: tuple[str, ...] = ()
    # Its QR code links are web pages a desktop browser can open too (the sandbox's payer pages).
    qr_is_page: bool = False

    def __init__(self, alias: str, options: dict[str, Any]) -> None:
        self.alias = alias
        self.options = options

    @property
    def order_provider(self) -> str:
        return str(self.options.get("provider") or self.provider)

    @property
    def mchid(self) -> str:
        """Our merchant at the provider (WeChat mchid, Alipay seller_id; "" = not checked)."""
        return str(self.options.get("mchid") or "")

    @property
    def appid(self) -> str:
        """Our app at the provider (WeChat appid, Alipay app_id)."""
        return str(self.options.get("appid") or "")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.alias!r}>"

    def is_qr_link(self, data: str) -> bool:
        return bool(self.qr_prefixes) and data.startswith(self.qr_prefixes)

    def create(
        self,
        order: Any,
        channel: str,
        client_ip: str,
        openid: str | None = None,
        return_url: str | None = None,
    ) -> dict:
        """Open the payment at the provider; return what the page needs (QR url, redirect, JS params).

        `return_url`: the page a provider's own payment page sends the buyer back to, if it does.
        """
        raise NotImplementedError

    def query(self, out_trade_no: str) -> ProviderReport | None:
        """The provider's view of the payment; None if it never heard of it."""
        raise NotImplementedError

    def close(self, out_trade_no: str) -> None:
        raise NotImplementedError

    def refund(self, order: Any, *, out_refund_no: str | None = None, reason: str = "") -> dict:
        raise NotImplementedError

    def parse_notification(self, headers: Any, body: Any) -> ProviderReport:
        """Verify and decode a notification; raise NotificationRejected if it is not provably genuine."""
        raise NotImplementedError
