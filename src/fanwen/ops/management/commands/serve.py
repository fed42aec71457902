"""`fanwen serve`: the site under gunicorn, after checks that refuse an unsafe production start."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import checks
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from gunicorn.app.base import BaseApplication

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1", "testserver"}
SQLITE_ENGINES = {"fanwen.lib.sqlite", "django.db.backends.sqlite3"}
# Django's own "weak SECRET_KEY" deploy warning: a refusal, not a warning, in production.
WEAK_KEY_CHECKS = {"security.W009"}
# fanwen.sandbox's check: the sandbox on a production site.
SANDBOX_CHECK = "fanwen.E001"
# gunicorn's combined log plus the time taken and the request id the app answered with.
ACCESS_LOG_FORMAT = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms %({x-request-id}o)s'
)


def default_workers() -> int:
    """FANWEN_WEB_WORKERS, else gunicorn's rule of thumb 2 × CPUs + 1, capped."""
    if settings.FANWEN_WEB_WORKERS > 0:
        return settings.FANWEN_WEB_WORKERS
    return max(1, min(2 * (os.cpu_count() or 1) + 1, settings.FANWEN_WEB_MAX_WORKERS))


def _dev_secret_key() -> bool:
    # The key `fanwen demo` generated under var/, copied into production's environment.
    key_file = Path(settings.VAR_DIR) / "secret_key"
    try:
        return key_file.read_text(encoding="utf-8").strip() == settings.SECRET_KEY
    except OSError:
        return False


def production_problems(*, allow_sqlite: bool, allow_no_redis: bool) -> list[tuple[str, str, str]]:
    """(Chinese, English, how to fix) for each reason not to serve production traffic."""
    problems = []
    if _dev_secret_key():
        problems.append(
            (
                "SECRET_KEY 是开发环境自动生成的密钥",
                "SECRET_KEY is the development key generated under var/",
                "set SECRET_KEY to a new random value (50+ characters)",
            )
        )
    if not set(settings.ALLOWED_HOSTS) - LOOPBACK_HOSTS:
        problems.append(
            (
                "ALLOWED_HOSTS 只有本机地址",
                "ALLOWED_HOSTS names only loopback hosts",
                "set ALLOWED_HOSTS to the site's domain names, e.g. www.example.cn,example.cn",
            )
        )
    if settings.DATABASES["default"]["ENGINE"] in SQLITE_ENGINES and not allow_sqlite:
        problems.append(
            (
                "数据库是 SQLite",
                "the database is SQLite",
                "set DATABASE_URL=postgres://..., or pass --allow-sqlite for a small single server",
            )
        )
    if not settings.REDIS_URL and not allow_no_redis:
        problems.append(
            (
                "没有设置 REDIS_URL",
                "REDIS_URL is not set (cache and rate limits are per process)",
                "set REDIS_URL=redis://..., or pass --allow-no-redis",
            )
        )
    return problems


class FanwenApplication(BaseApplication):
    """gunicorn with its configuration from a dict instead of its command line."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from fanwen.wsgi import application

        # Loaded once in the master (preload): no connection may be shared by the forks.
        connections.close_all()
        return application


class Command(BaseCommand):
    help = (
        "用 gunicorn 运行网站 / serve the site with gunicorn; with FANWEN_PRODUCTION=1 it refuses "
        "to start on a development key, loopback-only hosts, SQLite, no Redis or the sandbox"
    )
    # The checks run in handle(), where --allow-sandbox can waive the sandbox's.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--bind",
            "-b",
            action="append",
            help="HOST:PORT or unix:PATH to listen on, repeatable (default FANWEN_WEB_BIND, "
            "127.0.0.1:8000)",
        )
        parser.add_argument(
            "--workers",
            "-w",
            type=int,
            default=None,
            help="worker processes (default FANWEN_WEB_WORKERS, else 2 × CPUs + 1, capped)",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=None,
            help="threads per worker (default FANWEN_WEB_THREADS, 4); 1 runs sync workers",
        )
        parser.add_argument("--timeout", type=int, default=None, help="seconds per request")
        parser.add_argument(
            "--graceful-timeout",
            type=int,
            default=None,
            help="seconds a stopping worker may finish its requests in",
        )
        parser.add_argument(
            "--access-log",
            choices=["on", "off", "auto"],
            default="auto",
            help="gunicorn's access log on stdout (auto: on, off with FANWEN_LOG_FORMAT=json, "
            "whose request lines say the same)",
        )
        parser.add_argument(
            "--allow-sqlite", action="store_true", help="serve production on SQLite"
        )
        parser.add_argument(
            "--allow-no-redis", action="store_true", help="serve production without REDIS_URL"
        )
        parser.add_argument(
            "--allow-sandbox",
            action="store_true",
            help="serve production with the payment sandbox on (a staging site only)",
        )
        parser.add_argument("--check", action="store_true", help="run the start-up checks and exit")

    def handle(self, *args, **options) -> None:
        self.preflight(options)
        if options["check"]:
            self.stdout.write("serve: 检查通过 / checks passed")
            return
        config = self.gunicorn_options(options)
        self.stdout.write(
            f"serve: gunicorn on {', '.join(config['bind'])} with {config['workers']} workers"
            f" × {config['threads']} threads"
        )
        connections.close_all()
        FanwenApplication(config).run()

    def preflight(self, options: dict[str, Any]) -> None:
        """Django's checks (deploy tags included) and, in production, fanwen's refusals."""
        production = settings.PRODUCTION
        waived = {SANDBOX_CHECK} if options["allow_sandbox"] else set()
        messages = [
            m
            for m in checks.run_checks(include_deployment_checks=production)
            if m.id not in waived and not m.is_silenced()
        ]
        serious = [
            m
            for m in messages
            if m.level >= checks.ERROR or (production and m.id in WEAK_KEY_CHECKS)
        ]
        for message in messages:
            if message not in serious:
                self.stderr.write(f"warning: {message}")
        reasons = [f"{m} (system check {m.id})" for m in serious]
        if production:
            for chinese, english, fix in production_problems(
                allow_sqlite=options["allow_sqlite"], allow_no_redis=options["allow_no_redis"]
            ):
                reasons.append(f"{chinese} / {english}: {fix}")
        if reasons:
            lines = "\n".join(f"  - {reason}" for reason in reasons)
            raise CommandError(
                "拒绝启动 / refusing to start"
                + (" (FANWEN_PRODUCTION=1)" if production else "")
                + ":\n"
                + lines
            )

    def gunicorn_options(self, options: dict[str, Any]) -> dict[str, Any]:
        access = options["access_log"]
        if access == "auto":
            access = "off" if settings.FANWEN_LOG_FORMAT == "json" else "on"
        workers = options["workers"] if options["workers"] is not None else default_workers()
        if workers < 1:
            raise CommandError("--workers must be at least 1")
        threads = options.get("threads") or settings.FANWEN_WEB_THREADS
        if threads < 1:
            raise CommandError("--threads must be at least 1")
        return {
            "bind": options["bind"] or [settings.FANWEN_WEB_BIND],
            "workers": workers,
            # Threads let a worker wait on the database or a provider without holding the rest.
            "worker_class": "gthread" if threads > 1 else "sync",
            "threads": threads,
            "timeout": options["timeout"] or settings.FANWEN_WEB_TIMEOUT,
            "graceful_timeout": options["graceful_timeout"] or settings.FANWEN_WEB_GRACEFUL_TIMEOUT,
            "keepalive": settings.FANWEN_WEB_KEEPALIVE,
            "accesslog": "-" if access == "on" else None,
            "access_log_format": ACCESS_LOG_FORMAT,
            "errorlog": "-",
            "proc_name": "fanwen",
            # The app (and what wsgi.py warms up) loads once, before the workers fork.
            "preload_app": True,
        }
