"""The push outbox: article URLs a search engine should fetch again, one row per engine."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class UrlPush(models.Model):
    """A URL waiting to be pushed to one engine; deleted once the engine took it.

    Written in the transaction of the change (like the search outbox), so a crash never
    loses one; a row that fails keeps its attempts and last error and waits next_attempt_at.
    """

    engine = models.CharField("搜索引擎", max_length=20)
    url = models.CharField("网址", max_length=500)
    # No foreign key: pushing reads the article again and drops the row if it is not public.
    article_id = models.BigIntegerField("文章")
    # The last change that asked for a push: a push claimed before it does not cover it.
    requested_at = models.DateTimeField("请求时间", default=timezone.now)
    next_attempt_at = models.DateTimeField("下次尝试", default=timezone.now)
    attempts = models.PositiveIntegerField("失败次数", default=0)
    last_error = models.CharField("最近错误", max_length=300, blank=True)
    last_attempt_at = models.DateTimeField("最近尝试", null=True, blank=True)

    class Meta:
        ordering = ["next_attempt_at", "pk"]
        verbose_name = "待推送网址"
        verbose_name_plural = "待推送网址"
        constraints = [
            models.UniqueConstraint(fields=["engine", "url"], name="seo_urlpush_engine_url")
        ]
        indexes = [models.Index(fields=["engine", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.engine} {self.url}"


class EngineState(models.Model):
    """What an engine said about all our pushes: a daily quota used up, a rate limit."""

    engine = models.CharField("搜索引擎", max_length=20, unique=True)
    # Nothing is pushed to the engine before this (Baidu's quota comes back at midnight).
    paused_until = models.DateTimeField("暂停到", null=True, blank=True)
    # Baidu's remain (URLs it still takes today) and the Beijing day it was said on.
    remain = models.IntegerField("今日剩余配额", null=True, blank=True)
    remain_day = models.DateField("配额日期", null=True, blank=True)
    last_error = models.CharField("最近错误", max_length=300, blank=True)
    pushed_total = models.PositiveBigIntegerField("累计推送", default=0)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "搜索引擎推送状态"
        verbose_name_plural = "搜索引擎推送状态"

    def __str__(self) -> str:
        return self.engine
