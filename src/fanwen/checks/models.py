"""A check report kept at the buyer's request; without that request nothing of a draft is stored."""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from fanwen.library.models import UnicodeJSONEncoder


def new_token() -> str:
    # 144 random bits: the report's only key, so it cannot be guessed or walked.
    return secrets.token_urlsafe(18)


class KeptReport(models.Model):
    token = models.CharField("链接密钥", max_length=32, unique=True, default=new_token)
    created_at = models.DateTimeField("检测时间", default=timezone.now, db_index=True)
    # The draft's sentences with their matches, and the sources (matching.Report.to_json()).
    result = models.JSONField("检测结果", encoder=UnicodeJSONEncoder)

    class Meta:
        verbose_name = "检测报告"
        verbose_name_plural = "检测报告"

    def __str__(self) -> str:
        return f"检测报告 {self.created_at:%Y-%m-%d %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("checks:report", args=[self.token])

    @staticmethod
    def expiry_cutoff(now: dt.datetime | None = None) -> dt.datetime:
        return (now or timezone.now()) - dt.timedelta(days=settings.FANWEN_CHECK_REPORT_DAYS)

    def is_expired(self, now: dt.datetime | None = None) -> bool:
        return self.created_at < self.expiry_cutoff(now)
