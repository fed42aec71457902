"""The anonymous buyer: a visitor id kept in a signed cookie, bound to an account on login."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Visitor(models.Model):
    # Random, not sequential: the id travels in a cookie and must not reveal or guess others.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="visitors",
        on_delete=models.SET_NULL,
        verbose_name="账户",
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "访客"
        verbose_name_plural = "访客"

    def __str__(self) -> str:
        return str(self.id)
