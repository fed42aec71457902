"""The worker's records (JobRun). Real payments live in fanwen.orders; the emulators in fanwen.sandbox."""

from __future__ import annotations

import secrets

from django.db import models


def _token() -> str:
    # Kept for this app's first migrations, which created the sandbox tables (now fanwen.sandbox).
    return secrets.token_urlsafe(18)


class JobRun(models.Model):
    """One run of a periodic job for one period (the bill compare of one day): what workers race to claim.

    The unique (job, period) row is the claim, so several workers run a daily job once; an
    unfinished row whose claim is old (the worker died, or the run failed) may be claimed again.
    """

    job = models.CharField("任务", max_length=64)
    period = models.CharField("周期", max_length=32)
    claimed_at = models.DateTimeField("领取时间")
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    attempts = models.PositiveIntegerField("尝试次数", default=1)
    outcome = models.TextField("结果", blank=True)

    class Meta:
        ordering = ["-claimed_at"]
        constraints = [models.UniqueConstraint(fields=["job", "period"], name="job_run_per_period")]
        verbose_name = "定时任务记录"
        verbose_name_plural = "定时任务记录"

    def __str__(self) -> str:
        return f"{self.job} {self.period}"
