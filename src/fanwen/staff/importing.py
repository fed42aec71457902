"""Import batches: store an upload quickly, run it off the request, one shared per-file core.

    create_batch(files, *, user, category, category_from_folder, publish_mode, publish_at)
        -> ImportBatch    # files: (name, bytes) or (name, Path); a .zip is expanded safely
    run_batch(batch_id) -> ImportBatch   # safe to call from several processes at once
    import_batches_job() -> Counter      # the worker's job: queued and stale batches

The per-file core (parse, chrome, category, store) is fanwen.library.importing, which
`fanwen import` runs too.

Transactions: each file is stored in its own savepoint together with its item's status and the
batch counters (a refused or failing file stores nothing, the batch goes on); a runner commits
every COMMIT_SECONDS (1 s), so the after-commit passes (search index, page cache) run once a
second rather than once a file. A crash undoes at most that last second, which is run again.

Stored files: each accepted file is kept in default_storage under imports/<batch>/ until its
item is processed, then removed (the article holds the content; a refusal keeps its reason).
With FANWEN_STORAGE=s3 that is a bucket every node shares: a runner on any node takes a batch.
"""

from __future__ import annotations

import logging
import posixpath
import threading
import time
import uuid
import zipfile
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import close_old_connections, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from fanwen.library.bulk import bulk_import
from fanwen.library.importer import ImportRejected, parse_bytes
from fanwen.library.importer.files import SUPPORTED, read_regular_file
from fanwen.library.importing import (
    COMMIT_SECONDS,
    GROUP_SIZE,
    FileJob,
    GroupParser,
    parse_processes,
    source_key,
    store_parsed,
)
from fanwen.library.models import Category
from fanwen.staff.models import ImportBatch, ImportItem

log = logging.getLogger(__name__)

STALE_SECONDS = 60  # a running batch or a claim not touched for this long is free again
_TOUCH_SECONDS = 10  # how often a runner refreshes its heartbeat and claims
_SKIPPED_PARTS = ("__MACOSX",)


# --- creating a batch --------------------------------------------------------------------------


@dataclass
class _Entry:
    name: str
    folder: str
    data: bytes | None = None  # None for a refused entry
    reason: str = ""


def _refusal_for_name(name: str) -> str:
    """Why a file of this type is not imported ("" if it may be)."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in SUPPORTED:
        return ""
    try:
        parse_bytes(b"", name)  # the importer's own message for .doc and other types
    except ImportRejected as exc:
        return str(exc)
    return "不支持的文件类型"


def _mb(n: int) -> str:
    return f"{n / 1048576:g} MB"


def _member_name(info: zipfile.ZipInfo) -> str:
    name = info.filename
    if not info.flag_bits & 0x800:
        # Without the UTF-8 flag Python decodes names as CP437; Chinese Windows writes GBK.
        try:
            name = name.encode("cp437").decode("gb18030")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return name.replace("\\", "/")


def _safe_member_path(name: str) -> str | None:
    """The member's path if it stays inside the archive, else None (absolute, .., drive)."""
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return None
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


def _hidden(path: str) -> bool:
    parts = path.split("/")
    return any(
        part.startswith((".", "~$"))
        or part in _SKIPPED_PARTS
        or part.endswith(("_files", ".files"))
        for part in parts[:-1]
    ) or parts[-1].startswith((".", "~$"))


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes | None:
    """At most `limit` inflated bytes, counted while reading; None when there are more."""
    chunks, total = [], 0
    with archive.open(info) as stream:
        while True:
            chunk = stream.read(min(1024 * 1024, limit + 1 - total))
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                return None


def _expand_zip(name: str, data: bytes, folder: str) -> Iterator[_Entry]:
    """The members of an uploaded zip as entries; unsafe or oversized members are refused."""
    max_members = settings.FANWEN_UPLOAD_MAX_ZIP_MEMBERS
    max_total = settings.FANWEN_UPLOAD_MAX_UNZIPPED_BYTES
    max_member = settings.FANWEN_IMPORT_MAX_BYTES
    try:
        archive = zipfile.ZipFile(_BytesReader(data))
        infos = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        yield _Entry(name, folder, reason="压缩包已损坏或不是 zip 文件")
        return
    if len(infos) > max_members:
        reason = f"压缩包里有 {len(infos)} 个文件，超过上限 {max_members} 个"
        yield _Entry(name, folder, reason=reason)
        return
    inflated = 0
    for info in infos:
        raw_name = _member_name(info)
        path = _safe_member_path(raw_name)
        shown = f"{name}/{path or raw_name}"
        if path is None:
            yield _Entry(shown, folder, reason="文件路径不安全（绝对路径或含 ..），不导入")
            continue
        if _hidden(path):
            continue
        member_folder = posixpath.dirname(path)
        member_folder = posixpath.basename(member_folder) if member_folder else folder
        suffix = PurePosixPath(path).suffix.lower()
        if suffix == ".zip":
            yield _Entry(shown, member_folder, reason="压缩包里的压缩包不展开，请解压后再上传")
            continue
        reason = _refusal_for_name(path)
        if reason:
            yield _Entry(shown, member_folder, reason=reason)
            continue
        if info.file_size > max_member:
            yield _Entry(shown, member_folder, reason=f"文件过大，上限 {_mb(max_member)}")
            continue
        if info.flag_bits & 0x1:
            yield _Entry(shown, member_folder, reason="压缩包里的文件有密码，无法读取")
            continue
        try:
            content = _read_member(archive, info, min(max_member, max_total - inflated))
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError) as exc:
            yield _Entry(shown, member_folder, reason=f"压缩包里的文件读不出：{exc}")
            continue
        if content is None:
            # The sizes a zip declares can lie: what was inflated decides.
            if inflated + max_member > max_total:
                reason = f"压缩包解压后超过上限 {_mb(max_total)}，其余文件未导入"
                yield _Entry(shown, member_folder, reason=reason)
                break
            yield _Entry(shown, member_folder, reason=f"文件过大，上限 {_mb(max_member)}")
            continue
        inflated += len(content)
        yield _Entry(shown, member_folder, data=content)


class _BytesReader:
    """A seekable read-only view of bytes for zipfile, without copying into BytesIO."""

    def __init__(self, data: bytes) -> None:
        self._view = memoryview(data)
        self._pos = 0

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = (0, self._pos, len(self._view))[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def read(self, n: int = -1) -> bytes:
        end = len(self._view) if n is None or n < 0 else min(len(self._view), self._pos + n)
        chunk = self._view[self._pos : end].tobytes()
        self._pos = end
        return chunk


def _entries(files: Iterable[tuple[str, bytes | Path]]) -> Iterator[_Entry]:
    """One entry per file (a zip's members each), read one at a time."""
    for raw_name, content in files:
        name = "/".join(
            p for p in str(raw_name).replace("\\", "/").split("/") if p not in ("", ".", "..")
        )
        name = name or "未命名"
        parent = posixpath.dirname(name)
        folder = posixpath.basename(parent) if parent else ""
        limit = settings.FANWEN_UPLOAD_MAX_FILE_BYTES
        try:
            data = (
                read_regular_file(content, limit) if isinstance(content, Path) else bytes(content)
            )
        except ImportRejected as exc:
            yield _Entry(name, folder, reason=str(exc))
            continue
        if len(data) > limit:
            yield _Entry(name, folder, reason=f"文件过大，上限 {_mb(limit)}")
        elif name.lower().endswith(".zip"):
            yield from _expand_zip(name, data, folder)
        elif reason := _refusal_for_name(name):
            yield _Entry(name, folder, reason=reason)
        else:
            yield _Entry(name, folder, data=data)


def create_batch(
    files: Iterable[tuple[str, bytes]] | Iterable[tuple[str, Path]],
    *,
    user,
    category: Category | None,
    category_from_folder: bool,
    publish_mode: str,
    publish_at: datetime | None,
) -> ImportBatch:
    """Store the files (zips expanded) and one ImportItem each, in one transaction; nothing is
    parsed here. Files refused on sight (type, size, unsafe zip member) are items already done."""
    if publish_mode not in ImportBatch.PublishMode.values:
        raise ValueError(f"unknown publish_mode {publish_mode!r}")
    if publish_mode == ImportBatch.PublishMode.AT and publish_at is None:
        raise ValueError("publish_mode 'at' needs publish_at")
    saved: list[str] = []
    try:
        with transaction.atomic():
            batch = ImportBatch.objects.create(
                created_by=user if getattr(user, "pk", None) else None,
                category=category,
                category_from_folder=category_from_folder,
                publish_mode=publish_mode,
                publish_at=publish_at if publish_mode == ImportBatch.PublishMode.AT else None,
            )
            items: list[ImportItem] = []
            total = refused = 0
            # One file in memory at a time: each is written to storage as soon as it is read.
            for position, entry in enumerate(_entries(files), 1):
                total += 1
                item = ImportItem(
                    batch=batch,
                    position=position,
                    name=entry.name[:500],
                    folder=entry.folder[:200],
                    size=len(entry.data) if entry.data is not None else 0,
                )
                if entry.data is None:
                    refused += 1
                    item.status = ImportItem.Status.REFUSED
                    item.reason = entry.reason
                else:
                    suffix = PurePosixPath(entry.name).suffix.lower()
                    # A name of our own: the editor's file name never reaches the file system.
                    item.file = default_storage.save(
                        f"imports/{batch.pk}/{position:06d}{suffix}", ContentFile(entry.data)
                    )
                    saved.append(item.file)
                items.append(item)
                if len(items) >= 500:
                    ImportItem.objects.bulk_create(items)
                    items = []
            ImportItem.objects.bulk_create(items)
            batch.total, batch.done, batch.refused = total, refused, refused
            fields = ["total", "done", "refused"]
            if refused == total:
                batch.status = ImportBatch.Status.DONE
                batch.finished_at = timezone.now()
                fields += ["status", "finished_at"]
            batch.save(update_fields=fields)
    except BaseException:
        # The rows are rolled back; the files written for them must not stay behind.
        for name in saved:
            _delete_stored(name)
        raise
    return batch


# --- running a batch ---------------------------------------------------------------------------


def _read_stored(name: str) -> Callable[[], bytes]:
    def read() -> bytes:
        try:
            with default_storage.open(name, "rb") as handle:
                return handle.read()
        except OSError as exc:
            raise ImportRejected(f"上传的文件已不在存储中：{exc}") from None

    return read


def _claim_items(batch_id: int, token: str, size: int) -> list[ImportItem]:
    """Up to `size` queued items nobody holds (or whose holder went quiet), now ours."""
    now = timezone.now()
    stale = now - timedelta(seconds=STALE_SECONDS)
    with transaction.atomic():
        # skip_locked: rows another runner is claiming right now are left to it.
        ids = list(
            ImportItem.objects.select_for_update(skip_locked=True)
            .filter(batch_id=batch_id, status=ImportItem.Status.QUEUED)
            .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale))
            .order_by("position")
            .values_list("pk", flat=True)[:size]
        )
        if ids:
            ImportItem.objects.filter(pk__in=ids).update(claim=token, claimed_at=now)
    return list(ImportItem.objects.filter(pk__in=ids).order_by("position"))


def _claim_batch(batch_id: int) -> ImportBatch | None:
    now = timezone.now()
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update(skip_locked=True).filter(pk=batch_id).first()
        if batch is None or batch.status == ImportBatch.Status.DONE:
            return batch
        batch.status = ImportBatch.Status.RUNNING
        batch.claimed_at = batch.claimed_at or now
        batch.heartbeat_at = now
        batch.save(update_fields=["status", "claimed_at", "heartbeat_at"])
    return batch


def _touch(batch_id: int, token: str) -> None:
    now = timezone.now()
    ImportBatch.objects.filter(pk=batch_id).update(heartbeat_at=now)
    ImportItem.objects.filter(
        batch_id=batch_id, claim=token, status=ImportItem.Status.QUEUED
    ).update(claimed_at=now)


_COUNTER = {
    ImportItem.Status.OK: "ok",
    ImportItem.Status.REFUSED: "refused",
    ImportItem.Status.ERROR: "errors",
}


def _finish_item(batch: ImportBatch, item: ImportItem, job: FileJob, token: str) -> bool:
    """Store one claimed item and record its result, all in one transaction; False when another
    runner took the item meanwhile (then nothing is stored here)."""
    with transaction.atomic():
        # Locked and re-checked: the import and the item's new status commit together, so an
        # item is imported once even if a stale claim was taken over.
        mine = (
            ImportItem.objects.select_for_update()
            .filter(pk=item.pk, claim=token, status=ImportItem.Status.QUEUED)
            .exists()
        )
        if not mine:
            return False
        result, article = store_parsed(
            job,
            category=batch.category,
            folder_first=batch.category_from_folder,
            publish_mode=batch.publish_mode,
            publish_at=batch.publish_at,
        )
        status = result.pop("status")
        reason = result.pop("reason", "")
        ImportItem.objects.filter(pk=item.pk).update(
            status=status,
            reason=reason,
            article=article,
            result=result if article is not None else {},
            file="",
        )
        ImportBatch.objects.filter(pk=batch.pk).update(
            done=F("done") + 1,
            heartbeat_at=timezone.now(),
            **{_COUNTER[status]: F(_COUNTER[status]) + 1},
        )
    if item.file:
        stored = item.file
        transaction.on_commit(lambda: _delete_stored(stored))
    return True


def _delete_stored(name: str) -> None:
    try:
        default_storage.delete(name)
    except OSError:
        log.warning("could not remove the stored upload %s", name)


def _finish_batch(batch_id: int) -> None:
    with transaction.atomic():
        left = ImportItem.objects.filter(batch_id=batch_id, status=ImportItem.Status.QUEUED)
        if not left.exists():
            ImportBatch.objects.filter(pk=batch_id).exclude(status=ImportBatch.Status.DONE).update(
                status=ImportBatch.Status.DONE,
                finished_at=timezone.now(),
                heartbeat_at=timezone.now(),
            )


@bulk_import()  # one outbox apply per 500 articles, fonts left to the worker (library/bulk.py)
def run_batch(batch_id: int) -> ImportBatch:
    """Run the batch's queued items in groups until none is left that another runner holds
    freshly; several runners may share one batch. Returns the batch as it then stands."""
    batch = _claim_batch(batch_id)
    if batch is None:
        # Another runner is claiming it this instant: help with the items all the same.
        batch = ImportBatch.objects.get(pk=batch_id)
    if batch.status == ImportBatch.Status.DONE:
        return batch
    token = uuid.uuid4().hex
    touched = timezone.now()
    queued = ImportItem.objects.filter(batch_id=batch_id, status=ImportItem.Status.QUEUED).count()
    index_ahead = batch.publish_mode == ImportBatch.PublishMode.NOW
    with GroupParser(parse_processes(queued), index_ahead=index_ahead) as parser:
        # Groups claimed and handed to the parser ahead of the one being stored, so the parse
        # processes work while this runner writes.
        ahead: deque[tuple[list[ImportItem], list[FileJob], object]] = deque()
        while True:
            while len(ahead) <= parser.processes:
                items = _claim_items(batch_id, token, GROUP_SIZE)
                if not items:
                    break
                jobs = [_job(item) for item in items]
                ahead.append((items, jobs, parser.submit(jobs)))
            if not ahead:
                break
            items, jobs, handle = ahead.popleft()
            parser.collect(jobs, handle)
            pending = list(zip(items, jobs, strict=True))
            while pending:
                started = time.monotonic()
                # Each file is stored in a savepoint of its own (a refused one rolls back
                # alone); the commit comes every COMMIT_SECONDS, so the after-commit search pass
                # and the write lock are paid per second, not per file, and the bar still moves
                # each second.
                with transaction.atomic():
                    while True:
                        item, job = pending.pop(0)
                        _finish_item(batch, item, job, token)
                        if not pending or time.monotonic() - started >= COMMIT_SECONDS:
                            break
                if (timezone.now() - touched).total_seconds() > _TOUCH_SECONDS:
                    _touch(batch_id, token)
                    touched = timezone.now()
    _finish_batch(batch_id)
    return ImportBatch.objects.get(pk=batch_id)


def _job(item: ImportItem) -> FileJob:
    return FileJob(
        name=item.name,
        read=_read_stored(item.file),
        source_key=source_key(item.name),
        folder=item.folder,
    )


def run_batch_in_thread(batch_id: int) -> threading.Thread:
    """Start run_batch in a daemon thread (the desk without a worker); claims keep it safe."""

    def target() -> None:
        try:
            run_batch(batch_id)
        except Exception:
            log.exception("import batch %s failed in its thread", batch_id)
        finally:
            connection.close()

    thread = threading.Thread(target=target, name=f"import-batch-{batch_id}", daemon=True)
    thread.start()
    return thread


def import_batches_job() -> Counter:
    """The worker's job: run queued batches and resume running ones whose runner went quiet."""
    stale = timezone.now() - timedelta(seconds=STALE_SECONDS)
    counts: Counter = Counter()
    ids = list(
        ImportBatch.objects.filter(
            Q(status=ImportBatch.Status.QUEUED)
            | Q(status=ImportBatch.Status.RUNNING, heartbeat_at__lt=stale)
            | Q(status=ImportBatch.Status.RUNNING, heartbeat_at__isnull=True)
        )
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:20]
    )
    for batch_id in ids:
        before = ImportBatch.objects.filter(pk=batch_id).values_list("done", flat=True).first()
        batch = run_batch(batch_id)
        counts["batches"] += 1
        counts["files"] += batch.done - (before or 0)
        if not connection.in_atomic_block:
            close_old_connections()
    return counts
