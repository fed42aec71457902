"""`fanwen backup [PATH]`: the database and the stored files in one tar.gz (see fanwen.ops.backup)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from fanwen.ops.backup import write_backup


class Command(BaseCommand):
    help = "备份数据库和文件 / back up the database and the stored files into one .tar.gz"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "path",
            nargs="?",
            help="the archive to write (default var/backups/fanwen-<UTC time>.tar.gz)",
        )
        parser.add_argument(
            "--no-fonts",
            action="store_true",
            help="leave out the protection fonts (the worker builds them again)",
        )

    def handle(self, *args, path: str | None, no_fonts: bool, **options) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        output = (
            Path(path) if path else Path(settings.VAR_DIR) / "backups" / f"fanwen-{stamp}.tar.gz"
        )
        manifest = write_backup(output.resolve(), fonts=not no_fonts)
        rows = sum(manifest["counts"].values())
        files = sum(manifest["files"].values())
        self.stdout.write(
            f"backup: {output} ({output.stat().st_size / 1e6:.1f} MB): {rows} rows of "
            f"{len(manifest['counts'])} models, {files} files"
        )
        for label in ("library.article", "orders.order", "orders.entitlement"):
            self.stdout.write(f"  {label}: {manifest['counts'].get(label, 0)}")
