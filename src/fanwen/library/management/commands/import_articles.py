"""`fanwen import PATH...`: import .docx/.txt/.md/.html files and folders as articles."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from fanwen.library.actions import (
    UNCATEGORIZED,
    do_get_or_create_category,
    do_get_or_create_category_path,
    do_import_article,
)
from fanwen.library.importer import ImportRejected, parse_file
from fanwen.library.importer.files import SUPPORTED, kind_of

log = logging.getLogger(__name__)

# Found in folders; .doc too, so the editor hears why those were not imported.
_WALKED = SUPPORTED | {".doc"}


@dataclass
class Source:
    path: Path  # as found or named: what the report shows
    key: str
    error: str = ""
    target: Path | None = None  # what is read, when a link leads elsewhere


def source_key(relative: str) -> str:
    # "<folder named, or the file's folder>/<path below it>": no absolute paths, so it is
    # stable across machines; hashed only when too long for the column.
    relative = unicodedata.normalize("NFC", relative)
    if len(relative) <= 64:
        return relative
    return "sha256:" + hashlib.sha256(relative.encode("utf-8")).hexdigest()[:57]


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
        for source in sources:
            result = self.import_one(source, options)
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

    def import_one(self, source: Source, options: dict) -> dict:
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
        if source.error:
            return result
        try:
            parsed = parse_file(source.target or source.path)
            with transaction.atomic():
                # Inside the import's transaction: a failed file leaves no new category behind.
                if options["category"]:
                    category = do_get_or_create_category(options["category"])
                elif parsed.category_path:
                    category = do_get_or_create_category_path(parsed.category_path)
                else:
                    folder = (source.target or source.path).resolve().parent.name
                    category = do_get_or_create_category(folder or UNCATEGORIZED)
                article, created = do_import_article(
                    parsed, category=category, publish=options["publish"], source_key=source.key
                )
        except ImportRejected as exc:
            result["error"] = str(exc)
            return result
        except Exception as exc:  # noqa: BLE001 - one broken file must not stop the batch
            log.exception("import of %s failed", source.path)
            result["error"] = f"内部错误：{type(exc).__name__}: {exc}"
            return result
        pieces = list(article.pieces.select_related("duplicate_of").order_by("position"))
        result.update(
            ok=True,
            title=article.title,
            article_id=article.pk,
            created=created,
            category=category.name,
            category_id=category.pk,
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
