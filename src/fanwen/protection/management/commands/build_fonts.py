"""`fanwen build_fonts [--article ID] [--epoch N]`: build the protection fonts ahead of time."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from fanwen.library.models import Article
from fanwen.protection import fonts


class Command(BaseCommand):
    help = "为已发布文章生成防复制字体（缺失的才生成；--article 强制重建一篇）"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--article", type=int, help="只生成这一篇（强制重建）")
        parser.add_argument("--epoch", type=int, help="轮换周期编号（默认当前周期）")

    def handle(self, *args, article: int | None, epoch: int | None, **options) -> None:
        epoch = fonts.current_epoch() if epoch is None else epoch
        if article is not None:
            found = Article.objects.filter(pk=article).prefetch_related("pieces").first()
            if found is None:
                raise CommandError(f"文章 {article} 不存在")
            font = fonts.build_font(found, epoch)
            self.stdout.write(
                f"article {found.pk} epoch {epoch}: {len(font.mapping)} chars, {font.url}"
            )
            return
        built = fonts.build_missing_fonts(epoch=epoch, progress=options["verbosity"] > 1)
        self.stdout.write(f"build_fonts: epoch {epoch}, {built} built")
