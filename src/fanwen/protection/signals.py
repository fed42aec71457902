"""A published article gets its font built in the background once its save is committed; a
changed plan or price makes the cached pages (which show the paywall's prices) stale."""

from __future__ import annotations

from django.conf import settings
from django.core.signals import setting_changed
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from fanwen.lib import gather
from fanwen.library import pagecache
from fanwen.library.models import Article
from fanwen.orders.models import Entitlement, Plan, PriceOverride
from fanwen.orders.signals import places_dropped


@receiver(post_save, sender=Article, dispatch_uid="fanwen_protection_font_build")
def schedule_font_build(sender, instance: Article, **kwargs) -> None:
    if settings.FANWEN_PROTECTION != "font" or instance.status != Article.Status.PUBLISHED:
        return
    # A batch import leaves the fonts to the worker's build_fonts_job (and to font_now for
    # a reader who comes first): a build per article would hold the CPU for hours.
    if gather.importing():
        return
    article_id = instance.pk

    def build() -> None:
        from fanwen.protection.fonts import schedule_build

        # Read again after the commit: the pieces saved in the same transaction count too.
        article = Article.objects.filter(pk=article_id).first()
        if article is not None and article.status == Article.Status.PUBLISHED:
            schedule_build(article)

    transaction.on_commit(build)


@receiver(setting_changed, dispatch_uid="fanwen_protection_font_settings")
def forget_fonts(*, setting: str, **kwargs) -> None:
    # Remembered fonts point at files of the old directory, storage or key.
    watched = {"FANWEN_FONT_DIR", "VAR_DIR", "STORAGES", "SECRET_KEY", "FANWEN_FONT_ROTATION_HOURS"}
    if setting in watched:
        from fanwen.protection.fonts import forget_cache

        forget_cache()


@receiver(post_save, sender=Entitlement, dispatch_uid="fanwen_protection_forget_rights")
@receiver(post_delete, sender=Entitlement, dispatch_uid="fanwen_protection_forget_rights_delete")
def forget_holder_rights(sender, instance: Entitlement, **kwargs) -> None:
    # A grant, a refund or a restore changes what the holder may take: drop what was remembered.
    from fanwen.protection.access import forget_rights

    if instance.visitor_id:
        forget_rights(f"v:{instance.visitor_id}")
    # A refund reaches every browser the right was restored to, not only the first.
    if not kwargs.get("created") and instance.pk is not None:
        for visitor_id in instance.places.values_list("visitor_id", flat=True):
            forget_rights(f"v:{visitor_id}")
    if instance.user_id:
        forget_rights(f"u:{instance.user_id}")


@receiver(places_dropped, dispatch_uid="fanwen_protection_forget_dropped_places")
def forget_dropped_places(sender, visitor_ids: list[str], **kwargs) -> None:
    # A browser that lost an order's right to a newer restore must not keep a remembered one.
    from fanwen.protection.access import forget_rights

    for visitor_id in visitor_ids:
        forget_rights(f"v:{visitor_id}")


@receiver(post_save, sender=Plan, dispatch_uid="fanwen_purge_plan_save")
@receiver(post_save, sender=PriceOverride, dispatch_uid="fanwen_purge_price_save")
@receiver(post_delete, sender=PriceOverride, dispatch_uid="fanwen_purge_price_delete")
def purge_priced_pages(sender, **kwargs) -> None:
    # Every article page shows a price: a cached one must not offer what the order won't charge.
    pagecache.purge_all()
