"""One-file backups (`fanwen backup`) that restore into SQLite or PostgreSQL (`fanwen restore`).

An archive (tar.gz) holds, in this order:

    manifest.json   format, fanwen version, created_at, the source engine, rows per model
    data.jsonl      dumpdata of every app, natural foreign keys, one object a line
    files/<root>/…  the stored files: each local storage (uploads, DOCX), the protection
                    fonts, the sandbox's keys, and the generated development SECRET_KEY

Left out because they are rebuilt or short-lived: content types and permissions (made by
migrate), sessions, the admin's log, the search index and its outbox (restore reindexes),
rate-limit counters and the worker's records. JSON lines are written and read one object at
a time, so neither side holds the whole database in memory.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path, PurePosixPath
from typing import IO

from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.core.files.storage import FileSystemStorage, storages
from django.core.management import call_command
from django.db import connection, transaction

FORMAT = 1
MANIFEST = "manifest.json"
DATA = "data.jsonl"
# Django's JSON lines with datetimes to the microsecond (fanwen.ops.jsonl).
SERIALIZER = "fwjsonl"
serializers.register_serializer(SERIALIZER, "fanwen.ops.jsonl")
FILES = "files"
# Models left out of the dump (app labels, or app_label.ModelName).
EXCLUDE = [
    "contenttypes",
    "auth.permission",
    "sessions",
    "admin.logentry",
    "search",
    "ops",
    "protection.ratecounter",
]
# Rows that migrations create in an empty database: they do not make it "non-empty".
SEEDED = {"orders.plan", "pages.sitepage"}


class BackupError(Exception):
    pass


def fanwen_version() -> str:
    try:
        return version("fanwen")
    except PackageNotFoundError:
        return "unknown"


def file_roots() -> dict[str, Path]:
    """Archive name → this site's directory, for every kind of stored file that is state.

    Local STORAGES by alias ("media" for "default"); a bucket (FANWEN_STORAGE=s3) is outside
    the server and backed up on its own (external_storages()).
    """
    roots: dict[str, Path] = {}
    for alias in settings.STORAGES:
        if alias == "staticfiles":
            continue  # collected from the code by collectstatic
        storage = storages[alias]
        if isinstance(storage, FileSystemStorage):
            roots["media" if alias == "default" else alias] = Path(storage.location)
    if "fonts" not in roots and "fonts" not in settings.STORAGES:
        from fanwen.protection.fonts import font_dir

        roots["fonts"] = font_dir()
    # As fanwen.sandbox.keys and alipay_keys place them (that app may not be installed here).
    sandbox = Path(settings.FANWEN_SANDBOX_DIR or Path(settings.VAR_DIR) / "sandbox")
    roots["sandbox"] = sandbox
    roots["sandbox-alipay"] = sandbox.with_name(sandbox.name + "-alipay")
    # Two names for one directory (a storage inside another) would store its files twice.
    unique: dict[str, Path] = {}
    for name, path in roots.items():
        resolved = path.resolve()
        if not any(resolved == seen or seen in resolved.parents for seen in unique.values()):
            unique[name] = resolved
    return unique


def external_storages() -> list[str]:
    return [
        alias
        for alias in settings.STORAGES
        if alias != "staticfiles" and not isinstance(storages[alias], FileSystemStorage)
    ]


def secret_key_file() -> Path:
    """The development SECRET_KEY (settings._secret_key): visitors' signed cookies need it."""
    return Path(settings.VAR_DIR) / "secret_key"


# --- backup ----------------------------------------------------------------------------------


@contextmanager
def _snapshot() -> Iterator[None]:
    # PostgreSQL: every table read from one snapshot. SQLite's write-locking transactions
    # would stop the site's writers for the whole dump, so there each table is read as it is.
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield
    else:
        yield


def count_lines(path: Path) -> dict[str, int]:
    counts: Counter = Counter()
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                counts[json.loads(line)["model"]] += 1
    return dict(sorted(counts.items()))


def write_backup(output: Path, *, fonts: bool = True) -> dict:
    """Write the archive to `output` (through a .part file, renamed when complete)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fanwen-backup-") as scratch:
        data = Path(scratch) / DATA
        with _snapshot():
            call_command(
                "dumpdata",
                format=SERIALIZER,
                exclude=EXCLUDE,
                natural_foreign=True,
                output=str(data),
                verbosity=0,
            )
        roots = {
            name: path
            for name, path in file_roots().items()
            if path.is_dir() and (fonts or name != "fonts")
        }
        key_file = secret_key_file()
        manifest = {
            "format": FORMAT,
            "version": fanwen_version(),
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "engine": connection.vendor,
            "counts": count_lines(data),
            "files": {name: _file_count(path) for name, path in roots.items()},
            "external_storages": external_storages(),
            "secret_key_file": key_file.is_file(),
        }
        partial = output.with_name(output.name + ".part")
        with tarfile.open(partial, "w:gz") as archive:
            _add_bytes(archive, MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
            archive.add(data, arcname=DATA)
            for name, path in roots.items():
                archive.add(path, arcname=f"{FILES}/{name}", filter=_regular_only)
            if key_file.is_file():
                archive.add(key_file, arcname=f"{FILES}/secret_key")
        os.replace(partial, output)
    return manifest


def _file_count(path: Path) -> int:
    return sum(1 for entry in path.rglob("*") if entry.is_file())


def _regular_only(member: tarfile.TarInfo) -> tarfile.TarInfo | None:
    # Links could point anywhere when restored: only directories and plain files are kept.
    return member if member.isfile() or member.isdir() else None


def _add_bytes(archive: tarfile.TarFile, name: str, text: str) -> None:
    data = text.encode("utf-8")
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now(UTC).timestamp())
    info.mode = 0o600
    archive.addfile(info, io.BytesIO(data))


# --- restore ---------------------------------------------------------------------------------


def model_label(model) -> str:
    return model._meta.label_lower


def existing_rows() -> dict[str, int]:
    """Rows already in this database, per model, seeds of the migrations left out."""
    tables = set(connection.introspection.table_names())
    found = {}
    for model in apps.get_models():
        label = model_label(model)
        if label in SEEDED or _excluded(label) or model._meta.db_table not in tables:
            continue
        if not model._meta.managed or model._meta.proxy:
            continue
        count = model._base_manager.count()
        if count:
            found[label] = count
    return found


def _excluded(label: str) -> bool:
    app_label = label.split(".", 1)[0]
    return label in EXCLUDE or app_label in EXCLUDE


def current_counts(labels: list[str]) -> dict[str, int | None]:
    """Rows now, per model label; None for a model this site does not have installed."""
    counts: dict[str, int | None] = {}
    for label in labels:
        try:
            model = apps.get_model(label)
        except LookupError:
            counts[label] = None
            continue
        counts[label] = model._base_manager.count()
    return counts


def read_manifest(stream: IO[bytes]) -> dict:
    manifest = json.load(stream)
    if manifest.get("format") != FORMAT:
        raise BackupError(
            f"备份格式 {manifest.get('format')!r} 不受支持 / unsupported backup format"
        )
    return manifest


def safe_relative(name: str, prefix: str) -> PurePosixPath | None:
    """The part of `name` under `prefix`/, or None when it is not a plain path under it."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        return None
    parts = path.parts
    if len(parts) < 2 or PurePosixPath(*parts[:2]) != PurePosixPath(FILES, prefix):
        return None
    return PurePosixPath(*parts[2:]) if len(parts) > 2 else PurePosixPath(".")


def extract_file(archive: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    source = archive.extractfile(member)
    if source is None:
        return
    partial = target.with_name(target.name + ".restoring")
    with source, partial.open("wb") as out:
        shutil.copyfileobj(source, out, 1024 * 1024)
    os.chmod(partial, member.mode & 0o777 or 0o600)
    os.replace(partial, target)
