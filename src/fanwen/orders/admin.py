"""Staff views of plans, prices, orders and the audit trail; money moves only through actions.py."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from fanwen.lib.money import AmountError, fen_to_yuan, yuan_to_fen
from fanwen.orders.actions import do_grant, do_refund
from fanwen.orders.errors import OrderStateError
from fanwen.orders.models import Entitlement, Order, PaymentEvent, Plan, PriceOverride


def _yuan(fen: int | None) -> str:
    return "" if fen is None else fen_to_yuan(fen)


class YuanField(forms.CharField):
    """A price typed in 元 ("4.99", "5", "0.1") and kept in 分; anything else is refused."""

    def __init__(self, *, min_fen: int = 0, **kwargs) -> None:
        self.min_fen = min_fen
        kwargs.setdefault("help_text", "单位：元，最多两位小数，如 4.99")
        # No max_length validator: it would measure the cleaned 分, an int.
        widget = forms.TextInput(attrs={"maxlength": 16, "inputmode": "decimal", "size": 10})
        super().__init__(widget=widget, **kwargs)

    def prepare_value(self, value):
        # The form starts from the model's 分; what the staff typed comes back as they typed it.
        return _yuan(value) if isinstance(value, int) else value

    def to_python(self, value) -> int | None:
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            fen = yuan_to_fen(value.replace("元", "").replace("￥", "").replace("¥", ""))
        except AmountError:
            raise ValidationError("请输入以元为单位的金额，最多两位小数，如 4.99") from None
        if fen < self.min_fen:
            raise ValidationError(f"金额不能低于 {fen_to_yuan(self.min_fen)} 元")
        return fen


class PlanForm(forms.ModelForm):
    price_fen = YuanField(label="价格（元）", min_fen=1)
    list_price_fen = YuanField(label="原价（元）")

    class Meta:
        model = Plan
        fields = ["name", "price_fen", "list_price_fen", "days"]


class PriceOverrideForm(forms.ModelForm):
    price_fen = YuanField(label="价格（元）", min_fen=1)
    list_price_fen = YuanField(label="原价（元）", required=False)

    class Meta:
        model = PriceOverride
        fields = [
            "plan",
            "category",
            "article",
            "price_fen",
            "list_price_fen",
            "starts_at",
            "ends_at",
            "note",
        ]


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    form = PlanForm
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
    form = PriceOverrideForm
    list_display = [
        "plan",
        "article",
        "category",
        "price_yuan",
        "list_price_yuan",
        "starts_at",
        "ends_at",
        "note",
    ]
    list_filter = ["plan"]
    raw_id_fields = ["article"]
    search_fields = ["note", "article__title", "category__name"]

    @admin.display(description="价格（元）", ordering="price_fen")
    def price_yuan(self, override: PriceOverride) -> str:
        return _yuan(override.price_fen)

    @admin.display(description="原价（元）", ordering="list_price_fen")
    def list_price_yuan(self, override: PriceOverride) -> str:
        return _yuan(override.list_price_fen)


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
    actions = ["refund_orders", "grant_orders"]

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

    # --- staff actions: each asks for a reason first, then goes through orders.actions ------

    def _reason_form(
        self, request: HttpRequest, queryset: QuerySet, action: str, title: str, note: str
    ) -> HttpResponse | None:
        """The reason page; None once a reason was posted (the caller then acts on it)."""
        reason = request.POST.get("reason", "").strip()
        if request.POST.get("apply") and reason:
            return None
        if request.POST.get("apply"):
            self.message_user(request, "请填写原因。", messages.ERROR)
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "note": note,
            "orders": queryset,
            "action": action,
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/orders/order/reason.html", context)

    @admin.action(description="退款：原路退回并撤销权益（需填写原因）")
    def refund_orders(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        form = self._reason_form(
            request,
            queryset,
            "refund_orders",
            "退款",
            "全额原路退回；退款成功后撤销这些订单给出的权益。",
        )
        if form is not None:
            return form
        from fanwen.payments.errors import PaymentError
        from fanwen.payments.jobs import send_refund

        reason = request.POST["reason"].strip()
        for order in queryset:
            try:
                order = do_refund(order, reason=reason, staff=request.user)
                if order.status == Order.Status.PAID:
                    order = send_refund(order)
            except OrderStateError as exc:
                self.message_user(request, f"{order}：{exc}", messages.ERROR)
                continue
            except (PaymentError, ValueError) as exc:
                # Recorded as processing: the worker sends it again with the same refund number.
                self.message_user(
                    request,
                    f"{order}：退款已登记，支付平台暂未受理（{exc}），稍后自动重试。",
                    messages.WARNING,
                )
                continue
            self.message_user(
                request, f"{order}：{order.get_refund_status_display() or order.status}"
            )
        return None

    @admin.action(description="授权：不经付款给予该订单的权益（需填写原因）")
    def grant_orders(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        form = self._reason_form(
            request,
            queryset,
            "grant_orders",
            "授权",
            "给订单的买家开通该套餐的权益（如付款已核实但未到账），记入审计日志。",
        )
        if form is not None:
            return form
        reason = request.POST["reason"].strip()
        for order in queryset.select_related("plan", "article", "visitor", "user"):
            try:
                entitlement = do_grant(
                    staff=request.user,
                    visitor=order.visitor,
                    user=order.user,
                    kind=order.plan.entitlement_kind,
                    article=order.article,
                    note=f"订单 {order.out_trade_no}：{reason}",
                )
            except (PermissionDenied, ValueError) as exc:
                self.message_user(request, f"{order}：{exc}", messages.ERROR)
                continue
            self.message_user(request, f"{order}：已授权（权益 #{entitlement.pk}）")
        return None


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
