"""`fanwen import PATH...`: import .docx/.txt/.md/.html files and folders as articles."""

from __future__ import annotations

import json
import logging
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from fanwen.library.importer import ImportRejected
from fanwen.library.importer.files import SUPPORTED, kind_of, read_regular_file
from fanwen.library.importing import (
    COMMIT_SECONDS,
    GROUP_SIZE,
    FileJob,
    parse_group,
    source_key,
    store_parsed,
)

log = logging.getLogger(__name__)

# Found in folders; .doc too, so the editor hears why those were not imported.
_WALKED = SUPPORTED | {".doc"}


@dataclass
class Source:
    path: Path  # as found or named: what the report shows
    key: str
    error: str = ""
    target: Path | None = None  # what is read, when a link leads elsewhere


def _walked_file(path: Path, root: Path) -> tuple[Path, str]:
    """(the path to read, an error) for an entry of a folder: only regular files are read;
    a symlink only when it stays inside the folder and ends at a regular file."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        return path, f"无法读取文件：{exc.strerror or exc}"
    if stat.S_ISLNK(info.st_mode):
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return path, "符号链接指向不存在的文件或形成循环，已跳过"
        if not target.is_relative_to(root):
            return path, "符号链接指向导入文件夹以外，已跳过"
        try:
            info = os.stat(target)
        except OSError as exc:
            return path, f"无法读取文件：{exc.strerror or exc}"
        if kind_of(info.st_mode):
            return path, f"符号链接指向的不是普通文件（{kind_of(info.st_mode)}），已跳过"
        return target, ""
    if kind_of(info.st_mode):
        return path, f"这不是普通文件（{kind_of(info.st_mode)}），不导入"
    return path, ""


def discover(paths: list[str]) -> list[Source]:
    found: list[Source] = []
    for arg in paths:
        root = Path(arg)
        if root.is_dir():
            base = root.resolve().name
            real_root = root.resolve()
            # os.walk never descends into symlinked folders (followlinks=False).
            for folder, dirs, files in os.walk(root):
                # Hidden folders and the "xxx_files" asset folders browsers save next to pages.
                dirs[:] = sorted(
                    d
                    for d in dirs
                    if not d.startswith(".") and not d.endswith(("_files", ".files"))
                )
                for name in sorted(files):
                    path = Path(folder, name)
                    if name.startswith((".", "~$")) or path.suffix.lower() not in _WALKED:
                        continue
                    target, error = _walked_file(path, real_root)
                    key = source_key(f"{base}/{path.relative_to(root).as_posix()}")
                    found.append(Source(path, key, error=error, target=target))
        elif root.exists():
            # A file named on the command line is the operator's choice, links included;
            # read_regular_file still refuses devices, FIFOs and sockets.
            target = root.resolve()
            key = source_key(f"{target.parent.name}/{root.name}")
            found.append(Source(root, key, target=target))
        else:
            found.append(Source(root, "", error="文件或文件夹不存在"))
    return found


class Command(BaseCommand):
    help = "导入 .docx/.txt/.md/.html 文件或文件夹（递归）为范文。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH", help="文件或文件夹")
        parser.add_argument("--category", help="分类的网址名或名称（不存在则创建）")
        parser.add_argument("--publish", action="store_true", help="导入后立即发布")
        parser.add_argument("--json", action="store_true", help="每个文件输出一行 JSON 到标准输出")
        parser.add_argument("--no-progress", action="store_true", help="不显示进度条")

    def handle(self, *args, **options) -> None:
        sources = discover(options["paths"])
        failed = 0
        # tqdm needs the raw stream: Django's wrapper would end every redraw with a newline.
        err_stream = getattr(self.stderr, "_out", self.stderr)
        bar = tqdm(
            total=len(sources),
            file=err_stream,
            unit="个",
            desc="导入",
            disable=options["no_progress"],
            dynamic_ncols=True,
        )
        # The same per-file core as an upload batch on the desk (fanwen.staff.importing): files
        # are parsed a group at a time so chrome the group repeats is learnt and dropped.
        for start in range(0, len(sources), GROUP_SIZE):
            group = sources[start : start + GROUP_SIZE]
            jobs = [self.job_for(source) for source in group]
            parse_group(jobs)
            pending = list(zip(group, jobs, strict=True))
            while pending:
                # As run_batch: each file in its own savepoint, one commit a second (the
                # after-commit search pass once a second, not once a file); reported once committed.
                started, results = time.monotonic(), []
                with transaction.atomic():
                    while True:
                        source, job = pending.pop(0)
                        results.append(self.import_one(source, options, job))
                        if not pending or time.monotonic() - started >= COMMIT_SECONDS:
                            break
                for result in results:
                    if not result["ok"]:
                        failed += 1
                    if options["json"]:
                        self.stdout.write(json.dumps(result, ensure_ascii=False))
                    elif not result["ok"]:
                        bar.write(f"失败 {result['file']}: {result['error']}", file=err_stream)
                    bar.update()
        bar.close()
        done = len(sources) - failed
        self.stderr.write(f"导入完成：成功 {done} 个，失败 {failed} 个")
        if failed:
            raise CommandError(f"{failed} 个文件导入失败", returncode=1)

    @staticmethod
    def job_for(source: Source) -> FileJob:
        path = source.target or source.path

        def read() -> bytes:
            if source.error:
                raise ImportRejected(source.error)
            if path.suffix.lower() not in SUPPORTED:
                return b""  # parse_bytes says why this type is not imported
            return read_regular_file(path, settings.FANWEN_IMPORT_MAX_BYTES)

        folder = path.resolve().parent.name if not source.error else ""
        return FileJob(name=path.name, read=read, source_key=source.key, folder=folder)

    def import_one(self, source: Source, options: dict, job: FileJob | None = None) -> dict:
        """Store one source; `job` is the source already parsed with its group (else parsed here,
        alone, as bench/import_fuzz.py imports one file in a child process)."""
        if job is None:
            job = self.job_for(source)
            parse_group([job])
        result: dict = {
            "file": str(source.path),
            "ok": False,
            "error": source.error or None,
            "title": None,
            "article_id": None,
            "created": None,
            "category": None,
            "category_id": None,
            "piece_count": None,
            "pieces": [],
        }
        stored, article = store_parsed(
            job,
            category_name=options["category"] or "",
            publish_mode="now" if options["publish"] else "draft",
        )
        if article is None:
            result["error"] = stored["reason"]
            return result
        pieces = list(article.pieces.select_related("duplicate_of").order_by("position"))
        result.update(
            ok=True,
            title=article.title,
            article_id=article.pk,
            created=stored["created"],
            category=stored["category"],
            category_id=stored["category_id"],
            piece_count=article.piece_count,
            pieces=[
                {
                    "position": piece.position,
                    "title": piece.title,
                    "blocks": piece.blocks,
                    "placeholders": piece.placeholders,
                    "duplicate_of": piece.duplicate_of_id,
                    "duplicate_of_article_id": (
                        piece.duplicate_of.article_id if piece.duplicate_of else None
                    ),
                }
                for piece in pieces
            ],
        )
        return result
