"""What the paywall records: which articles a pass holder took on which day (fair use)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class PassUse(models.Model):
    """One article copied or downloaded under a pass on one day (Beijing date), counted once."""

    holder = models.CharField("持有人", max_length=64)
    article = models.ForeignKey(
        "library.Article", related_name="+", on_delete=models.CASCADE, verbose_name="文章"
    )
    day = models.DateField("日期")
    created_at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        verbose_name = "包月使用"
        verbose_name_plural = "包月使用"
        constraints = [
            models.UniqueConstraint(fields=["holder", "day", "article"], name="pass_use_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.holder} {self.day} {self.article_id}"


class RateCounter(models.Model):
    """One fixed-window counter of lib/ratelimit, when counters live in the database."""

    # scope, ident and window number: "fanwen:rl:page:ip:203.0.113.5:29500000".
    name = models.CharField(max_length=200, primary_key=True)
    hits = models.PositiveIntegerField(default=0)
    # Epoch seconds when the window ends; older rows are swept.
    expires = models.BigIntegerField(db_index=True)

    class Meta:
        verbose_name = "限流计数"
        verbose_name_plural = "限流计数"

    def __str__(self) -> str:
        return f"{self.name} = {self.hits}"
