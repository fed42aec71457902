"""A saved public article (published, or its content changed) queues its URL for the engines."""

from __future__ import annotations

from typing import Any

from django.core.signals import setting_changed
from django.db.models.signals import post_save
from django.dispatch import receiver

from fanwen.library.models import Article
from fanwen.seo import outbox


@receiver(post_save, sender=Article, dispatch_uid="fanwen_seo_article_save")
def article_saved(sender, instance: Article, raw: bool = False, **kwargs: Any) -> None:
    # Edits of pieces save their article too (library.actions), so this sees them; drafts,
    # hidden and scheduled articles are not pushed (a scheduled one is when it goes out).
    if raw or not instance.is_public:
        return
    outbox.record([instance])


@receiver(setting_changed, dispatch_uid="fanwen_seo_settings")
def reset_engines(*, setting: str, **kwargs: Any) -> None:
    if setting == "SEO_PUSH_ENGINES":
        from fanwen.seo.engines import engines

        engines.reset()
