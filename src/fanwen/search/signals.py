"""Library writes leave outbox rows in their own transaction (see fanwen.search.outbox)."""

from __future__ import annotations

from typing import Any

from django.core.signals import setting_changed
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from fanwen.library.models import Article, Category, Piece
from fanwen.search import outbox
from fanwen.search.models import SearchOutbox


@receiver(post_save, sender=Article, dispatch_uid="fanwen_search_article_save")
def article_saved(sender, instance: Article, raw: bool = False, **kwargs: Any) -> None:
    if raw:
        return
    # Hiding or unpublishing takes it out; applying reads the article again either way.
    op = (
        SearchOutbox.Op.INDEX
        if instance.status == Article.Status.PUBLISHED
        else SearchOutbox.Op.REMOVE
    )
    outbox.record([instance.pk], op)


@receiver(post_delete, sender=Article, dispatch_uid="fanwen_search_article_delete")
def article_deleted(sender, instance: Article, **kwargs: Any) -> None:
    outbox.record([instance.pk], SearchOutbox.Op.REMOVE)


@receiver(post_save, sender=Piece, dispatch_uid="fanwen_search_piece_save")
@receiver(post_delete, sender=Piece, dispatch_uid="fanwen_search_piece_delete")
def piece_changed(sender, instance: Piece, raw: bool = False, **kwargs: Any) -> None:
    if raw:
        return
    outbox.record([instance.article_id], SearchOutbox.Op.INDEX)


@receiver(pre_save, sender=Category, dispatch_uid="fanwen_search_category_moving")
def category_moving(sender, instance: Category, raw: bool = False, **kwargs: Any) -> None:
    if raw or instance.pk is None:
        return
    old_parent = Category.objects.filter(pk=instance.pk).values_list("parent_id", flat=True).first()
    instance._search_moved = old_parent != instance.parent_id


@receiver(post_save, sender=Category, dispatch_uid="fanwen_search_category_moved")
def category_moved(sender, instance: Category, **kwargs: Any) -> None:
    # The index keeps each article's category ancestors: a move changes them for the subtree.
    if getattr(instance, "_search_moved", False):
        instance._search_moved = False
        ids = Article.objects.filter(
            category_id__in=instance.descendant_ids(), status=Article.Status.PUBLISHED
        ).values_list("pk", flat=True)
        outbox.record(ids, SearchOutbox.Op.INDEX)


@receiver(setting_changed, dispatch_uid="fanwen_search_settings")
def reset_backends(*, setting: str, **kwargs: Any) -> None:
    if setting == "SEARCH_BACKENDS":
        from fanwen.search.backends import backends

        backends.reset()
