"""The per-file import core, shared by `fanwen import` and the upload batches of the desk:

    FileJob, parse_group(jobs)   # parse each file, then drop the chrome the group repeats
    GroupParser(processes)       # the same, groups ahead in parse processes (upload batches)
    store_parsed(job, ...)       # category → do_import_article → publish → result dict

Results are dicts with a status of OK, REFUSED or ERROR and a reason in Chinese for the editor.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import unicodedata
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction

from fanwen.library.actions import (
    UNCATEGORIZED,
    do_get_or_create_category,
    do_get_or_create_category_path,
    do_import_article,
    do_publish_article,
)
from fanwen.library.importer import ImportRejected, ParsedArticle, dedup
from fanwen.library.importer.groups import (
    PARSE_SETTINGS,
    ParsedGroup,
    parse_named,
    start_parse_process,
)
from fanwen.library.models import Article, Category, Piece
from fanwen.search import analysis

log = logging.getLogger(__name__)

GROUP_SIZE = 50  # files parsed together: the chrome a group repeats is learnt from it
COMMIT_SECONDS = 1.0  # files stored within this time share one commit (each in a savepoint)

# What became of a file (the staff app's ImportItem.Status uses the same values).
OK, REFUSED, ERROR = "ok", "refused", "error"
# When a stored article goes out (the staff app's ImportBatch.PublishMode, same values).
DRAFT, NOW, AT = "draft", "now", "at"


@dataclass
class FileJob:
    """One file on its way through parse → chrome → category → store."""

    name: str  # what the editor sees
    read: Callable[[], bytes]  # raises ImportRejected
    source_key: str
    folder: str = ""  # the folder it sits in inside the upload ("" at the top)
    parsed: ParsedArticle | None = None
    result: dict = field(default_factory=dict)  # filled when parsing fails


def source_key(relative: str) -> str:
    """ "<folder or upload>/<path below it>": no absolute paths, so it is stable across machines;
    hashed only when too long for the column. Re-importing the same path updates in place."""
    relative = unicodedata.normalize("NFC", relative)
    if len(relative) <= 64:
        return relative
    return "sha256:" + hashlib.sha256(relative.encode("utf-8")).hexdigest()[:57]


def _failure(status: str, reason: str) -> dict:
    return {"status": status, "reason": reason}


def _read_jobs(jobs: list[FileJob]) -> list[tuple[str, bytes | None]]:
    named: list[tuple[str, bytes | None]] = []
    for job in jobs:
        try:
            named.append((job.name, job.read()))
        except ImportRejected as exc:
            job.result = _failure(REFUSED, str(exc))
            named.append((job.name, None))
    return named


def _take(jobs: list[FileJob], group: ParsedGroup) -> None:
    for job, (parsed, failure) in zip(jobs, group.outcomes, strict=True):
        job.parsed = parsed
        if failure is not None:
            job.result = _failure(REFUSED if failure.refused else ERROR, failure.reason)
    dedup.remember(group.signatures)
    if group.analyzed:
        analysis.remember(group.analyzed)


def parse_group(jobs: list[FileJob]) -> None:
    """Parse each job (a failure goes into job.result), then strip the group's repeated chrome."""
    _take(jobs, parse_named(_read_jobs(jobs)))


class GroupParser:
    """Parses groups of files while the caller stores earlier ones.

    With processes > 0 each group goes to a pool of parse processes (spawned, not forked: a
    web process that runs a batch in a thread may start them safely); submit() returns at
    once and collect() waits for that group. With 0, collect() parses inline. A pool that
    breaks (a parse process killed) is given up and the groups are parsed inline.
    """

    def __init__(self, processes: int, *, index_ahead: bool = False) -> None:
        self.processes = max(0, processes)
        # Articles published on import: their search analysis is made in the parse processes
        # too (in the runner it would cost the same time, only earlier).
        self.index_ahead = index_ahead
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> GroupParser:
        return self

    def __exit__(self, *exc_info) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _started_pool(self) -> ProcessPoolExecutor | None:
        if self.processes and self._pool is None:
            values = {name: getattr(settings, name) for name in PARSE_SETTINGS}
            self._pool = ProcessPoolExecutor(
                max_workers=self.processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=start_parse_process,
                initargs=(os.environ.get("DJANGO_SETTINGS_MODULE", "fanwen.settings"), values),
            )
        return self._pool

    def submit(self, jobs: list[FileJob]) -> Future | list[tuple[str, bytes | None]]:
        named = _read_jobs(jobs)
        pool = self._started_pool()
        if pool is None:
            return named
        try:
            return pool.submit(parse_named, named, self.index_ahead)
        except BrokenProcessPool:
            self._give_up_pool()
            return named

    def collect(self, jobs: list[FileJob], handle: Future | list) -> None:
        if not isinstance(handle, Future):
            _take(jobs, parse_named(handle))
            return
        try:
            group = handle.result()
        except BrokenProcessPool:
            log.warning("a parse process died; parsing the rest of the batch here")
            self._give_up_pool()
            # The bytes went with the lost task: read the files again.
            group = parse_named(_read_jobs(jobs))
        _take(jobs, group)

    def _give_up_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = None
        self.processes = 0


def parse_processes(files: int) -> int:
    """Parse processes for a batch of this many files: none for a group or two (starting
    one costs more than it saves), else FANWEN_IMPORT_PARSE_PROCESSES."""
    if files <= 2 * GROUP_SIZE:
        return 0
    return max(0, settings.FANWEN_IMPORT_PARSE_PROCESSES)


def choose_category(
    parsed: ParsedArticle,
    *,
    folder: str,
    category: Category | None = None,
    category_name: str = "",
    folder_first: bool = False,
) -> Category:
    """The editor's category; else the folder (first when asked) or the page's breadcrumb."""
    if category is not None:
        return category
    if category_name:
        return do_get_or_create_category(category_name)
    if folder and folder_first:
        return do_get_or_create_category(folder)
    if parsed.category_path:
        return do_get_or_create_category_path(parsed.category_path)
    return do_get_or_create_category(folder or UNCATEGORIZED)


def store_parsed(
    job: FileJob,
    *,
    category: Category | None = None,
    category_name: str = "",
    folder_first: bool = False,
    publish_mode: str = DRAFT,
    publish_at: datetime | None = None,
) -> tuple[dict, Article | None]:
    """Store a parsed job in its own transaction (a savepoint inside a caller's); a refusal or
    an error stores nothing. Returns (result, article): result has status, reason, title,
    piece_count, category, created and duplicates."""
    if job.parsed is None:
        return job.result or _failure(ERROR, "文件未解析"), None
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                # Inside the file's transaction: a failed file leaves no new category behind.
                chosen = choose_category(
                    job.parsed,
                    folder=job.folder,
                    category=category,
                    category_name=category_name,
                    folder_first=folder_first,
                )
                article, created = do_import_article(
                    job.parsed,
                    category=chosen,
                    publish=publish_mode == NOW,
                    source_key=job.source_key,
                )
                if publish_mode == AT:
                    article = do_publish_article(article, when=publish_at)
            break
        except IntegrityError:
            # Another runner created the same new category a moment ago: now it is found.
            if attempt == 2:
                log.exception("import of %s failed twice", job.name)
                return _failure(ERROR, "内部错误：数据冲突，请重新导入"), None
        except ImportRejected as exc:
            return _failure(REFUSED, str(exc)), None
        except Exception as exc:  # noqa: BLE001 - one broken file must not stop the batch
            log.exception("import of %s failed", job.name)
            return _failure(ERROR, f"内部错误：{type(exc).__name__}: {exc}"), None
    result = {
        "status": OK,
        "reason": "",
        "article_id": article.pk,
        "title": article.title,
        "piece_count": article.piece_count,
        "pieces": len(job.parsed.pieces),  # every parsed piece is stored, copies included
        "category": chosen.name,
        "category_id": chosen.pk,
        "created": created,
        # (优秀N篇) leaves the copies out: when it counts every piece there is none to list.
        "duplicates": duplicates_of(article)
        if article.piece_count < len(job.parsed.pieces)
        else [],
    }
    return result, article


def duplicates_of(article: Article) -> list[dict]:
    """Each piece of the article that near-copies another: which one, where."""
    found = []
    pieces = (
        Piece.objects.filter(article=article, duplicate_of__isnull=False)
        .select_related("duplicate_of__article")
        .order_by("position")
    )
    for piece in pieces:
        other = piece.duplicate_of
        found.append(
            {
                "piece": piece.position,
                "piece_label": piece.label,
                "piece_title": piece.title,
                "of_piece_id": other.pk,
                "of_position": other.position,
                "of_label": other.label,
                "of_article_id": other.article_id,
                "of_article_title": other.article.title,
                "same_article": other.article_id == article.pk,
            }
        )
    return found
