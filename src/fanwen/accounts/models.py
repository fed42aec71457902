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


class WeChatIdentityQuerySet(models.QuerySet):
    def openid_for(self, visitor: Visitor | None, appid: str) -> str | None:
        """The openid WeChat gave this browser for `appid`, or None (not asked yet)."""
        if visitor is None or not appid:
            return None
        return self.filter(visitor=visitor, appid=appid).values_list("openid", flat=True).first()


class WeChatIdentity(models.Model):
    """Who this visitor is to WeChat: the openid of one official account (appid), from OAuth.

    JSAPI payments inside WeChat name the payer by it; an openid is only valid for the appid
    it was issued under, so one visitor may hold several.
    """

    visitor = models.ForeignKey(
        Visitor, related_name="wechat_identities", on_delete=models.CASCADE, verbose_name="访客"
    )
    appid = models.CharField("公众号 AppID", max_length=32)
    openid = models.CharField("OpenID", max_length=128)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = WeChatIdentityQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["visitor", "appid"], name="wechat_identity_per_appid")
        ]
        indexes = [models.Index(fields=["appid", "openid"], name="wechat_identity_openid")]
        verbose_name = "微信身份"
        verbose_name_plural = "微信身份"

    def __str__(self) -> str:
        return f"{self.appid}:{self.openid}"
