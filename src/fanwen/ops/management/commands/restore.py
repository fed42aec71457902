"""`fanwen restore PATH`: an archive of `fanwen backup` into an empty database (see fanwen.ops.backup)."""

from __future__ import annotations

import os
import tarfile
import tempfile
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from fanwen.lib import gather
from fanwen.ops.backup import (
    DATA,
    FILES,
    MANIFEST,
    SERIALIZER,
    BackupError,
    current_counts,
    existing_rows,
    extract_file,
    file_roots,
    read_manifest,
    safe_relative,
    secret_key_file,
)


class Command(BaseCommand):
    help = (
        "从备份恢复 / restore a `fanwen backup` archive: migrate, load, put the files back, "
        "rebuild the search index (refuses a database that holds data, unless --force)"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="the .tar.gz written by `fanwen backup`")
        parser.add_argument(
            "--force",
            action="store_true",
            help="empty this database first (everything in it is lost) and restore over it",
        )
        parser.add_argument(
            "--no-reindex", action="store_true", help="leave the search index to `search_reindex`"
        )

    def handle(self, *args, path: str, force: bool, no_reindex: bool, **options) -> None:
        source = Path(path)
        if not source.is_file():
            raise CommandError(f"没有这个文件 / no such file: {source}")
        try:
            # Read as a stream: the archive is never unpacked whole.
            with tarfile.open(source, "r|gz") as archive, tempfile.TemporaryDirectory() as tmp:
                manifest = self.restore(archive, Path(tmp), force=force)
        except (BackupError, tarfile.TarError, KeyError, ValueError) as exc:
            raise CommandError(f"恢复失败 / restore failed: {exc}") from exc
        if not no_reindex:
            call_command("search_reindex", no_progress=True, stdout=self.stdout)
        self.compare(manifest)

    def restore(self, archive: tarfile.TarFile, scratch: Path, *, force: bool) -> dict:
        first = archive.next()
        if first is None or first.name != MANIFEST:
            raise BackupError("这不是 fanwen backup 的备份 / not an archive of `fanwen backup`")
        manifest = read_manifest(archive.extractfile(first))
        self.stdout.write(
            f"restore: backup of {manifest['created_at']} (fanwen {manifest['version']}, "
            f"{manifest['engine']}) into this {self.vendor()} database"
        )
        found = existing_rows()
        if found and not force:
            listed = ", ".join(f"{label} {count}" for label, count in sorted(found.items())[:8])
            raise CommandError(
                "数据库不是空的，拒绝恢复 / the database is not empty, refusing to restore "
                f"({listed}); restore into a new database, or pass --force to replace everything"
            )
        call_command("migrate", interactive=False, verbosity=0)
        data = archive.next()
        if data is None or data.name != DATA:
            raise BackupError(f"{DATA} missing after the manifest")
        # loaddata knows the format by the extension.
        dump = scratch / f"data.{SERIALIZER}"
        extract_file(archive, data, dump)
        # Empties the seeded rows (default plans and pages) too: the archive has the site's own.
        call_command("flush", interactive=False, verbosity=0)
        # Inside a batch: the font builds and index updates of each saved article wait.
        with gather.batch():
            call_command("loaddata", str(dump), ignorenonexistent=True, verbosity=0)
        dump.unlink()
        self.restore_files(archive)
        self.external_note(manifest)
        from fanwen.library import pagecache

        # Pages cached before (a shared Redis) show what is no longer there.
        pagecache.purge_all()
        return manifest

    def restore_files(self, archive: tarfile.TarFile) -> None:
        roots = file_roots()
        restored: dict[str, int] = {}
        skipped: dict[str, int] = {}
        for member in archive:
            # The iteration starts again at the manifest and the dump, read already.
            if not member.isfile() or member.name in {MANIFEST, DATA}:
                continue
            if member.name == f"{FILES}/secret_key":
                extract_file(archive, member, secret_key_file())
                restored["secret_key"] = 1
                if os.environ.get("SECRET_KEY") or os.environ.get("SECRET_KEY_FILE"):
                    self.stdout.write(
                        "  var/secret_key 已恢复，但本站使用环境变量 SECRET_KEY / restored, but "
                        "this site takes SECRET_KEY from its environment: keep the old one there"
                    )
                continue
            for name, root in roots.items():
                relative = safe_relative(member.name, name)
                if relative is not None and relative.parts:
                    extract_file(archive, member, root.joinpath(*relative.parts))
                    restored[name] = restored.get(name, 0) + 1
                    break
            else:
                top = "/".join(member.name.split("/", 2)[:2])
                skipped[top] = skipped.get(top, 0) + 1
        for name, count in sorted(restored.items()):
            self.stdout.write(f"  files/{name}: {count}")
        for name, count in sorted(skipped.items()):
            self.stderr.write(f"restore: skipped {count} files of {name} (no place for them here)")

    def external_note(self, manifest: dict) -> None:
        for alias in manifest.get("external_storages", []):
            self.stdout.write(
                f"  STORAGES[{alias!r}] 在对象存储中，未包含在备份里 / is a bucket, not in the "
                "archive: back it up (and restore it) with the bucket's own tools"
            )

    def compare(self, manifest: dict) -> None:
        expected: dict[str, int] = manifest["counts"]
        now = current_counts(sorted(expected))
        differ = []
        self.stdout.write(f"{'model':40} {'backup':>8} {'restored':>9}")
        for label, count in sorted(expected.items()):
            restored = now[label]
            if restored is None:
                note = "  未安装，跳过 / not installed here"
            elif restored != count:
                note = "  ✗ 不一致 / differs"
                differ.append(label)
            else:
                note = ""
            shown = "-" if restored is None else str(restored)
            self.stdout.write(f"{label:40} {count:>8} {shown:>9}{note}")
        if differ:
            raise CommandError(
                "恢复后的行数与备份不一致 / row counts differ from the backup: " + ", ".join(differ)
            )
        self.stdout.write("restore: 完成 / done, every count matches the backup")

    @staticmethod
    def vendor() -> str:
        from django.db import connection

        return connection.vendor
