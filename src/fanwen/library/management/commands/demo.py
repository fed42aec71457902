"""`fanwen demo`: migrate, load the demo library, create the staff user, serve on 127.0.0.1:8000."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand

from fanwen.library.demo.loader import EDITOR_USERNAME, ensure_editor, load_demo
from fanwen.library.models import Article, Category


class Command(BaseCommand):
    help = (
        "演示站：迁移数据库、载入示例范文、创建后台账号并启动服务 / migrate, load the demo "
        "articles, create the staff user and serve"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--no-serve", action="store_true", help="load the demo and exit (tests, scripts)"
        )
        parser.add_argument("--addr", default="127.0.0.1:8000", help="address:port to serve on")

    def handle(self, *args, no_serve: bool, addr: str, **options) -> None:
        verbosity = options.get("verbosity", 1)
        call_command("migrate", interactive=False, verbosity=max(0, verbosity - 1))
        result = load_demo()
        password = ensure_editor()
        published = Article.objects.published().count()
        self.stdout.write(
            f"示例范文 demo articles: {len(result.articles)} "
            f"(新增 new {result.created}, 更新 updated {result.updated}); "
            f"已发布 published {published}, 分类 categories {Category.objects.count()}"
        )
        host = addr if ":" in addr else f"127.0.0.1:{addr}"
        self.stdout.write(
            self.style.SUCCESS(
                f"后台 http://{host}/admin/ 用户名 {EDITOR_USERNAME} 密码 {password}\n"
                f"Admin http://{host}/admin/ username {EDITOR_USERNAME} password {password}"
            )
        )
        if no_serve:
            return
        self.stdout.write(f"网站 site: http://{host}/  (Ctrl+C 停止 / to stop)")
        # No autoreloader: it would re-run this command (and reset the password) in a child.
        call_command("runserver", addr, use_reloader=False)
