"""The site's own pages that buyers look for before paying: 用户协议, 隐私政策, 退款说明, 关于我们.

Staff edit them in the admin as plain text, one paragraph a line; a line of at most 30
characters without closing punctuation is shown as a heading.
"""

from __future__ import annotations

from django.db import models
from django.urls import reverse

# The pages every site has (made by a migration); the footer and the paywall link to them.
TERMS, PRIVACY, REFUNDS, ABOUT = "terms", "privacy", "refunds", "about"
FOOTER_ORDER = (TERMS, PRIVACY, REFUNDS, ABOUT)
_CLOSING = "。！？；：，.!?;:,"


class SitePage(models.Model):
    slug = models.SlugField("网址名", max_length=40, unique=True)
    title = models.CharField("标题", max_length=60)
    body = models.TextField("正文", help_text="一行一段；不超过30字且不以标点结尾的行显示为小标题")
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "网站信息页"
        verbose_name_plural = "网站信息页（用户协议、隐私政策、退款说明、关于我们）"

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("pages:show", args=[self.slug])

    def blocks(self) -> list[tuple[str, str]]:
        """("h", text) for a heading line, ("p", text) for a paragraph."""
        out = []
        for line in self.body.splitlines():
            text = line.strip()
            if not text:
                continue
            heading = len(text) <= 30 and text[-1] not in _CLOSING
            out.append(("h" if heading else "p", text))
        return out
