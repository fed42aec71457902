"""The sandbox's own records: what the emulated WeChat Pay and Alipay know.

The tables were created by fanwen.payments' first migrations and keep their names.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.db import models
from django.utils import timezone


def _token() -> str:
    return secrets.token_urlsafe(18)


class SandboxTransaction(models.Model):
    """One payment as the emulated WeChat Pay sees it (its trade_state, not our order status)."""

    class TradeType(models.TextChoices):
        NATIVE = "NATIVE", "扫码支付"
        H5 = "MWEB", "H5支付"
        JSAPI = "JSAPI", "微信内支付"

    class State(models.TextChoices):
        NOTPAY = "NOTPAY", "未支付"
        SUCCESS = "SUCCESS", "支付成功"
        CLOSED = "CLOSED", "已关闭"
        REFUND = "REFUND", "转入退款"

    mchid = models.CharField(max_length=32)
    appid = models.CharField(max_length=32)
    out_trade_no = models.CharField(max_length=32, unique=True)
    trade_type = models.CharField(max_length=8, choices=TradeType.choices)
    description = models.CharField(max_length=127)
    amount_total = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="CNY")
    notify_url = models.CharField(max_length=256)
    attach = models.CharField(max_length=128, blank=True)
    time_expire = models.DateTimeField(null=True, blank=True)
    payer_client_ip = models.CharField(max_length=45, blank=True)
    payer_openid = models.CharField(max_length=128, blank=True)
    # The order request as sent: a repeat with the same body gets the same answer.
    request_body = models.JSONField(default=dict)
    # The secret part of the payer page's address (what the QR code carries).
    token = models.CharField(max_length=32, unique=True, default=_token)
    prepay_id = models.CharField(max_length=64, unique=True)
    trade_state = models.CharField(max_length=8, choices=State.choices, default=State.NOTPAY)
    transaction_id = models.CharField(max_length=32, unique=True, null=True, blank=True)
    success_time = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "payments_sandboxtransaction"
        ordering = ["-created_at"]
        verbose_name = "沙箱交易"
        verbose_name_plural = "沙箱交易"

    def __str__(self) -> str:
        return f"{self.out_trade_no} {self.trade_state}"

    def is_expired(self) -> bool:
        return self.time_expire is not None and self.time_expire <= timezone.now()

    def as_wechat_json(self) -> dict[str, Any]:
        """The transaction as WeChat's query answer and TRANSACTION.* resource show it."""
        from fanwen.payments.backends.wechat import rfc3339

        data: dict[str, Any] = {
            "appid": self.appid,
            "mchid": self.mchid,
            "out_trade_no": self.out_trade_no,
            "trade_type": self.trade_type,
            "trade_state": self.trade_state,
            "trade_state_desc": self.get_trade_state_display(),
            "attach": self.attach,
            "amount": {"total": self.amount_total, "currency": self.currency},
        }
        if self.transaction_id:
            data["transaction_id"] = self.transaction_id
            data["bank_type"] = "OTHERS"
            data["success_time"] = rfc3339(self.success_time) if self.success_time else ""
            data["payer"] = {"openid": self.payer_openid}
            data["amount"].update(
                {"payer_total": self.amount_total, "payer_currency": self.currency}
            )
        return data


class SandboxRefund(models.Model):
    transaction = models.ForeignKey(
        SandboxTransaction, related_name="refunds", on_delete=models.CASCADE
    )
    out_refund_no = models.CharField(max_length=64, unique=True)
    refund_id = models.CharField(max_length=32, unique=True)
    amount_refund = models.PositiveIntegerField()
    reason = models.CharField(max_length=80, blank=True)
    notify_url = models.CharField(max_length=256, blank=True)
    status = models.CharField(max_length=12, default="SUCCESS")
    created_at = models.DateTimeField(default=timezone.now)
    success_time = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "payments_sandboxrefund"
        ordering = ["-created_at"]
        verbose_name = "沙箱退款"
        verbose_name_plural = "沙箱退款"

    def __str__(self) -> str:
        return f"{self.out_refund_no} {self.status}"

    def as_wechat_json(self) -> dict[str, Any]:
        from fanwen.payments.backends.wechat import rfc3339

        txn = self.transaction
        return {
            "refund_id": self.refund_id,
            "out_refund_no": self.out_refund_no,
            "transaction_id": txn.transaction_id,
            "out_trade_no": txn.out_trade_no,
            "channel": "ORIGINAL",
            "user_received_account": "支付用户零钱",
            "success_time": rfc3339(self.success_time) if self.success_time else "",
            "create_time": rfc3339(self.created_at),
            "status": self.status,
            "funds_account": "AVAILABLE",
            "amount": {
                "total": txn.amount_total,
                "refund": self.amount_refund,
                "payer_total": txn.amount_total,
                "payer_refund": self.amount_refund,
                "settlement_total": txn.amount_total,
                "settlement_refund": self.amount_refund,
                "discount_refund": 0,
                "currency": txn.currency,
            },
        }


class SandboxAlipayTrade(models.Model):
    """One trade as the emulated Alipay sees it (its trade_status, not our order status)."""

    class Kind(models.TextChoices):
        PRECREATE = "precreate", "扫码支付"
        WAP = "wap", "手机网站支付"

    class Status(models.TextChoices):
        WAIT_BUYER_PAY = "WAIT_BUYER_PAY", "等待付款"
        TRADE_SUCCESS = "TRADE_SUCCESS", "支付成功"
        TRADE_CLOSED = "TRADE_CLOSED", "已关闭"

    app_id = models.CharField(max_length=32)
    seller_id = models.CharField(max_length=32)
    out_trade_no = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    subject = models.CharField(max_length=256)
    # Yuan as Alipay writes it ("5.99"), and the same in fen for arithmetic.
    total_amount = models.CharField(max_length=16)
    amount_fen = models.PositiveIntegerField()
    notify_url = models.CharField(max_length=256, blank=True)
    return_url = models.CharField(max_length=512, blank=True)
    time_expire = models.DateTimeField(null=True, blank=True)
    token = models.CharField(max_length=32, unique=True, default=_token)
    # Like Alipay: a precreated trade can be queried only once the buyer has scanned it.
    scanned = models.BooleanField(default=False)
    trade_status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.WAIT_BUYER_PAY
    )
    trade_no = models.CharField(max_length=64, unique=True, null=True, blank=True)
    buyer_id = models.CharField(max_length=32, blank=True)
    buyer_logon_id = models.CharField(max_length=64, blank=True)
    gmt_payment = models.DateTimeField(null=True, blank=True)
    refund_fen = models.PositiveIntegerField(default=0)
    # out_request_no → fen refunded by it: a repeated refund request changes nothing.
    refunds = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "payments_sandboxalipaytrade"
        ordering = ["-created_at"]
        verbose_name = "支付宝沙箱交易"
        verbose_name_plural = "支付宝沙箱交易"

    def __str__(self) -> str:
        return f"{self.out_trade_no} {self.trade_status}"

    def is_expired(self) -> bool:
        return self.time_expire is not None and self.time_expire <= timezone.now()


class SandboxNotification(models.Model):
    """One event the emulated platform sends to a notify_url; every retry sends the same body."""

    class Kind(models.TextChoices):
        WECHAT = "wechat", "微信支付"
        ALIPAY = "alipay", "支付宝"

    event_id = models.CharField(max_length=64, unique=True)
    # WeChat: JSON signed per delivery in headers; Alipay: a form signed once, sent as is.
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.WECHAT)
    event_type = models.CharField(max_length=32)
    notify_url = models.CharField(max_length=256)
    body = models.TextField()
    transaction = models.ForeignKey(
        SandboxTransaction,
        null=True,
        blank=True,
        related_name="notifications",
        on_delete=models.CASCADE,
    )
    alipay_trade = models.ForeignKey(
        SandboxAlipayTrade,
        null=True,
        blank=True,
        related_name="notifications",
        on_delete=models.CASCADE,
    )
    attempts = models.PositiveIntegerField(default=0)
    last_status = models.IntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "payments_sandboxnotification"
        ordering = ["-created_at"]
        verbose_name = "沙箱通知"
        verbose_name_plural = "沙箱通知"

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class SandboxPush(models.Model):
    """One push the emulated Baidu 普通收录 API or IndexNow endpoint answered."""

    class Engine(models.TextChoices):
        BAIDU = "baidu", "百度普通收录"
        INDEXNOW = "indexnow", "IndexNow"

    engine = models.CharField(max_length=10, choices=Engine.choices)
    site = models.CharField(max_length=200)
    # The Beijing day it counts against (Baidu's quota is per day).
    day = models.DateField()
    status = models.PositiveSmallIntegerField()
    accepted = models.JSONField(default=list)
    refused = models.JSONField(default=list)
    answer = models.JSONField(default=dict)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = "沙箱收录推送"
        verbose_name_plural = "沙箱收录推送"

    def __str__(self) -> str:
        return f"{self.engine} {self.status} {len(self.accepted)}"
