"""Plans and prices, orders, the payment audit trail, and what a buyer is entitled to."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any, TypedDict

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from fanwen.lib.money import fen_to_yuan
from fanwen.library.models import Article

# 32 symbols without 0/O/1/I: a buyer can read the number to support over the phone.
ORDER_NO_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
# 20 symbols x 5 bits = 100 random bits: numbers cannot be guessed to restore someone else's buy.
ORDER_NO_RANDOM_LENGTH = 20


def new_out_trade_no() -> str:
    """YYYYMMDD (Beijing date, for people) + 20 random symbols; 28 chars, valid for WeChat and Alipay."""
    day = timezone.localdate().strftime("%Y%m%d")
    return day + "".join(secrets.choice(ORDER_NO_ALPHABET) for _ in range(ORDER_NO_RANDOM_LENGTH))


def refund_no_for(out_trade_no: str) -> str:
    # Deterministic, so retrying a refund request can never refund twice (providers dedupe on it).
    return "R" + out_trade_no


def _is_user(user: Any) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


class Plan(models.Model):
    class Code(models.TextChoices):
        ARTICLE_COPY = "article_copy", "单篇复制/下载"
        PASS_30D = "pass_30d", "包月30天"

    code = models.CharField("代码", max_length=20, choices=Code.choices, unique=True)
    name = models.CharField("名称", max_length=50)
    price_fen = models.PositiveIntegerField("价格（分）", validators=[MinValueValidator(1)])
    list_price_fen = models.PositiveIntegerField("原价（分）")
    # Empty means forever (a bought article stays bought); a pass needs a number of days.
    days = models.PositiveIntegerField("有效天数", null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "套餐"
        verbose_name_plural = "套餐"

    def __str__(self) -> str:
        return self.name

    @property
    def entitlement_kind(self) -> str:
        return (
            Entitlement.Kind.ARTICLE
            if self.code == self.Code.ARTICLE_COPY
            else Entitlement.Kind.PASS
        )

    @property
    def needs_article(self) -> bool:
        return self.code == self.Code.ARTICLE_COPY

    def price_for(self, article: Article | None = None, *, at: dt.datetime | None = None) -> Price:
        return price_for(self, article, at=at)


class PriceOverrideQuerySet(models.QuerySet):
    def active(self, at: dt.datetime | None = None) -> PriceOverrideQuerySet:
        at = at or timezone.now()
        return self.filter(Q(starts_at__isnull=True) | Q(starts_at__lte=at)).filter(
            Q(ends_at__isnull=True) | Q(ends_at__gt=at)
        )


class PriceOverride(models.Model):
    """A price for one article, one category (and its subcategories) or the whole plan, maybe timed."""

    plan = models.ForeignKey(
        Plan, related_name="overrides", on_delete=models.CASCADE, verbose_name="套餐"
    )
    category = models.ForeignKey(
        "library.Category",
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.CASCADE,
        verbose_name="分类",
    )
    article = models.ForeignKey(
        "library.Article",
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.CASCADE,
        verbose_name="文章",
    )
    price_fen = models.PositiveIntegerField("价格（分）", validators=[MinValueValidator(1)])
    # Empty keeps the plan's list price (the crossed-out 原价).
    list_price_fen = models.PositiveIntegerField("原价（分）", null=True, blank=True)
    starts_at = models.DateTimeField("开始", null=True, blank=True)
    ends_at = models.DateTimeField("结束", null=True, blank=True)
    note = models.CharField("备注", max_length=100, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    objects = PriceOverrideQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "-created_at"]
        verbose_name = "价格调整"
        verbose_name_plural = "价格调整"
        constraints = [
            models.CheckConstraint(
                condition=Q(category__isnull=True) | Q(article__isnull=True),
                name="priceoverride_category_or_article",
            ),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True)
                | Q(ends_at__isnull=True)
                | Q(ends_at__gt=models.F("starts_at")),
                name="priceoverride_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        target = self.article or self.category or "全部"
        return f"{self.plan} @ {target}: {fen_to_yuan(self.price_fen)}元"


def next_price_change(at: dt.datetime | None = None) -> dt.datetime | None:
    """When the next timed override starts or ends: until then every price_for() stays the same."""
    at = at or timezone.now()
    starts = PriceOverride.objects.filter(starts_at__gt=at).aggregate(m=models.Min("starts_at"))
    ends = PriceOverride.objects.filter(ends_at__gt=at).aggregate(m=models.Min("ends_at"))
    return min((t for t in (starts["m"], ends["m"]) if t is not None), default=None)


@dataclass(frozen=True)
class Price:
    price_fen: int
    list_price_fen: int
    override: PriceOverride | None = None


def price_for(
    plan: Plan, article: Article | None = None, *, at: dt.datetime | None = None
) -> Price:
    """The price now: article override > nearest category override (ancestors too) > plan-wide > plan.

    Among overrides of the same rank the newest wins: the operator's latest decision.
    """
    targets = Q(category__isnull=True, article__isnull=True)
    category_rank: dict[int, int] = {}
    if article is not None:
        # Nearest category first: a subcategory's price beats its parent's.
        for rank, category in enumerate(reversed(article.category.ancestors()), start=1):
            category_rank[category.pk] = rank
        targets |= Q(article=article) | Q(category_id__in=list(category_rank))
    candidates = (
        PriceOverride.objects.active(at)
        .filter(plan=plan)
        .filter(targets)
        .order_by("-created_at", "-pk")
    )

    def rank(override: PriceOverride) -> int:
        if override.article_id is not None:
            return 0
        if override.category_id is not None:
            return category_rank[override.category_id]
        return len(category_rank) + 1

    # min() keeps the first of equal ranks, and the queryset lists the newest first.
    best = min(candidates, key=rank, default=None)
    if best is None:
        return Price(plan.price_fen, plan.list_price_fen)
    list_price = best.list_price_fen if best.list_price_fen is not None else plan.list_price_fen
    return Price(best.price_fen, list_price, best)


class Order(models.Model):
    class Provider(models.TextChoices):
        WECHAT = "wechat", "微信支付"
        ALIPAY = "alipay", "支付宝"
        SANDBOX = "sandbox", "沙箱（测试）"
        ALIPAY_SANDBOX = "alipay_sbx", "支付宝沙箱（测试）"

    class Channel(models.TextChoices):
        NATIVE = "native", "微信扫码"
        H5 = "h5", "微信H5"
        JSAPI = "jsapi", "微信内支付"
        ALIPAY_QR = "alipay_qr", "支付宝扫码"
        ALIPAY_WAP = "alipay_wap", "支付宝手机网站"

    class Status(models.TextChoices):
        PENDING = "pending", "待支付"
        PAID = "paid", "已支付"
        CLOSED = "closed", "已关闭"
        REFUNDED = "refunded", "已退款"

    class RefundStatus(models.TextChoices):
        NONE = "", "无"
        PROCESSING = "processing", "退款中"
        SUCCESS = "success", "退款成功"
        CLOSED = "closed", "退款关闭"
        ABNORMAL = "abnormal", "退款异常"

    out_trade_no = models.CharField(
        "订单号", max_length=32, unique=True, default=new_out_trade_no, editable=False
    )
    visitor = models.ForeignKey(
        "accounts.Visitor", related_name="orders", on_delete=models.PROTECT, verbose_name="访客"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="orders",
        on_delete=models.SET_NULL,
        verbose_name="账户",
    )
    plan = models.ForeignKey(
        Plan, related_name="orders", on_delete=models.PROTECT, verbose_name="套餐"
    )
    article = models.ForeignKey(
        "library.Article",
        null=True,
        blank=True,
        related_name="orders",
        on_delete=models.PROTECT,
        verbose_name="文章",
    )
    amount_fen = models.PositiveIntegerField("金额（分）")
    list_price_fen = models.PositiveIntegerField("原价（分）")
    currency = models.CharField("币种", max_length=3, default="CNY")
    provider = models.CharField("支付方式", max_length=10, choices=Provider.choices)
    channel = models.CharField("渠道", max_length=12, choices=Channel.choices)
    # The merchant and app the payment must go to, when known at creation (settle checks them).
    mchid = models.CharField("商户号", max_length=32, blank=True)
    appid = models.CharField("AppID", max_length=32, blank=True)
    status = models.CharField(
        "状态", max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    provider_txn_id = models.CharField(
        "交易单号", max_length=64, unique=True, null=True, blank=True
    )
    # WeChat openid or Alipay buyer id/logon: lets support find an order from what the buyer sees.
    payer_ref = models.CharField("付款人标识", max_length=128, blank=True, db_index=True)
    paid_at = models.DateTimeField("支付时间", null=True, blank=True)
    closed_at = models.DateTimeField("关闭时间", null=True, blank=True)
    expires_at = models.DateTimeField("过期时间")
    created_at = models.DateTimeField("创建时间", default=timezone.now, db_index=True)
    out_refund_no = models.CharField("退款单号", max_length=64, unique=True, null=True, blank=True)
    refund_status = models.CharField(
        "退款状态",
        max_length=12,
        choices=RefundStatus.choices,
        default=RefundStatus.NONE,
        blank=True,
    )
    refund_reason = models.CharField("退款原因", max_length=200, blank=True)
    refund_requested_at = models.DateTimeField("申请退款时间", null=True, blank=True)
    refund_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
        verbose_name="退款经办",
    )
    refunded_at = models.DateTimeField("退款时间", null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "订单"
        verbose_name_plural = "订单"
        indexes = [
            # The reconcile worker: pending orders older than N minutes.
            models.Index(fields=["status", "created_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gte=1), name="order_amount_positive"),
            models.CheckConstraint(
                condition=~Q(status="paid")
                | Q(provider_txn_id__isnull=False, paid_at__isnull=False),
                name="order_paid_has_txn",
            ),
        ]

    def __str__(self) -> str:
        return self.out_trade_no

    @property
    def refund_no(self) -> str:
        return refund_no_for(self.out_trade_no)

    @property
    def is_paid(self) -> bool:
        return self.status == self.Status.PAID

    def is_expired(self, at: dt.datetime | None = None) -> bool:
        return self.status == self.Status.PENDING and self.expires_at <= (at or timezone.now())


class PaymentEvent(models.Model):
    """Append-only audit: every notification, query result, close, refund, restore and grant."""

    class Kind(models.TextChoices):
        NOTIFY = "notify", "支付通知"
        QUERY = "query", "主动查询"
        RECONCILE = "reconcile", "对账"
        REFUND = "refund", "退款"
        CLOSE = "close", "关闭"
        RESTORE = "restore", "恢复购买"
        GRANT = "grant", "人工授权"

    order = models.ForeignKey(
        Order,
        null=True,
        blank=True,
        related_name="events",
        on_delete=models.PROTECT,
        verbose_name="订单",
    )
    # Kept even when no order matches, so a notification for a foreign number stays visible.
    out_trade_no = models.CharField("订单号", max_length=64, blank=True, db_index=True)
    provider = models.CharField(
        "支付方式", max_length=10, blank=True, choices=Order.Provider.choices
    )
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    # Set only on the event that was acted on, so a retry of a rejected notification is re-checked.
    provider_event_id = models.CharField(
        "通知ID", max_length=64, unique=True, null=True, blank=True
    )
    payload = models.JSONField("内容", default=dict, blank=True, encoder=DjangoJSONEncoder)
    outcome = models.TextField("结果")
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
        verbose_name="经办人",
    )
    received_at = models.DateTimeField("时间", default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = "支付事件"
        verbose_name_plural = "支付事件"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.out_trade_no}: {self.outcome[:40]}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("payment events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("payment events are append-only")


class Access(TypedDict):
    copy: bool
    download: bool
    pass_until: dt.datetime | None


class EntitlementQuerySet(models.QuerySet):
    def held_by(self, visitor: Any = None, user: Any = None) -> EntitlementQuerySet:
        """Held by this browser's visitor or by the logged-in account (anonymous users count as none)."""
        holder = Q()
        if visitor is not None:
            # The browser it was bought (or last promoted) in, or one it was restored to since.
            places = EntitlementPlace.objects.filter(
                entitlement=models.OuterRef("pk"), visitor=visitor
            )
            holder |= Q(visitor=visitor) | Q(models.Exists(places))
        if _is_user(user):
            holder |= Q(user=user)
        return self.filter(holder) if holder else self.none()

    def active(self, at: dt.datetime | None = None) -> EntitlementQuerySet:
        at = at or timezone.now()
        return self.filter(revoked_at__isnull=True, starts_at__lte=at).filter(
            Q(ends_at__isnull=True) | Q(ends_at__gt=at)
        )

    def active_for(
        self, visitor: Any, user: Any, at: dt.datetime | None = None
    ) -> EntitlementQuerySet:
        return self.held_by(visitor, user).active(at)

    def latest_pass_end(
        self, visitor: Any, user: Any, at: dt.datetime | None = None
    ) -> dt.datetime | None:
        """End of the holder's last pass still running (or queued) at `at`: where a new pass stacks."""
        at = at or timezone.now()
        return (
            self.held_by(visitor, user)
            .filter(kind=Entitlement.Kind.PASS, revoked_at__isnull=True, ends_at__gt=at)
            .aggregate(end=models.Max("ends_at"))["end"]
        )

    def pass_until(
        self, visitor: Any, user: Any, at: dt.datetime | None = None
    ) -> dt.datetime | None:
        """When the pass running at `at` ends, following stacked passes; None without a running pass."""
        at = at or timezone.now()
        passes = (
            self.held_by(visitor, user)
            .filter(kind=Entitlement.Kind.PASS, revoked_at__isnull=True, ends_at__gt=at)
            .order_by("starts_at")
            .values_list("starts_at", "ends_at")
        )
        until = at
        # Walk the chain: a refunded pass in the middle leaves a gap that must not be covered.
        for starts_at, ends_at in passes:
            if starts_at > until:
                break
            until = max(until, ends_at)
        return until if until > at else None

    def access_for(
        self, visitor: Any, user: Any, article: Article | None, at: dt.datetime | None = None
    ) -> Access:
        """What the reader may do with `article` now: {"copy", "download", "pass_until"}."""
        at = at or timezone.now()
        pass_until = self.pass_until(visitor, user, at)
        allowed = pass_until is not None or (
            article is not None
            and self.active_for(visitor, user, at)
            .filter(kind=Entitlement.Kind.ARTICLE, article=article)
            .exists()
        )
        # Both rights come with every plan today; separate keys let a later plan sell them apart.
        return {"copy": allowed, "download": allowed, "pass_until": pass_until}


class Entitlement(models.Model):
    class Kind(models.TextChoices):
        ARTICLE = "article", "单篇"
        PASS = "pass", "包月"

    visitor = models.ForeignKey(
        "accounts.Visitor",
        null=True,
        blank=True,
        related_name="entitlements",
        on_delete=models.PROTECT,
        verbose_name="访客",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="entitlements",
        on_delete=models.SET_NULL,
        verbose_name="账户",
    )
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    article = models.ForeignKey(
        "library.Article",
        null=True,
        blank=True,
        related_name="entitlements",
        on_delete=models.PROTECT,
        verbose_name="文章",
    )
    starts_at = models.DateTimeField("开始")
    # Empty means forever (a bought article); a pass always ends.
    ends_at = models.DateTimeField("结束", null=True, blank=True)
    order = models.ForeignKey(
        Order,
        null=True,
        blank=True,
        related_name="entitlements",
        on_delete=models.PROTECT,
        verbose_name="订单",
    )
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)
    # When `visitor` got it: empty means at creation; set when a restore promotes a place.
    visitor_since = models.DateTimeField("本浏览器获得时间", null=True, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
        verbose_name="授权人",
    )
    note = models.CharField("备注", max_length=200, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    objects = EntitlementQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = "权益"
        verbose_name_plural = "权益"
        constraints = [
            # The database itself guarantees an order grants once, whatever races the code has.
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(order__isnull=False),
                name="entitlement_once_per_order",
            ),
            models.CheckConstraint(
                condition=Q(visitor__isnull=False) | Q(user__isnull=False),
                name="entitlement_has_holder",
            ),
            models.CheckConstraint(
                condition=~Q(kind="article") | Q(article__isnull=False),
                name="entitlement_article_has_article",
            ),
            models.CheckConstraint(
                condition=~Q(kind="pass") | Q(ends_at__isnull=False), name="entitlement_pass_ends"
            ),
        ]

    def __str__(self) -> str:
        what = self.article if self.kind == self.Kind.ARTICLE else "包月"
        return f"{self.get_kind_display()}: {what}"

    def is_active(self, at: dt.datetime | None = None) -> bool:
        at = at or timezone.now()
        return (
            self.revoked_at is None
            and self.starts_at <= at
            and (self.ends_at is None or self.ends_at > at)
        )

    def held_in(self, visitor: Any) -> bool:
        """Whether this browser holds it: bought here, or restored here and not dropped since."""
        if visitor is None:
            return False
        return self.visitor_id == visitor.pk or self.places.filter(visitor=visitor).exists()


class EntitlementPlace(models.Model):
    """Another browser a paid right was restored to, besides `Entitlement.visitor`.

    A restore adds a place instead of moving the right, so the buyer's other browsers keep it;
    an order holds at most settings.FANWEN_RESTORE_PLACES browsers, the oldest dropping out.
    """

    entitlement = models.ForeignKey(
        Entitlement, related_name="places", on_delete=models.CASCADE, verbose_name="权益"
    )
    visitor = models.ForeignKey(
        "accounts.Visitor",
        related_name="entitlement_places",
        on_delete=models.CASCADE,
        verbose_name="访客",
    )
    added_at = models.DateTimeField("恢复时间", default=timezone.now)

    class Meta:
        ordering = ["added_at", "id"]
        verbose_name = "恢复位置"
        verbose_name_plural = "恢复位置"
        constraints = [
            models.UniqueConstraint(
                fields=["entitlement", "visitor"], name="entitlement_place_once"
            )
        ]
        indexes = [
            models.Index(fields=["visitor", "entitlement"], name="entitlement_place_visitor")
        ]

    def __str__(self) -> str:
        return f"{self.entitlement} @ {self.visitor_id}"
