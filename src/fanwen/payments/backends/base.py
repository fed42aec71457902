"""What every payment backend offers; the provider-specific work lives in the subclasses."""

from __future__ import annotations

from typing import Any


class PaymentBackend:
    # The Order.provider value of the orders this backend takes (settle checks it).
    provider: str = ""
    # The Order.channel values it can create.
    channels: tuple[str, ...] = ()

    def __init__(self, alias: str, options: dict[str, Any]) -> None:
        self.alias = alias
        self.options = options

    @property
    def order_provider(self) -> str:
        return str(self.options.get("provider") or self.provider)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.alias!r}>"

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

    def query(self, out_trade_no: str) -> dict | None:
        """The provider's view of the payment, normalized; None if it never heard of it."""
        raise NotImplementedError

    def close(self, out_trade_no: str) -> None:
        raise NotImplementedError

    def refund(self, order: Any, *, out_refund_no: str | None = None, reason: str = "") -> dict:
        raise NotImplementedError

    def parse_notification(self, headers: Any, body: bytes) -> dict:
        """Verify and decode a notification; raise NotificationRejected if it is not provably genuine."""
        raise NotImplementedError
