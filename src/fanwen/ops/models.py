"""What the workers did last: one row per job, one heartbeat per worker process."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


def stale_seconds() -> int:
    """A worker (or a job) not seen for this long is late: three missed passes and a minute."""
    configured = settings.FANWEN_WORKER_STALE_SECONDS
    return configured if configured > 0 else 3 * settings.FANWEN_WORKER_INTERVAL_SECONDS + 60


class JobState(models.Model):
    """The last run of one worker job, updated in place by whichever worker ran it."""

    job = models.CharField("任务", max_length=64, unique=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    ok = models.BooleanField("成功", null=True)
    outcome = models.TextField("结果", blank=True)
    duration_ms = models.PositiveIntegerField("耗时（毫秒）", null=True, blank=True)
    host = models.CharField("主机", max_length=255, blank=True)
    pid = models.PositiveIntegerField("进程号", null=True, blank=True)
    # When it last ended without an exception: how long a failing job has been failing.
    last_ok_at = models.DateTimeField("上次成功", null=True, blank=True)

    class Meta:
        ordering = ["job"]
        verbose_name = "后台任务状态"
        verbose_name_plural = "后台任务状态"

    def __str__(self) -> str:
        return self.job

    @property
    def running(self) -> bool:
        return self.started_at is not None and (
            self.finished_at is None or self.finished_at < self.started_at
        )

    def overdue(self, now=None) -> bool:
        """Not started within the stale window: no worker runs it any more."""
        now = now or timezone.now()
        return self.started_at is None or now - self.started_at > timedelta(seconds=stale_seconds())


class WorkerHeartbeat(models.Model):
    """A live `fanwen worker` process, touched at every pass."""

    host = models.CharField("主机", max_length=255)
    pid = models.PositiveIntegerField("进程号")
    started_at = models.DateTimeField("启动时间")
    seen_at = models.DateTimeField("最近心跳", db_index=True)
    passes = models.PositiveIntegerField("已运行轮数", default=0)
    current_job = models.CharField("正在运行", max_length=64, blank=True)

    class Meta:
        ordering = ["-seen_at"]
        constraints = [
            models.UniqueConstraint(fields=["host", "pid"], name="heartbeat_per_process")
        ]
        verbose_name = "后台进程心跳"
        verbose_name_plural = "后台进程心跳"

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}"

    def stale(self, now=None) -> bool:
        return (now or timezone.now()) - self.seen_at > timedelta(seconds=stale_seconds())
