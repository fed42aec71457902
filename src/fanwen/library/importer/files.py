"""parse_file / parse_bytes: pick the reader by extension, enforce the size and time limits.

parse_file opens only regular files: never through a symlink, never a device, FIFO or
socket, and reads at most the size limit plus one byte whatever the file system says its
size is (/proc files say 0, a device never ends).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from django.conf import settings

from fanwen.library.importer import ImportRejected, ParsedArticle, budget
from fanwen.library.importer.structure import RawDocument, build_article

SUPPORTED = {".docx", ".txt", ".md", ".markdown", ".html", ".htm"}
_CHUNK = 1024 * 1024
_KINDS = (
    (stat.S_ISDIR, "文件夹"),
    (stat.S_ISCHR, "字符设备"),
    (stat.S_ISBLK, "块设备"),
    (stat.S_ISFIFO, "命名管道（FIFO）"),
    (stat.S_ISSOCK, "套接字"),
    (stat.S_ISLNK, "符号链接"),
)


def _too_big(size: int | None = None) -> ImportRejected:
    limit = settings.FANWEN_IMPORT_MAX_BYTES
    shown = f"（{size / 1048576:.1f} MB）" if size is not None else ""
    return ImportRejected(f"文件过大{shown}，上限 {limit / 1048576:g} MB")


def kind_of(mode: int) -> str | None:
    """'命名管道（FIFO）' etc. for what is not a regular file; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((name for test, name in _KINDS if test(mode)), "特殊文件")


def _read(data: bytes, suffix: str) -> RawDocument:
    # Readers are imported lazily: a batch of .txt files never loads python-docx or lxml.
    if suffix == ".docx":
        from fanwen.library.importer.docx_reader import read_docx

        return read_docx(data)
    if suffix in (".html", ".htm"):
        from fanwen.library.importer.html_reader import read_html

        return read_html(data)
    from fanwen.library.importer.text_reader import read_md, read_txt

    return read_md(data) if suffix in (".md", ".markdown") else read_txt(data)


def parse_bytes(data: bytes, filename: str) -> ParsedArticle:
    """Parse one uploaded file; raises ImportRejected with a one-line reason."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".doc":
        raise ImportRejected("不支持旧版 Word（.doc）文件，请在 Word 中另存为 .docx 后再导入")
    if suffix not in SUPPORTED:
        raise ImportRejected(
            f"不支持的文件类型 {suffix or '（无扩展名）'}，只能导入 .docx .txt .md .html"
        )
    if len(data) > settings.FANWEN_IMPORT_MAX_BYTES:
        raise _too_big(len(data))
    if not data.strip():
        raise ImportRejected("文件是空的")
    with budget.limit(settings.FANWEN_IMPORT_MAX_SECONDS):
        raw = _read(data, suffix)
        raw.fallback_title = Path(filename).stem.strip()
        return build_article(raw)


def read_regular_file(path: str | os.PathLike, limit: int) -> bytes:
    """The bytes of a regular file, at most `limit`; ImportRejected for anything else."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ImportRejected("这是符号链接，不导入（请导入它指向的文件本身）") from None
        raise ImportRejected(f"无法读取文件：{exc.strerror or exc}") from None
    try:
        # Checked on the opened descriptor, so a file swapped after a check cannot slip in.
        info = os.fstat(fd)
        kind = kind_of(info.st_mode)
        if kind:
            raise ImportRejected(f"这不是普通文件（{kind}），不导入")
        # A size the file system reports is only a hint: refused early when already too big…
        if info.st_size > limit:
            raise _too_big(info.st_size)
        chunks: list[bytes] = []
        total = 0
        # …and counted while reading, never trusted.
        while total <= limit:
            try:
                chunk = os.read(fd, min(_CHUNK, limit + 1 - total))
            except BlockingIOError:
                raise ImportRejected("文件读不出内容（读取会阻塞），不导入") from None
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise _too_big()
        return b"".join(chunks)
    except OSError as exc:
        raise ImportRejected(f"无法读取文件：{exc.strerror or exc}") from None
    finally:
        os.close(fd)


def parse_file(path: str | os.PathLike) -> ParsedArticle:
    path = Path(path)
    if path.suffix.lower() not in SUPPORTED | {".doc"}:
        return parse_bytes(b"", path.name)
    data = read_regular_file(path, settings.FANWEN_IMPORT_MAX_BYTES)
    return parse_bytes(data, path.name)
