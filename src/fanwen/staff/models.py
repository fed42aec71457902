"""Upload batches (one ImportBatch per upload, one ImportItem per file in it, zips expanded) and
the log of what staff did to orders and tickets (StaffAction)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from fanwen.library.models import Article, Category, UnicodeJSONEncoder


class ImportBatch(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "处理中"
        DONE = "done", "已完成"

    class PublishMode(models.TextChoices):
        DRAFT = "draft", "保存为草稿"
        NOW = "now", "立即发布"
        AT = "at", "定时发布"

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="import_batches",
        verbose_name="上传人",
    )
    created_at = models.DateTimeField("上传时间", auto_now_add=True, db_index=True)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, verbose_name="分类"
    )
    category_from_folder = models.BooleanField("按文件所在文件夹分类", default=False)
    publish_mode = models.CharField(
        "发布方式", max_length=8, choices=PublishMode.choices, default=PublishMode.DRAFT
    )
    publish_at = models.DateTimeField("定时发布时间", null=True, blank=True)
    status = models.CharField(
        "状态", max_length=8, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    # Counters the progress bar reads; done = ok + refused + errors.
    total = models.PositiveIntegerField("文件数", default=0)
    done = models.PositiveIntegerField("已处理", default=0)
    ok = models.PositiveIntegerField("成功", default=0)
    refused = models.PositiveIntegerField("已拒绝", default=0)
    errors = models.PositiveIntegerField("出错", default=0)
    claimed_at = models.DateTimeField("开始处理", null=True, blank=True)
    # A runner touches this as it goes; a running batch whose heartbeat is stale is resumed.
    heartbeat_at = models.DateTimeField("心跳", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "导入批次"
        verbose_name_plural = "导入批次"

    def __str__(self) -> str:
        return f"导入批次 #{self.pk}"

    @property
    def is_done(self) -> bool:
        return self.status == self.Status.DONE


class ImportItem(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        OK = "ok", "成功"
        REFUSED = "refused", "已拒绝"
        ERROR = "error", "出错"

    batch = models.ForeignKey(
        ImportBatch, related_name="items", on_delete=models.CASCADE, verbose_name="批次"
    )
    position = models.PositiveIntegerField("序号")
    # The path inside the upload: "a.docx", or "范文.zip/作文/a.txt" for a zip member.
    name = models.CharField("文件", max_length=500)
    # The folder the file sits in inside the upload or zip ("" at the top): 按文件所在文件夹.
    folder = models.CharField("所在文件夹", max_length=200, blank=True)
    # Name in default_storage (imports/<batch>/<position>.<ext>); emptied once the file is done.
    file = models.CharField("存储文件", max_length=300, blank=True)
    size = models.PositiveBigIntegerField("大小", default=0)
    status = models.CharField(
        "状态", max_length=8, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    reason = models.TextField("原因", blank=True)
    article = models.ForeignKey(
        Article, null=True, blank=True, on_delete=models.SET_NULL, verbose_name="文章"
    )
    # {"title", "piece_count", "category", "created", "duplicates": [...]}
    result = models.JSONField("结果", default=dict, blank=True, encoder=UnicodeJSONEncoder)
    # Which runner holds the item and since when; a claim older than the stale limit is free.
    claim = models.CharField(max_length=32, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["batch", "position"]
        unique_together = [("batch", "position")]
        indexes = [models.Index(fields=["batch", "status", "position"])]
        verbose_name = "导入文件"
        verbose_name_plural = "导入文件"

    def __str__(self) -> str:
        return self.name


class StaffAction(models.Model):
    """Who did what to an order or a ticket, when and why: shown on the order desk and the inbox."""

    class Verb(models.TextChoices):
        RECHECK = "recheck", "向支付平台核实"
        GRANT = "grant", "补发权益"
        REFUND = "refund", "退款"
        REPLY = "reply", "回复工单"
        CLOSE = "close", "关闭工单"
        REOPEN = "reopen", "重新打开工单"

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="经办人",
    )
    at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    verb = models.CharField("操作", max_length=10, choices=Verb.choices)
    order = models.ForeignKey(
        "orders.Order",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff_actions",
        verbose_name="订单",
    )
    ticket = models.ForeignKey(
        "support.Ticket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="staff_actions",
        verbose_name="工单",
    )
    reason = models.CharField("原因", max_length=200, blank=True)
    # What came of it, filled in once known (a refund sent to the provider answers later).
    outcome = models.CharField("结果", max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "客服操作记录"
        verbose_name_plural = "客服操作记录"

    def __str__(self) -> str:
        return f"{self.get_verb_display()} {self.order or self.ticket or ''}"
