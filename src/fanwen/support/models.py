"""客服: the contact details buyers see, the tickets they open and the replies staff send."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

# A message of a few paragraphs; anything longer is refused, not cut.
MESSAGE_MAX_CHARS = 2000
CONTACT_MAX_CHARS = 100


class ContactInfo(models.Model):
    """One row (pk 1): what the 联系客服 page shows. Empty fields are not shown."""

    wechat_id = models.CharField("客服微信号", max_length=40, blank=True)
    wechat_qr = models.ImageField(
        "微信二维码图片", upload_to="support/", blank=True, help_text="PNG 或 JPG，扫码加客服微信"
    )
    qq = models.CharField("客服QQ", max_length=20, blank=True)
    phone = models.CharField("客服电话", max_length=30, blank=True)
    email = models.EmailField("客服邮箱", blank=True)
    hours = models.CharField("服务时间", max_length=60, blank=True, default="每天 9:00–21:00")
    note = models.TextField(
        "补充说明", blank=True, help_text="显示在联系方式下面，例如节假日安排；一行一段"
    )
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "联系方式"
        verbose_name_plural = "联系方式"

    def __str__(self) -> str:
        return "客服联系方式"

    @classmethod
    def current(cls) -> ContactInfo:
        # The row is made on first use, so a fresh site needs no data step.
        return cls.objects.get_or_create(pk=1)[0]

    @property
    def has_any(self) -> bool:
        return any((self.wechat_id, self.wechat_qr, self.qq, self.phone, self.email))


class TicketQuerySet(models.QuerySet):
    def of_reader(self, visitor: Any, user: Any) -> TicketQuerySet:
        """Tickets opened in this browser or by this account (anonymous users count as none)."""
        holder = Q()
        if visitor is not None:
            holder |= Q(visitor=visitor)
        if user is not None and getattr(user, "is_authenticated", False):
            holder |= Q(user=user)
        return self.filter(holder) if holder else self.none()


class Ticket(models.Model):
    class Kind(models.TextChoices):
        PAYMENT = "payment", "付款后仍要求付款 / 找回购买"
        REFUND = "refund", "申请退款"
        INVOICE = "invoice", "开发票"
        QUESTION = "question", "其他问题"

    class Status(models.TextChoices):
        OPEN = "open", "待处理"
        ANSWERED = "answered", "已回复"
        CLOSED = "closed", "已关闭"

    visitor = models.ForeignKey(
        "accounts.Visitor",
        null=True,
        blank=True,
        related_name="tickets",
        on_delete=models.SET_NULL,
        verbose_name="访客",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="tickets",
        on_delete=models.SET_NULL,
        verbose_name="账户",
    )
    kind = models.CharField("类型", max_length=10, choices=Kind.choices, default=Kind.PAYMENT)
    # What the buyer typed: our order number or the WeChat/Alipay transaction number.
    order_number = models.CharField("订单号", max_length=64, blank=True)
    contact = models.CharField("联系方式", max_length=CONTACT_MAX_CHARS)
    message = models.TextField("问题描述", max_length=MESSAGE_MAX_CHARS)
    invoice_title = models.CharField("发票抬头", max_length=100, blank=True)
    invoice_tax_id = models.CharField("税号", max_length=30, blank=True)
    invoice_email = models.EmailField("接收发票的邮箱", blank=True)
    status = models.CharField(
        "状态", max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    created_at = models.DateTimeField("提交时间", default=timezone.now, db_index=True)
    updated_at = models.DateTimeField("更新时间", default=timezone.now)

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "客服工单"
        verbose_name_plural = "客服工单"

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()}"

    @property
    def number(self) -> str:
        return f"{self.pk:06d}"

    def named_orders(self) -> models.QuerySet:
        """The order the buyer named, by our number (any case) or the provider's."""
        from fanwen.orders.models import Order

        number = self.order_number.strip()
        if not number:
            return Order.objects.none()
        return Order.objects.filter(Q(out_trade_no=number.upper()) | Q(provider_txn_id=number))

    def related_orders(self, limit: int = 20) -> list:
        """The named order first, then the other orders of the ticket's browser and account."""
        from fanwen.orders.models import Order

        named = list(self.named_orders().select_related("plan", "article"))
        holder = Q()
        if self.visitor_id:
            holder |= Q(visitor_id=self.visitor_id)
        if self.user_id:
            holder |= Q(user_id=self.user_id)
        others = (
            list(
                Order.objects.filter(holder)
                .exclude(pk__in=[o.pk for o in named])
                .select_related("plan", "article")
                .order_by("-created_at")[:limit]
            )
            if holder
            else []
        )
        return named + others


class TicketReply(models.Model):
    ticket = models.ForeignKey(
        Ticket, related_name="replies", on_delete=models.CASCADE, verbose_name="工单"
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        related_name="+",
        on_delete=models.SET_NULL,
        verbose_name="回复人",
    )
    body = models.TextField("回复内容", max_length=MESSAGE_MAX_CHARS)
    created_at = models.DateTimeField("回复时间", default=timezone.now)
    # Where the reply was mailed, and how that went (empty when no mail was sent).
    emailed_to = models.EmailField("邮件发送到", blank=True)
    emailed_at = models.DateTimeField("邮件发送时间", null=True, blank=True)
    email_error = models.CharField("邮件发送失败原因", max_length=200, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "客服回复"
        verbose_name_plural = "客服回复"

    def __str__(self) -> str:
        return f"回复 #{self.ticket_id}"
