"""parse_file / parse_bytes: pick the reader by extension, enforce the size limit."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

from fanwen.library.importer import ImportRejected, ParsedArticle
from fanwen.library.importer.structure import RawDocument, build_article

SUPPORTED = {".docx", ".txt", ".md", ".markdown", ".html", ".htm"}


def _too_big(size: int) -> ImportRejected:
    limit = settings.FANWEN_IMPORT_MAX_BYTES
    return ImportRejected(f"文件过大（{size / 1048576:.1f} MB），上限 {limit // 1048576} MB")


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
    raw = _read(data, suffix)
    raw.fallback_title = Path(filename).stem.strip()
    return build_article(raw)


def parse_file(path: str | os.PathLike) -> ParsedArticle:
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ImportRejected(f"无法读取文件：{exc.strerror or exc}") from None
    # Checked before reading so a 2 GB file is refused without loading it.
    if size > settings.FANWEN_IMPORT_MAX_BYTES:
        raise _too_big(size)
    if path.suffix.lower() not in SUPPORTED | {".doc"}:
        return parse_bytes(b"", path.name)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportRejected(f"无法读取文件：{exc.strerror or exc}") from None
    return parse_bytes(data, path.name)
