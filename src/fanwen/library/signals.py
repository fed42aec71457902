"""Any saved or deleted Category, Article or Piece makes the cached pages stale."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from fanwen.library import pagecache
from fanwen.library.models import Article, Category, Piece


@receiver(post_save, sender=Category, dispatch_uid="fanwen_purge_category_save")
@receiver(post_delete, sender=Category, dispatch_uid="fanwen_purge_category_delete")
@receiver(post_save, sender=Article, dispatch_uid="fanwen_purge_article_save")
@receiver(post_delete, sender=Article, dispatch_uid="fanwen_purge_article_delete")
@receiver(post_save, sender=Piece, dispatch_uid="fanwen_purge_piece_save")
@receiver(post_delete, sender=Piece, dispatch_uid="fanwen_purge_piece_delete")
def purge_pages(sender, **kwargs) -> None:
    # One generation bump: the article's page, its category lists, related lists and the
    # header's category nav can all show what changed.
    pagecache.purge_all()
