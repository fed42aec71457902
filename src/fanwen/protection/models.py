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
