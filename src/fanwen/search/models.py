"""The search outbox: index work written in the same transaction as the change it follows."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class SearchOutbox(models.Model):
    class Op(models.TextChoices):
        INDEX = "index", "索引"
        REMOVE = "remove", "移除"

    # No foreign key: a row about a deleted article must outlive it.
    article_id = models.BigIntegerField("文章", db_index=True)
    op = models.CharField("操作", max_length=6, choices=Op.choices)
    created_at = models.DateTimeField("写入时间", default=timezone.now)

    class Meta:
        ordering = ["pk"]
        verbose_name = "搜索待同步"
        verbose_name_plural = "搜索待同步"

    def __str__(self) -> str:
        return f"{self.op} {self.article_id}"
