"""A draft as the buyer gives it: pasted text, or a .txt/.docx read by the importer's readers.

An upload is held in memory only (never a temporary file) and read with the importer's
encoding detection (UTF-8/GBK/Big5/UTF-16) and its guarded DOCX reader.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler

from fanwen.library.importer import ImportRejected, budget

MAX_CHARS = 10_000
# A .docx with pictures is larger than its text; 10,000 characters of text are ~30 KB.
MAX_UPLOAD_BYTES = 8 * 1024 * 1024
SUFFIXES = (".txt", ".docx")


class DraftRejected(Exception):
    """A draft that cannot be checked; str(exc) is the reason shown to the buyer."""


class MemoryOnlyUpload(FileUploadHandler):
    """Keeps an uploaded file in memory up to MAX_UPLOAD_BYTES; past that it keeps nothing and
    marks the file too big. Django's default would spool a large upload to a temporary file."""

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.buffer: BytesIO | None = BytesIO()
        self.size = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.size += len(raw_data)
        if self.buffer is not None:
            if self.size > MAX_UPLOAD_BYTES:
                self.buffer = None
            else:
                self.buffer.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        buffer = self.buffer or BytesIO()
        buffer.seek(0)
        upload = InMemoryUploadedFile(
            buffer, self.field_name, self.file_name, self.content_type, file_size, self.charset
        )
        upload.too_big = self.buffer is None
        return upload


def read_upload(upload) -> str:
    """The text of an uploaded .txt or .docx, its lines joined by newlines."""
    suffix = Path(upload.name or "").suffix.lower()
    if getattr(upload, "too_big", False):
        raise DraftRejected(f"文件过大，上限 {MAX_UPLOAD_BYTES // 1048576} MB")
    if suffix == ".doc":
        raise DraftRejected("不支持旧版 Word（.doc）文件，请在 Word 中另存为 .docx 后再上传")
    if suffix not in SUFFIXES:
        raise DraftRejected("只能上传 .txt 或 .docx 文件")
    data = upload.read()
    if not data.strip():
        raise DraftRejected("文件是空的")
    try:
        with budget.limit(settings.FANWEN_IMPORT_MAX_SECONDS):
            if suffix == ".docx":
                from fanwen.library.importer.docx_reader import read_docx

                raw = read_docx(data)
            else:
                from fanwen.library.importer.text_reader import read_txt

                raw = read_txt(data)
    except ImportRejected as exc:
        raise DraftRejected(str(exc)) from None
    return "\n".join(line.text for line in raw.lines)


def clean(text: str) -> str:
    """The draft as checked: line ends unified, blank lines and outer spaces dropped."""
    lines = (line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    draft = "\n".join(line for line in lines if line)
    if not draft:
        raise DraftRejected("请粘贴要检测的文字，或上传 .txt / .docx 文件")
    if len(draft) > MAX_CHARS:
        raise DraftRejected(
            f"内容过长（{len(draft):,} 字符），每次最多检测 {MAX_CHARS:,} 字符，请分段检测"
        )
    return draft
