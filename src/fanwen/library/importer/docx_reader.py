"""Word .docx files to lines, after checking the zip is safe to open."""

from __future__ import annotations

import hashlib
import io
import re
import xml.parsers.expat
import zipfile
from collections import OrderedDict

from django.conf import settings

from fanwen.library.importer import ImportRejected, budget
from fanwen.library.importer.structure import Line, RawDocument

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_ENTRIES = 2000
# Real Word parts compress ~3-20x; a zip bomb's entries compress thousands of times.
MAX_RATIO = 200
_CHUNK = 64 * 1024
# The parts python-docx parses; media (images, fonts, embedded objects) is never inflated.
_XML_SUFFIXES = (".xml", ".rels", ".vml")
_DTD_MARKERS = tuple(
    marker.encode(encoding)
    for marker in ("<!doctype", "<!entity")
    for encoding in ("ascii", "utf-16-le", "utf-16-be")
)
_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.I)


class _Forbidden(Exception):
    pass


def _no_dtd(*_args) -> None:
    raise _Forbidden


# Digests of parts that passed _check_xml: files saved by one Word or one site share their
# styles, theme and settings parts, and checking those is most of the cost of a small file.
_CLEAN_PARTS: OrderedDict[bytes, None] = OrderedDict()
_CLEAN_PARTS_SIZE = 512


def _check_xml(name: str, part: bytes) -> None:
    """Refuse a DTD in any encoding: expat stops at the DOCTYPE, before any entity exists."""
    # The digest of the whole part (never what the zip declares, which a file can forge).
    digest = hashlib.blake2b(part, digest_size=32).digest()
    if digest in _CLEAN_PARTS:
        _CLEAN_PARTS.move_to_end(digest)
        return
    _check_xml_part(name, part)
    _CLEAN_PARTS[digest] = None
    while len(_CLEAN_PARTS) > _CLEAN_PARTS_SIZE:
        _CLEAN_PARTS.popitem(last=False)


def _check_xml_part(name: str, part: bytes) -> None:
    # bytes.lower() only touches ASCII letters, so the UTF-16 markers still match.
    lowered = part.lower()
    if any(marker in lowered for marker in _DTD_MARKERS):
        raise ImportRejected("docx 含有 DOCTYPE/ENTITY 声明（可能是 XXE 攻击），已拒绝")
    parser = xml.parsers.expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _no_dtd
    parser.EntityDeclHandler = _no_dtd
    parser.ExternalEntityRefHandler = _no_dtd
    try:
        parser.Parse(part, True)
    except _Forbidden:
        raise ImportRejected("docx 含有 DOCTYPE/ENTITY 声明（可能是 XXE 攻击），已拒绝") from None
    except xml.parsers.expat.ExpatError as exc:
        raise ImportRejected(
            f"docx 内 {_shown(name)} 不是有效的 XML（{exc}），文件已损坏"
        ) from None


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, room: int) -> bytes:
    """An entry's bytes, inflated in chunks and counted: stops at `room` bytes whatever the
    entry declares (zipfile itself trusts the declared size)."""
    chunks: list[bytes] = []
    total = 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(_CHUNK):
                total += len(chunk)
                if total > room:
                    raise ImportRejected(
                        f"docx 解压后超过上限 {settings.FANWEN_IMPORT_MAX_UNZIPPED_BYTES // 1048576} MB"
                        "（疑似 zip 炸弹），已拒绝"
                    )
                # Real ratio, measured: inflated bytes against the compressed bytes of the entry.
                if total > 1024 * 1024 and total > MAX_RATIO * max(info.compress_size, 1):
                    raise ImportRejected(
                        f"docx 内 {_shown(info.filename)} 压缩比异常（疑似 zip 炸弹），已拒绝"
                    )
                chunks.append(chunk)
                budget.check()
    except ImportRejected:
        raise
    except Exception:  # noqa: BLE001 - any decompression error means a broken file
        raise ImportRejected(f"docx 内 {_shown(info.filename)} 已损坏，无法解压") from None
    return b"".join(chunks)


def safe_docx_package(data: bytes) -> bytes:
    """A checked copy of a .docx for python-docx: every XML part inflated under the limits
    and free of DTDs, media left empty, stored without compression so nothing is inflated
    again. Raises ImportRejected with a message for people."""
    if data.startswith(_OLE_MAGIC):
        raise ImportRejected("这是旧版 Word（.doc）文件，请在 Word 中另存为 .docx 后再导入")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise ImportRejected(
            "不是有效的 .docx 文件（无法作为 zip 包打开，文件可能已损坏）"
        ) from None
    out = io.BytesIO()
    with archive, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as clean:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise ImportRejected(f"docx 包内文件过多（{len(infos)} 个），已拒绝")
        names = {info.filename for info in infos}
        if "word/document.xml" not in names:
            raise ImportRejected("不是有效的 .docx 文件（缺少 word/document.xml）")
        if len(names) != len(infos):
            raise ImportRejected("docx 包内有重名的文件（文件已损坏或被篡改），已拒绝")
        limit = settings.FANWEN_IMPORT_MAX_UNZIPPED_BYTES
        # What the archive declares refuses a bomb early; what it inflates to is counted below.
        declared = sum(info.file_size for info in infos)
        if declared > limit * 4:
            raise ImportRejected(
                f"docx 解压后 {declared // (1024 * 1024)} MB，超过上限 {limit // (1024 * 1024)} MB（疑似 zip 炸弹）"
            )
        for info in infos:
            if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(
                info.compress_size, 1
            ):
                raise ImportRejected(
                    f"docx 内 {_shown(info.filename)} 压缩比异常（疑似 zip 炸弹），已拒绝"
                )
        used = 0
        for info in infos:
            if info.is_dir():
                continue
            if not info.filename.lower().endswith(_XML_SUFFIXES):
                clean.writestr(info.filename, b"")
                continue
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                # bzip2/lzma entries inflate a whole read at once, past any chunk size.
                raise ImportRejected(
                    f"docx 内 {_shown(info.filename)} 使用了 Word 不用的压缩方式，已拒绝"
                )
            part = _inflate(archive, info, limit - used)
            used += len(part)
            _check_xml(info.filename, part)
            clean.writestr(info.filename, part)
    return out.getvalue()


def _shown(name: str) -> str:
    # A damaged archive can have control characters in its names; keep the message one line.
    return "".join(ch if ch.isprintable() else "?" for ch in name)[:80]


def read_docx(data: bytes) -> RawDocument:
    package = safe_docx_package(data)
    import docx  # python-docx; imported here so text-only imports don't pay for it

    try:
        document = docx.Document(io.BytesIO(package))
    except Exception as exc:  # noqa: BLE001 - python-docx raises many kinds for bad packages
        raise ImportRejected(f"无法读取 Word 文档（{type(exc).__name__}）") from None
    lines: list[Line] = []
    title = ""
    chars = 0
    hints: dict = {}
    try:
        for item in document.iter_inner_content():
            budget.check()
            is_table = hasattr(item, "rows")
            # Read once, with the XPaths compiled once (python-docx compiles one per run).
            text = "" if is_table else _paragraph_text(item._p)
            chars += len(text)
            if chars > settings.FANWEN_IMPORT_MAX_CHARS:
                limit = settings.FANWEN_IMPORT_MAX_CHARS
                raise ImportRejected(f"文档过长（超过 {limit / 10000:g} 万字），已拒绝")
            if is_table:
                lines.extend(_table_lines(item))
                continue
            hint = _hint(item, hints)
            if hint == "title" and not title:
                title = text.strip()
            for part in text.splitlines() or [""]:
                lines.append(Line(part, hint))
    except ImportRejected:
        raise
    except Exception as exc:  # noqa: BLE001
        raise ImportRejected(f"无法读取 Word 文档内容（{type(exc).__name__}）") from None
    return RawDocument(lines=lines, source_format="docx", title=title)


_XPATHS: dict[str, object] = {}


def _xpath(expression: str):
    if expression not in _XPATHS:
        from docx.oxml.ns import nsmap
        from lxml import etree

        _XPATHS[expression] = etree.XPath(expression, namespaces=nsmap)
    return _XPATHS[expression]


def _paragraph_text(p) -> str:
    """python-docx's Paragraph.text (CT_P.text over CT_R.text and CT_Hyperlink.text), with
    the same XPath expressions, compiled once instead of once per paragraph and run: a
    third of the time of a .docx went to compiling them."""
    parts = []
    for element in _xpath("w:r | w:hyperlink")(p):
        runs = _xpath("w:r")(element) if element.tag.endswith("}hyperlink") else [element]
        for run in runs:
            parts.extend(
                str(e) for e in _xpath("w:br | w:cr | w:noBreakHyphen | w:ptab | w:t | w:tab")(run)
            )
    return "".join(parts)


def _hint(paragraph, seen: dict | None = None) -> str | None:
    """ "title", "h1".."h3" or None from the paragraph's style; `seen` keeps the answer per
    style id for one document, since python-docx looks a paragraph's style up by scanning
    every style of the document (200 ms for a 50-paragraph file with the default styles)."""
    if seen is None:
        return _style_hint(paragraph)
    try:
        style_id = paragraph._p.style
    except Exception:  # noqa: BLE001 - a malformed pPr: let python-docx answer as before
        return _style_hint(paragraph)
    if style_id not in seen:
        seen[style_id] = _style_hint(paragraph)
    return seen[style_id]


def _style_hint(paragraph) -> str | None:
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
