"""Bytes to text: BOM first, then strict UTF-8, then GB18030; binary files are refused."""

from __future__ import annotations

import codecs
import re

from fanwen.library.importer import ImportRejected

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: its BOM starts the same way
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Control characters other than tab, newline, carriage return, form feed and vertical tab.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_GB_ALIASES = {"gb2312", "gbk", "gb18030", "x-gbk", "cp936", "euc-cn", "hz-gb-2312"}


def _canonical(name: str) -> str | None:
    name = name.strip().strip("\"'").lower()
    if name in _GB_ALIASES:
        # GB18030 is a superset of GB2312 and GBK; pages that declare the older ones often
        # contain characters only the newer one has.
        return "gb18030"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode a text file; `declared` is a charset named by the file itself (HTML meta)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _checked(data[len(bom) :].decode(encoding))
            except UnicodeDecodeError:
                raise ImportRejected(
                    f"文件以 {encoding} 标记开头，但内容无法按该编码解码"
                ) from None
    # NUL bytes never appear in UTF-8/GB text; UTF-16 without a BOM is not supported.
    if b"\x00" in data[:65536]:
        raise ImportRejected("这是二进制文件（含 NUL 字节），不是文本")
    candidates = ["utf-8", "gb18030"]
    if declared and (canonical := _canonical(declared)) and canonical not in candidates[:1]:
        # A declared legacy charset is tried after UTF-8: pages saved by a browser are often
        # re-encoded to UTF-8 while the meta tag still says gbk.
        candidates.insert(1, canonical)
    for encoding in candidates:
        try:
            return _checked(data.decode(encoding))
        except (UnicodeDecodeError, LookupError):
            continue
    # Saved pages often carry a few broken bytes (a cut multi-byte character, a stray byte
    # from another encoding): lose those characters rather than the whole file.
    best = min(
        (data.decode(encoding, errors="replace") for encoding in ("utf-8", "gb18030")),
        key=lambda text: text.count("\ufffd"),
    )
    if best.count("\ufffd") <= max(2, len(best) // 2000):
        return _checked(best.replace("\ufffd", ""))
    raise ImportRejected("无法识别文件编码（既不是 UTF-8 也不是 GB18030/GBK）")


def _checked(text: str) -> str:
    sample = text[:20000]
    if "\x00" in sample:
        raise ImportRejected("这是二进制文件（含 NUL 字符），不是文本")
    if sample and len(_CONTROL.findall(sample)) > max(8, len(sample) // 100):
        raise ImportRejected("这是二进制文件（控制字符过多），不是文本")
    return text
