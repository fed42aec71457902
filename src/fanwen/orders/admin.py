"""Staff views of plans, prices, orders and the audit trail; money moves only through actions.py."""

from django.contrib import admin

from fanwen.lib.money import fen_to_yuan
from fanwen.orders.models import Entitlement, Order, PaymentEvent, Plan, PriceOverride


def _yuan(fen: int | None) -> str:
    return "" if fen is None else fen_to_yuan(fen)


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "price_yuan", "list_price_yuan", "days"]
    readonly_fields = ["code"]

    @admin.display(description="价格（元）")
    def price_yuan(self, plan: Plan) -> str:
        return _yuan(plan.price_fen)

    @admin.display(description="原价（元）")
    def list_price_yuan(self, plan: Plan) -> str:
        return _yuan(plan.list_price_fen)

    def has_add_permission(self, request) -> bool:
        # The code decides what a plan grants: the two plans come from the migration.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PriceOverride)
class PriceOverrideAdmin(admin.ModelAdmin):
    list_display = [
        "plan",
        "article",
        "category",
        "price_fen",
        "list_price_fen",
        "starts_at",
        "ends_at",
        "note",
    ]
    list_filter = ["plan"]
    raw_id_fields = ["article"]
    search_fields = ["note", "article__title", "category__name"]


class EntitlementInline(admin.TabularInline):
    model = Entitlement
    extra = 0
    can_delete = False
    fields = ["kind", "article", "visitor", "user", "starts_at", "ends_at", "revoked_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class PaymentEventInline(admin.TabularInline):
    model = PaymentEvent
    extra = 0
    can_delete = False
    fields = ["received_at", "kind", "provider", "provider_event_id", "outcome", "staff"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "out_trade_no",
        "status",
        "plan",
        "article",
        "amount_yuan",
        "provider",
        "channel",
        "created_at",
        "paid_at",
        "refund_status",
    ]
    list_filter = ["status", "provider", "channel", "plan", "refund_status"]
    # Support finds an order by whatever number the buyer has.
    search_fields = ["=out_trade_no", "=provider_txn_id", "=payer_ref", "=out_refund_no"]
    date_hierarchy = "created_at"
    list_select_related = ["plan", "article"]
    inlines = [EntitlementInline, PaymentEventInline]

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        # Every field: status and money change only through orders.actions, which log them.
        return [field.name for field in Order._meta.fields]

    @admin.display(description="金额（元）", ordering="amount_fen")
    def amount_yuan(self, order: Order) -> str:
        return _yuan(order.amount_fen)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PaymentEvent)
class PaymentEventAdmin(admin.ModelAdmin):
    list_display = ["received_at", "kind", "provider", "out_trade_no", "outcome", "staff"]
    list_filter = ["kind", "provider"]
    search_fields = ["=out_trade_no", "=provider_event_id", "outcome"]
    date_hierarchy = "received_at"

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        return [field.name for field in PaymentEvent._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Append-only: staff may look (view permission), never edit.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Entitlement)
class EntitlementAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "article",
        "visitor",
        "user",
        "starts_at",
        "ends_at",
        "revoked_at",
        "order",
    ]
    list_filter = ["kind"]
    search_fields = ["=order__out_trade_no", "=order__provider_txn_id", "note"]
    raw_id_fields = ["article", "order", "visitor", "user"]

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        # Grants, revocations and restores go through orders.actions, which log them.
        return [field.name for field in Entitlement._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
