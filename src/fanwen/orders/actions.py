"""Every write that touches money: orders, settlement, refunds, staff grants and restores.

Each action runs in one transaction; signals and log lines that announce a change wait for
the commit, so nobody hears of a payment that was rolled back.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from fanwen.accounts.models import Visitor
from fanwen.library.models import Article
from fanwen.orders.errors import (
    AmountMismatch,
    ConflictingPayment,
    CurrencyMismatch,
    InvalidOrder,
    MerchantMismatch,
    OrderNotPaid,
    OrderStateError,
    PaymentError,
    ProviderMismatch,
    UnknownOrder,
    UnknownRefund,
    VerificationFailed,
)
from fanwen.orders.models import (
    Entitlement,
    EntitlementPlace,
    Order,
    PaymentEvent,
    Plan,
    price_for,
    refund_no_for,
)
from fanwen.orders.signals import order_paid, places_dropped

log = logging.getLogger(__name__)

# Each sandbox emulates one provider, so it takes that provider's channels.
PROVIDER_CHANNELS: dict[str, set[str]] = {
    Order.Provider.WECHAT: {Order.Channel.NATIVE, Order.Channel.H5, Order.Channel.JSAPI},
    Order.Provider.SANDBOX: {Order.Channel.NATIVE, Order.Channel.H5, Order.Channel.JSAPI},
    Order.Provider.ALIPAY: {Order.Channel.ALIPAY_QR, Order.Channel.ALIPAY_WAP},
    Order.Provider.ALIPAY_SANDBOX: {Order.Channel.ALIPAY_QR, Order.Channel.ALIPAY_WAP},
}
SETTLE_SOURCES = {PaymentEvent.Kind.NOTIFY, PaymentEvent.Kind.QUERY, PaymentEvent.Kind.RECONCILE}
REFUND_STATUSES = {
    "SUCCESS": Order.RefundStatus.SUCCESS,
    "PROCESSING": Order.RefundStatus.PROCESSING,
    "CLOSED": Order.RefundStatus.CLOSED,
    "ABNORMAL": Order.RefundStatus.ABNORMAL,
}

SETTLED = "settled"
ALREADY_SETTLED = "already_settled"
DUPLICATE_EVENT = "duplicate_event"


@dataclass(frozen=True)
class SettleResult:
    order: Order
    # "settled" (this call paid the order), "already_settled" or "duplicate_event" (no-ops).
    outcome: str
    entitlement: Entitlement | None = None
    # Paid after the order was closed: honoured, but worth a look by staff.
    late: bool = False

    @property
    def settled_now(self) -> bool:
        return self.outcome == SETTLED


def _user_or_none(user: Any) -> Any:
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def _lock_holder(visitor: Visitor | None, user: Any) -> None:
    # Serialises pass stacking per buyer; always taken after the order lock (see do_merge_visitor).
    if visitor is not None:
        list(Visitor.objects.select_for_update().filter(pk=visitor.pk).values_list("pk"))
    if user is not None:
        list(get_user_model().objects.select_for_update().filter(pk=user.pk).values_list("pk"))


def _pass_window(
    visitor: Visitor | None, user: Any, at: dt.datetime, days: int
) -> tuple[dt.datetime, dt.datetime]:
    """A new pass starts when the holder's current one ends (or at `at`) and lasts `days` days."""
    _lock_holder(visitor, user)
    current_end = Entitlement.objects.latest_pass_end(visitor, user, at)
    starts_at = max(at, current_end) if current_end else at
    return starts_at, starts_at + dt.timedelta(days=days)


# --- orders -----------------------------------------------------------------------------------


def do_create_order(
    *,
    visitor: Visitor,
    plan_code: str,
    article: Article | None = None,
    provider: str,
    channel: str,
    user: Any = None,
    mchid: str = "",
    appid: str = "",
) -> Order:
    """A pending order priced by the server (never the browser), payable for ~30 minutes."""
    plan = Plan.objects.filter(code=plan_code).first()
    if plan is None:
        raise InvalidOrder(f"unknown plan {plan_code!r}")
    if plan.needs_article and article is None:
        raise InvalidOrder(f"plan {plan_code} needs an article")
    if article is not None and not article.is_public:
        raise InvalidOrder(f"article {article.pk} is not published")
    if channel not in PROVIDER_CHANNELS.get(provider, set()):
        raise InvalidOrder(f"channel {channel!r} is not offered by provider {provider!r}")
    price = price_for(plan, article)
    now = timezone.now()
    with transaction.atomic():
        # 100 random bits per number: a collision is not worth a retry loop.
        order = Order.objects.create(
            visitor=visitor,
            user=_user_or_none(user),
            plan=plan,
            article=article,
            amount_fen=price.price_fen,
            list_price_fen=price.list_price_fen,
            provider=provider,
            channel=channel,
            mchid=mchid,
            appid=appid,
            created_at=now,
            expires_at=now + dt.timedelta(minutes=settings.FANWEN_ORDER_TTL_MINUTES),
        )
        transaction.on_commit(
            lambda: log.info(
                "order %s created: %s %s fen via %s/%s",
                order.out_trade_no,
                plan.code,
                order.amount_fen,
                provider,
                channel,
            )
        )
    return order


def do_settle_order(
    out_trade_no: str,
    *,
    provider: str,
    txn_id: str,
    amount_fen: int,
    currency: str,
    mchid: str | None = None,
    appid: str | None = None,
    paid_at: dt.datetime,
    payer_ref: str = "",
    event_id: str | None = None,
    source: str = PaymentEvent.Kind.NOTIFY,
    payload: dict | None = None,
    expected_mchid: str | None = None,
    expected_appid: str | None = None,
) -> SettleResult:
    """The one idempotent way an order becomes paid: notification, query and reconcile all end here.

    The arguments are what the provider reported, after the caller verified its signature.
    `expected_mchid`/`expected_appid` come from the backend's settings; the order's own
    mchid/appid are used when they are not given. A rejected report raises a PaymentError and
    leaves a PaymentEvent behind, and grants nothing.
    """
    if source not in SETTLE_SOURCES:
        raise ValueError(f"unknown settle source {source!r}")
    reported = {
        "txn_id": txn_id,
        "amount_fen": amount_fen,
        "currency": currency,
        "mchid": mchid,
        "appid": appid,
        "paid_at": paid_at,
        "payer_ref": payer_ref,
        "event_id": event_id,
    }
    event_payload = {"reported": reported, "raw": payload or {}}
    try:
        with transaction.atomic():
            return _settle(
                out_trade_no,
                provider=provider,
                reported=reported,
                source=source,
                event_payload=event_payload,
                expected_mchid=expected_mchid,
                expected_appid=expected_appid,
            )
    except (UnknownOrder, VerificationFailed, ConflictingPayment) as exc:
        # The settle transaction rolled back; the rejection is recorded on its own.
        _record_rejection(out_trade_no, provider, source, event_payload, exc)
        raise


def _settle(
    out_trade_no: str,
    *,
    provider: str,
    reported: dict,
    source: str,
    event_payload: dict,
    expected_mchid: str | None,
    expected_appid: str | None,
) -> SettleResult:
    # The plan comes along (it decides the grant); only the order row itself is locked.
    locked = Order.objects.select_for_update(of=("self",)).select_related("plan")
    order = locked.filter(out_trade_no=out_trade_no).first()
    if order is None:
        raise UnknownOrder(f"no order {out_trade_no!r}")
    _verify(order, provider, reported, expected_mchid or order.mchid, expected_appid or order.appid)
    txn_id, event_id = reported["txn_id"], reported["event_id"]

    def record(outcome: str, *, keep_event_id: bool = True) -> None:
        PaymentEvent.objects.create(
            order=order,
            out_trade_no=order.out_trade_no,
            provider=provider,
            kind=source,
            provider_event_id=event_id if keep_event_id else None,
            payload=event_payload,
            outcome=outcome,
        )

    if event_id and PaymentEvent.objects.filter(provider_event_id=event_id).exists():
        record(f"duplicate event {event_id}: ignored", keep_event_id=False)
        return SettleResult(order, DUPLICATE_EVENT)
    if order.status in (Order.Status.PAID, Order.Status.REFUNDED):
        if order.provider_txn_id == txn_id:
            record(f"already settled ({order.status}): ignored")
            return SettleResult(order, ALREADY_SETTLED)
        raise ConflictingPayment(
            f"order {order.out_trade_no} is {order.status} by {order.provider_txn_id}, reported {txn_id}"
        )
    if Order.objects.filter(provider_txn_id=txn_id).exclude(pk=order.pk).exists():
        raise ConflictingPayment(f"transaction {txn_id} already settled another order")

    # A payment that lands after we closed the order is still the buyer's money: honour it.
    late = order.status == Order.Status.CLOSED
    order.status = Order.Status.PAID
    order.provider_txn_id = txn_id
    order.paid_at = reported["paid_at"]
    order.payer_ref = (reported["payer_ref"] or "")[:128]
    order.save(update_fields=["status", "provider_txn_id", "paid_at", "payer_ref"])
    entitlement = _grant_for_order(order)
    record("settled after close: late payment honoured" if late else "settled")

    def announce() -> None:
        log.log(
            logging.WARNING if late else logging.INFO,
            "order %s paid (%s, txn %s, %s fen)%s",
            order.out_trade_no,
            source,
            txn_id,
            order.amount_fen,
            " after close" if late else "",
        )
        order_paid.send(sender=Order, order=order, entitlement=entitlement, late=late)

    transaction.on_commit(announce)
    return SettleResult(order, SETTLED, entitlement, late)


def _verify(
    order: Order, provider: str, reported: dict, expected_mchid: str, expected_appid: str
) -> None:
    if not reported["txn_id"]:
        raise VerificationFailed("the report has no transaction id", reason="txn_id")
    if provider != order.provider:
        raise ProviderMismatch(f"order is for {order.provider}, report came from {provider}")
    if reported["amount_fen"] != order.amount_fen:
        raise AmountMismatch(
            f"amount {reported['amount_fen']!r} fen, order is {order.amount_fen} fen"
        )
    if reported["currency"] != order.currency:
        raise CurrencyMismatch(f"currency {reported['currency']!r}, order is {order.currency}")
    # Checked whenever we know what to expect; a report without the field then fails too.
    if expected_mchid and reported["mchid"] != expected_mchid:
        raise MerchantMismatch(
            f"mchid {reported['mchid']!r}, expected {expected_mchid!r}", reason="mchid"
        )
    if expected_appid and reported["appid"] != expected_appid:
        raise MerchantMismatch(
            f"appid {reported['appid']!r}, expected {expected_appid!r}", reason="appid"
        )


def _record_rejection(
    out_trade_no: str, provider: str, source: str, payload: dict, exc: PaymentError
) -> None:
    reason = getattr(exc, "reason", type(exc).__name__)
    with transaction.atomic():
        order = Order.objects.filter(out_trade_no=out_trade_no).first()
        PaymentEvent.objects.create(
            order=order,
            out_trade_no=out_trade_no[:64],
            provider=provider,
            kind=source,
            payload=payload,
            outcome=f"rejected ({reason}): {exc}",
        )
    level = logging.WARNING if isinstance(exc, UnknownOrder) else logging.ERROR
    log.log(
        level, "settle %s via %s/%s rejected (%s): %s", out_trade_no, provider, source, reason, exc
    )


def _grant_for_order(order: Order) -> Entitlement:
    plan = order.plan
    if plan.entitlement_kind == Entitlement.Kind.PASS:
        # The pass counts from the payment, not from when we heard of it.
        starts_at, ends_at = _pass_window(order.visitor, order.user, order.paid_at, plan.days or 30)
    else:
        starts_at = order.paid_at
        ends_at = order.paid_at + dt.timedelta(days=plan.days) if plan.days else None
    return Entitlement.objects.create(
        visitor_id=order.visitor_id,
        user_id=order.user_id,
        kind=plan.entitlement_kind,
        article_id=order.article_id if plan.entitlement_kind == Entitlement.Kind.ARTICLE else None,
        starts_at=starts_at,
        ends_at=ends_at,
        order=order,
    )


def do_close_order(order: Order, *, reason: str = "") -> Order:
    """Close a pending order (expired or abandoned); any other status is left as it is.

    Closing the provider's side is the backend's job; a payment that still arrives is honoured.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status != Order.Status.PENDING:
            return order
        order.status = Order.Status.CLOSED
        order.closed_at = timezone.now()
        order.save(update_fields=["status", "closed_at"])
        PaymentEvent.objects.create(
            order=order,
            out_trade_no=order.out_trade_no,
            provider=order.provider,
            kind=PaymentEvent.Kind.CLOSE,
            payload={"reason": reason},
            outcome=f"closed{': ' + reason if reason else ''}",
        )
    return order


# --- refunds ----------------------------------------------------------------------------------


def do_refund(order: Order, *, reason: str, staff: Any = None) -> Order:
    """Record a full refund request under the order's fixed out_refund_no; the backend sends it.

    Asking again is harmless: the number is the same, so the provider refunds at most once.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status == Order.Status.REFUNDED:
            return order
        if order.status != Order.Status.PAID:
            raise OrderStateError(
                f"order {order.out_trade_no} is {order.status}, only paid orders are refunded"
            )
        order.out_refund_no = refund_no_for(order.out_trade_no)
        order.refund_status = Order.RefundStatus.PROCESSING
        order.refund_reason = reason[:200]
        order.refund_requested_at = timezone.now()
        order.refund_requested_by = _user_or_none(staff)
        order.save(
            update_fields=[
                "out_refund_no",
                "refund_status",
                "refund_reason",
                "refund_requested_at",
                "refund_requested_by",
            ]
        )
        PaymentEvent.objects.create(
            order=order,
            out_trade_no=order.out_trade_no,
            provider=order.provider,
            kind=PaymentEvent.Kind.REFUND,
            payload={
                "out_refund_no": order.out_refund_no,
                "amount_fen": order.amount_fen,
                "reason": reason,
            },
            outcome="refund requested",
            staff=_user_or_none(staff),
        )
    return order


def do_complete_refund(
    out_refund_no: str,
    status: str,
    *,
    provider: str = "",
    event_id: str | None = None,
    payload: dict | None = None,
) -> Order:
    """Apply the provider's refund result (SUCCESS/PROCESSING/CLOSED/ABNORMAL); SUCCESS revokes access."""
    refund_status = REFUND_STATUSES.get(status.upper())
    if refund_status is None:
        raise ValueError(f"unknown refund status {status!r}")
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(out_refund_no=out_refund_no).first()
        if order is None:
            raise UnknownRefund(f"no refund {out_refund_no!r}")
        duplicate = (
            bool(event_id) and PaymentEvent.objects.filter(provider_event_id=event_id).exists()
        )
        if duplicate or order.status == Order.Status.REFUNDED:
            outcome = f"refund {status.upper()}: ignored ({'duplicate event' if duplicate else 'already refunded'})"
        elif refund_status == Order.RefundStatus.SUCCESS:
            now = timezone.now()
            order.status = Order.Status.REFUNDED
            order.refund_status = refund_status
            order.refunded_at = now
            order.save(update_fields=["status", "refund_status", "refunded_at"])
            # One save per row (an order grants one): receivers drop the holder's cached rights.
            revoked = 0
            for entitlement in order.entitlements.filter(revoked_at__isnull=True):
                entitlement.revoked_at = now
                entitlement.save(update_fields=["revoked_at"])
                revoked += 1
            outcome = f"refunded, {revoked} entitlement(s) revoked"
        else:
            order.refund_status = refund_status
            order.save(update_fields=["refund_status"])
            outcome = f"refund {status.upper()}"
        PaymentEvent.objects.create(
            order=order,
            out_trade_no=order.out_trade_no,
            provider=provider or order.provider,
            kind=PaymentEvent.Kind.REFUND,
            provider_event_id=None if duplicate else event_id,
            payload={"out_refund_no": out_refund_no, "status": status, "raw": payload or {}},
            outcome=outcome,
        )
    log.info("refund %s: %s", out_refund_no, outcome)
    return order


# --- staff grants and restores ----------------------------------------------------------------


def do_grant(
    *,
    staff: Any,
    visitor: Visitor | None = None,
    user: Any = None,
    kind: str,
    article: Article | None = None,
    days: int | None = None,
    note: str,
) -> Entitlement:
    """Support gives access without a payment (a goodwill pass, a lost order); always logged.

    An article grant without `days` is forever; a pass grant without `days` lasts as long as the
    pass plan, and stacks after the holder's current pass like a bought one.
    """
    if not getattr(staff, "is_staff", False):
        raise PermissionDenied("only staff grant access")
    user = _user_or_none(user)
    if visitor is None and user is None:
        raise ValueError("a grant needs a visitor or a user")
    if not note.strip():
        raise ValueError("a grant needs a note saying why")
    if kind not in Entitlement.Kind.values:
        raise ValueError(f"unknown kind {kind!r}")
    if kind == Entitlement.Kind.ARTICLE and article is None:
        raise ValueError("an article grant needs an article")
    now = timezone.now()
    with transaction.atomic():
        if kind == Entitlement.Kind.PASS:
            if days is None:
                pass_plan = Plan.objects.filter(code=Plan.Code.PASS_30D).first()
                days = pass_plan.days if pass_plan and pass_plan.days else 30
            starts_at, ends_at = _pass_window(visitor, user, now, days)
            article = None
        else:
            starts_at, ends_at = now, (now + dt.timedelta(days=days) if days else None)
        entitlement = Entitlement.objects.create(
            visitor=visitor,
            user=user,
            kind=kind,
            article=article,
            starts_at=starts_at,
            ends_at=ends_at,
            granted_by=staff,
            note=note[:200],
        )
        PaymentEvent.objects.create(
            kind=PaymentEvent.Kind.GRANT,
            payload={
                "entitlement": entitlement.pk,
                "visitor": str(visitor.pk) if visitor else None,
                "user": user.pk if user else None,
                "kind": kind,
                "article": article.pk if article else None,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "note": note,
            },
            outcome=f"granted {kind}" + (f" for {days} days" if days else ""),
            staff=staff,
        )
    return entitlement


@dataclass(frozen=True)
class RestoreResult:
    entitlements: list[Entitlement]
    # Browsers each right is held in now (this one included), and how many dropped out for it.
    places: int
    dropped: int
    added_to_account: bool


def do_restore(*, visitor: Visitor, number: str, user: Any = None) -> RestoreResult:
    """Add a paid order's rights to this browser (and account), found by our number or the provider's.

    Added, not moved: the buyer's other browsers keep it. Up to FANWEN_RESTORE_PLACES browsers
    hold one order; restoring to one more drops the longest-held, so a number posted online
    opens a few browsers at a time rather than everyone's, and the buyer can always take it
    back. A pass keeps its dates. A logged-in buyer's account gets an unowned right, so any
    browser they log in to has it; a right owned by another account stays that account's.
    """
    number = (number or "").strip()
    if not number or len(number) > 64:
        raise UnknownOrder("empty or overlong number")
    user = _user_or_none(user)
    limit = settings.FANWEN_RESTORE_PLACES
    now = timezone.now()
    with transaction.atomic():
        orders = Order.objects.select_for_update()
        # Our numbers are upper-case; buyers type them however they like.
        order = (
            orders.filter(out_trade_no=number.upper()).first()
            or orders.filter(provider_txn_id=number).first()
        )
        if order is None:
            log.info("restore: unknown number %r for visitor %s", number, visitor.pk)
            raise UnknownOrder(f"no order or transaction {number!r}")
        if order.status != Order.Status.PAID:
            raise OrderNotPaid(f"order {order.out_trade_no} is {order.status}")
        entitlements = list(order.entitlements.select_for_update().filter(revoked_at__isnull=True))
        dropped: list[str] = []
        places = 0
        added_to_account = False
        for entitlement in entitlements:
            if user is not None and entitlement.user_id is None:
                entitlement.user = user
                entitlement.save(update_fields=["user"])
                added_to_account = True
            if not entitlement.held_in(visitor):
                if entitlement.visitor_id is None:
                    # A right granted to an account only: this browser becomes its first place.
                    entitlement.visitor, entitlement.visitor_since = visitor, now
                    entitlement.save(update_fields=["visitor", "visitor_since"])
                else:
                    EntitlementPlace.objects.create(
                        entitlement=entitlement, visitor=visitor, added_at=now
                    )
                dropped += _drop_oldest_places(entitlement, limit)
            places = max(places, 1 + entitlement.places.count())
        PaymentEvent.objects.create(
            order=order,
            out_trade_no=order.out_trade_no,
            provider=order.provider,
            kind=PaymentEvent.Kind.RESTORE,
            payload={
                "number": number,
                "to_visitor": str(visitor.pk),
                "user": user.pk if user else None,
                "dropped_visitors": dropped,
                "places": places,
            },
            outcome=f"restored {len(entitlements)} entitlement(s), {places} place(s), "
            f"dropped {len(dropped)}",
        )
        if dropped:
            transaction.on_commit(
                lambda: places_dropped.send(sender=Order, visitor_ids=list(dropped))
            )
    return RestoreResult(entitlements, places, len(dropped), added_to_account)


def _drop_oldest_places(entitlement: Entitlement, limit: int) -> list[str]:
    """Keep the `limit` browsers that got the right most recently; returns the dropped ones."""
    extra = list(entitlement.places.order_by("added_at", "pk"))
    held = [
        (entitlement.visitor_since or entitlement.created_at, None),
        *((p.added_at, p) for p in extra),
    ]
    dropped = []
    while len(held) > limit:
        held.sort(key=lambda item: (item[0], item[1].pk if item[1] else 0))
        _, oldest = held.pop(0)
        if oldest is None:
            # The first browser goes: the oldest restored one takes its column.
            dropped.append(str(entitlement.visitor_id))
            promoted = min((p for _, p in held), key=lambda p: (p.added_at, p.pk))
            held.remove((promoted.added_at, promoted))
            held.append((promoted.added_at, None))
            entitlement.visitor_id, entitlement.visitor_since = (
                promoted.visitor_id,
                promoted.added_at,
            )
            promoted.delete()
            entitlement.save(update_fields=["visitor", "visitor_since"])
        else:
            dropped.append(str(oldest.visitor_id))
            oldest.delete()
    return dropped
