"""Word .docx files to lines, after checking the zip is safe to open."""

from __future__ import annotations

import io
import re
import zipfile

from django.conf import settings

from fanwen.library.importer import ImportRejected
from fanwen.library.importer.structure import Line, RawDocument

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_ENTRIES = 2000
# Real Word parts compress ~3-20x; a zip bomb's entries compress thousands of times.
MAX_RATIO = 200
_DTD_MARKERS = tuple(
    marker.encode(encoding)
    for marker in ("<!doctype", "<!entity")
    for encoding in ("ascii", "utf-16-le", "utf-16-be")
)
_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.I)


def check_docx_zip(data: bytes) -> None:
    """Refuse what is not a Word file, zip bombs, and XML with DTDs (XXE) before parsing."""
    if data.startswith(_OLE_MAGIC):
        raise ImportRejected("这是旧版 Word（.doc）文件，请在 Word 中另存为 .docx 后再导入")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ImportRejected(
            "不是有效的 .docx 文件（无法作为 zip 包打开，文件可能已损坏）"
        ) from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise ImportRejected(f"docx 包内文件过多（{len(infos)} 个），已拒绝")
        names = {info.filename for info in infos}
        if "word/document.xml" not in names:
            raise ImportRejected("不是有效的 .docx 文件（缺少 word/document.xml）")
        # Declared sizes are what zipfile will decompress at most, so checking them first
        # bounds the work however the archive was crafted.
        limit = settings.FANWEN_IMPORT_MAX_UNZIPPED_BYTES
        total = sum(info.file_size for info in infos)
        if total > limit:
            raise ImportRejected(
                f"docx 解压后 {total // (1024 * 1024)} MB，超过上限 {limit // (1024 * 1024)} MB（疑似 zip 炸弹）"
            )
        for info in infos:
            if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(
                info.compress_size, 1
            ):
                raise ImportRejected(
                    f"docx 内 {_shown(info.filename)} 压缩比异常（疑似 zip 炸弹），已拒绝"
                )
        for info in infos:
            if not info.filename.endswith((".xml", ".rels")):
                continue
            try:
                part = archive.read(info)
            except Exception:  # noqa: BLE001 - any decompression error means a broken file
                raise ImportRejected(f"docx 内 {_shown(info.filename)} 已损坏，无法解压") from None
            # bytes.lower() only touches ASCII letters, so the UTF-16 markers still match.
            lowered = part.lower()
            if any(marker in lowered for marker in _DTD_MARKERS):
                raise ImportRejected("docx 含有 DOCTYPE/ENTITY 声明（可能是 XXE 攻击），已拒绝")


def _shown(name: str) -> str:
    # A damaged archive can have control characters in its names; keep the message one line.
    return "".join(ch if ch.isprintable() else "?" for ch in name)[:80]


def read_docx(data: bytes) -> RawDocument:
    check_docx_zip(data)
    import docx  # python-docx; imported here so text-only imports don't pay for it

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - python-docx raises many kinds for bad packages
        raise ImportRejected(f"无法读取 Word 文档（{type(exc).__name__}）") from None
    lines: list[Line] = []
    title = ""
    try:
        for item in document.iter_inner_content():
            if hasattr(item, "rows"):
                lines.extend(_table_lines(item))
                continue
            hint = _hint(item)
            if hint == "title" and not title:
                title = item.text.strip()
            for part in item.text.splitlines() or [""]:
                lines.append(Line(part, hint))
    except Exception as exc:  # noqa: BLE001
        raise ImportRejected(f"无法读取 Word 文档内容（{type(exc).__name__}）") from None
    return RawDocument(lines=lines, source_format="docx", title=title)


def _hint(paragraph) -> str | None:
    try:
        name = (paragraph.style.name or "") if paragraph.style is not None else ""
    except (KeyError, ValueError, AttributeError):
        return None
    if name.lower() in ("title", "标题"):
        return "title"
    match = _HEADING_STYLE.match(name.strip())
    if match:
        return f"h{min(3, max(1, int(match.group(1))))}"
    return None


def _table_lines(table) -> list[Line]:
    lines: list[Line] = []
    # Holding the elements (not their ids) keeps lxml from recycling proxies mid-loop.
    seen: set = set()
    for row in table.rows:
        for cell in row.cells:
            # A merged cell shows up once per grid column it spans.
            if cell._tc in seen:
                continue
            seen.add(cell._tc)
            for paragraph in cell.paragraphs:
                lines.extend(Line(part) for part in paragraph.text.splitlines())
    return lines
