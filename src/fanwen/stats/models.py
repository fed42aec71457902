"""Per-day counts of what happens on the reading pages (the dashboard's funnel)."""

from __future__ import annotations

from django.db import models


class Metric(models.TextChoices):
    ARTICLE_VIEW = "article_view", "文章浏览"
    PAYWALL_OPEN = "paywall_open", "打开付费窗口"


class DailyCount(models.Model):
    # The day in Beijing time (TIME_ZONE), as the dashboard groups orders.
    day = models.DateField("日期")
    metric = models.CharField("指标", max_length=20, choices=Metric.choices)
    count = models.PositiveBigIntegerField("次数", default=0)

    class Meta:
        verbose_name = "每日计数"
        verbose_name_plural = "每日计数"
        ordering = ["-day", "metric"]
        constraints = [
            models.UniqueConstraint(fields=["day", "metric"], name="stats_dailycount_day_metric"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.get_metric_display()} {self.count}"
