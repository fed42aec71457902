"""Sent on commit by orders.actions, for caches, dashboards and mail that follow a payment."""

from django.dispatch import Signal

# kwargs: order, entitlement, late (paid after the order was closed)
order_paid = Signal()

# kwargs: visitor_ids (str) — browsers a restore elsewhere took an order's right from
places_dropped = Signal()
