from django.core.management.base import BaseCommand

from fanwen.library import viewcount


class Command(BaseCommand):
    help = "把缓存中累计的阅读数写入数据库 (write the view counts gathered in the cache)"

    def handle(self, *args, **options) -> None:
        views, articles = viewcount.flush_all()
        self.stdout.write(f"已写入 {views} 次阅读，涉及 {articles} 篇文章。")
