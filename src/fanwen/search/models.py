"""The search log: every index change, in the same transaction as the change it follows.

Each node's index follows the log through a cursor of its own (fanwen.search.follow); rows go
only once every live node has passed them (prune()).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class SearchOutbox(models.Model):
    class Op(models.TextChoices):
        INDEX = "index", "索引"
        REMOVE = "remove", "移除"

    # The id orders the log: a node applies rows by id and keeps the last one as its cursor.
    # No foreign key: a row about a deleted article must outlive it.
    article_id = models.BigIntegerField("文章", db_index=True)
    op = models.CharField("操作", max_length=6, choices=Op.choices)
    created_at = models.DateTimeField("写入时间", default=timezone.now)

    class Meta:
        ordering = ["pk"]
        verbose_name = "搜索变更日志"
        verbose_name_plural = "搜索变更日志"

    def __str__(self) -> str:
        return f"{self.pk}: {self.op} {self.article_id}"


class SearchNode(models.Model):
    """A node's index and how far it has followed the log (what pruning must keep for it)."""

    name = models.CharField("节点", max_length=200, unique=True)
    # Every log row up to here is applied (or known never to come): rows below may go.
    cursor = models.BigIntegerField("已同步到", default=0)
    # The highest row applied; rows between cursor and here may still be missing (gaps).
    applied = models.BigIntegerField("最高已应用", default=0)
    path = models.CharField("索引目录", max_length=500, blank=True)
    last_seen = models.DateTimeField("最近同步", default=timezone.now, db_index=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "搜索节点"
        verbose_name_plural = "搜索节点"

    def __str__(self) -> str:
        return f"{self.name} @ {self.cursor}"
