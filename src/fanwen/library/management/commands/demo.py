"""`fanwen demo`: migrate, load the demo library, create the staff user, serve on 127.0.0.1:8000."""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from fanwen.library.demo.loader import EDITOR_USERNAME, ensure_editor, load_demo
from fanwen.library.models import Article, Category
from fanwen.protection import fonts


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
                f"后台 http://{host}/admin/ 工作台 http://{host}/staff/ "
                f"用户名 {EDITOR_USERNAME} 密码 {password}\n"
                f"Admin http://{host}/admin/ desk http://{host}/staff/ "
                f"username {EDITOR_USERNAME} password {password}"
            )
        )
        if settings.FANWEN_SANDBOX:
            self.stdout.write(
                self.style.WARNING(
                    f"支付沙箱已开启 payment sandbox ON: {settings.FANWEN_SANDBOX_ORIGIN}/sandbox/ "
                    "(模拟微信支付、支付宝，一键付款 / emulated WeChat Pay and Alipay)"
                )
            )
        else:
            self.stdout.write("支付沙箱未开启 payment sandbox off (FANWEN_SANDBOX=0)")
        if no_serve:
            return
        self.start_font_builds()
        self.stdout.write(f"网站 site: http://{host}/  (Ctrl+C 停止 / to stop)")
        # No autoreloader: it would re-run this command (and reset the password) in a child.
        call_command("runserver", addr, use_reloader=False)

    def start_font_builds(self) -> None:
        """Queue the missing protection fonts beside the server; each page switches when ready."""
        if settings.FANWEN_PROTECTION != "font":
            return
        # Publishing queued most of them already; the queue skips what is built or under way.
        missing = [a for a in Article.objects.published() if fonts.font_for(a) is None]
        if not missing:
            return
        self.stdout.write(
            f"保护字体 protection fonts: {len(missing)} 篇在后台生成，完成前这些页面用 js 级保护 "
            f"/ {len(missing)} building in the background (js level until each is ready)"
        )

        def report() -> None:
            started = time.monotonic()
            fonts.wait_for_builds(timeout=3600)
            self.stdout.write(f"保护字体 fonts ready in {time.monotonic() - started:.0f}s")

        threading.Thread(target=report, name="demo-fonts", daemon=True).start()
