"""Bytes to text, decided honestly: a file is read in the encoding it is in, or refused.

The decision, in order:
1. A byte-order mark names the encoding (UTF-8, UTF-16/32 LE/BE); the rest must decode.
2. NUL bytes: UTF-32 or UTF-16 without a BOM, told by where the NULs fall (ASCII and
   newlines put them in fixed lanes); if no lane fits, the file is binary.
3. Valid UTF-8 is UTF-8.
4. Otherwise every legacy candidate that decodes without error is scored by how plausible
   the text is: the share of its Chinese characters that are common ones (GB2312 level 1 for
   simplified; the same characters in traditional form for Big5). GB18030 decodes nearly any
   byte string, so "it decodes" alone proves nothing. GB18030/GBK wins when plausible; Big5
   is read as Big5 and converted to simplified; UTF-16 without NULs (pure Chinese) is
   recognised the same way.
5. Japanese (kana) and Korean (hangul) text is refused, in whatever encoding: it is not a
   Chinese model essay, and read as Chinese it would be stored garbled.
6. Anything else is refused, naming the byte offset where UTF-8 decoding failed.
"""

from __future__ import annotations

import codecs
import functools
import re

from django.conf import settings

from fanwen.library.importer import ImportRejected, budget

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: its BOM starts the same way
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_NAMES = {
    "utf-8": "UTF-8",
    "utf-16-le": "UTF-16LE",
    "utf-16-be": "UTF-16BE",
    "utf-32-le": "UTF-32LE",
    "utf-32-be": "UTF-32BE",
    "gb18030": "GB18030",
    "cp950": "Big5",
}
# Control characters other than tab, newline, carriage return, form feed and vertical tab.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3041-\u3096\u30a1-\u30fa]")
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3131-\u318e]")
_GB_ALIASES = {"gb2312", "gbk", "gb18030", "x-gbk", "cp936", "euc-cn", "hz-gb-2312"}
_BIG5_ALIASES = {"big5", "big-5", "cp950", "big5-hkscs", "big5hkscs", "x-x-big5"}
# How much of a file the decision looks at: enough text to judge, bounded work.
_SAMPLE = 65536
# Share of Chinese characters that must be common ones for a legacy decoding to be believed.
# Real text sits above 0.95; the wrong decoding of Chinese bytes below 0.6.
_PLAUSIBLE = 0.8
_CONVERT_CHUNK = 65536


@functools.cache
def _common_simplified() -> frozenset[str]:
    # GB2312 level 1: the 3,755 most used characters, rows 0xB0-0xD7 of the standard.
    chars = set()
    for lead in range(0xB0, 0xD8):
        for trail in range(0xA1, 0xFF):
            try:
                chars.add(bytes((lead, trail)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return frozenset(chars)


@functools.cache
def _common_traditional() -> frozenset[str]:
    import zhconv

    simplified = "".join(sorted(_common_simplified()))
    return frozenset(zhconv.convert(simplified, "zh-hant")) | _common_simplified()


def _plausibility(text: str, common: frozenset[str]) -> tuple[float, int]:
    han = _HAN.findall(text)
    if not han:
        return 0.0, 0
    return sum(1 for ch in han if ch in common) / len(han), len(han)


def _readability(text: str) -> float:
    # The share of common Chinese characters, or for a text with hardly any Chinese (an
    # English UTF-16 file) the share of printable characters.
    share, han = _plausibility(text, _common_traditional())
    if han >= 2:
        return share
    printable = sum(1 for ch in text if ch.isprintable() or ch in "\r\n\t")
    return printable / max(1, len(text))


def _foreign(text: str) -> str | None:
    """'日文' or '韩文' when the text is mostly Japanese kana or Korean hangul."""
    kana = len(_KANA.findall(text))
    hangul = len(_HANGUL.findall(text))
    han = len(_HAN.findall(text))
    letters = kana + hangul + han
    if letters < 10:
        return None
    if kana >= 0.15 * letters:
        return "日文"
    if hangul >= 0.3 * letters:
        return "韩文"
    return None


def _canonical(name: str) -> str | None:
    name = name.strip().strip("\"'").lower()
    if name in _GB_ALIASES:
        # GB18030 is a superset of GB2312 and GBK; pages that declare the older ones often
        # contain characters only the newer one has.
        return "gb18030"
    if name in _BIG5_ALIASES:
        return "cp950"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _strict(data: bytes, encoding: str, label: str | None = None, skipped: int = 0) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        # Offsets count from the start of the file, the byte-order mark included.
        at = exc.start + skipped
        raise ImportRejected(
            f"文件按 {label or _NAMES.get(encoding, encoding)} 解码失败："
            f"第 {at} 字节（0x{at:X}）处的字节无效，文件可能已损坏"
        ) from None


def _wide(data: bytes) -> str | None:
    """UTF-32 or UTF-16 without a BOM: the reading that decodes and reads as text, or None."""
    sample = data[:_SAMPLE]
    candidates = []
    # UTF-32: the top byte of every code unit is 0, the next one nearly always.
    if len(data) % 4 == 0 and len(sample) >= 4:
        if sample[3::4].count(0) == len(sample[3::4]) and sample[2::4].count(0) > 0.9 * len(
            sample[2::4]
        ):
            candidates.append("utf-32-le")
        if sample[0::4].count(0) == len(sample[0::4]) and sample[1::4].count(0) > 0.9 * len(
            sample[1::4]
        ):
            candidates.append("utf-32-be")
    if len(data) % 2 == 0:
        # Newlines, spaces and ASCII put NULs in the high byte's lane, 一 (U+4E00) in the other:
        # which one is decided by reading both.
        candidates += ["utf-16-le", "utf-16-be"]
    best, best_score = None, 0.0
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        score = _readability(text[:_SAMPLE])
        if score > best_score:
            best, best_score = text, score
    return best if best_score >= _PLAUSIBLE else None


def _legacy(data: bytes, declared: str | None) -> tuple[str, str]:
    """(text, encoding) of a file that is not UTF-8, or ImportRejected."""
    readings: dict[str, str] = {}
    for encoding in ("gb18030", "cp950", "utf-16-le", "utf-16-be", "shift_jis", "euc_jp", "euc_kr"):
        if encoding.startswith("utf-16") and len(data) % 2:
            continue
        try:
            # The whole file must decode; the judgement looks at its beginning.
            readings[encoding] = data.decode(encoding)[:_SAMPLE]
        except UnicodeDecodeError:
            continue
    for encoding in ("shift_jis", "euc_jp"):
        # Chinese bytes never read as kana in these (GB lead bytes are half-width katakana or
        # kanji in Shift-JIS, and GB2312 keeps kana in the same rows as EUC-JP).
        if encoding in readings and _foreign(readings[encoding]) == "日文":
            raise ImportRejected(
                f"这是日文文本（{encoding.upper().replace('_', '-')} 编码），不是中文范文，已拒绝"
            )
    korean = readings.get("euc_kr", "")
    hangul = len(_HANGUL.findall(korean))
    # GB2312 rows 0xB0-0xC8 are hangul in EUC-KR, so Chinese reads half as hangul there; real
    # Korean is nearly all hangul, with spaces between words.
    if hangul >= 10 and hangul >= 0.8 * len(_HAN.findall(korean) + _HANGUL.findall(korean)):
        if korean.count(" ") >= 0.1 * hangul:
            raise ImportRejected("这是韩文文本（EUC-KR 编码），不是中文范文，已拒绝")
    preferred = _canonical(declared) if declared else None
    best, best_share = None, 0.0
    for encoding, common in (
        ("gb18030", _common_simplified()),
        ("cp950", _common_traditional()),
        ("utf-16-le", _common_traditional()),
        ("utf-16-be", _common_traditional()),
    ):
        if encoding not in readings:
            continue
        share, _han = _plausibility(readings[encoding], common)
        # A charset the page declares breaks a near tie.
        share += 0.05 if encoding == preferred else 0.0
        if share > best_share:
            best, best_share = encoding, share
    if best is not None and best_share >= _PLAUSIBLE:
        return data.decode(best), best
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ImportRejected(
            f"无法识别文件编码：不是有效的 UTF-8（第 {exc.start} 字节，0x{exc.start:X} 处无效），"
            "按 GB18030/GBK、Big5 读也不是通顺的中文；请另存为 UTF-8 后再导入"
        ) from None
    raise ImportRejected("无法识别文件编码")  # pragma: no cover - UTF-8 was tried first


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode a text file; `declared` is a charset named by the file itself (HTML meta)."""
    text = None
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text = _strict(
                data[len(bom) :], encoding, f"{_NAMES[encoding]}（文件开头有此标记）", len(bom)
            )
            break
    if text is None and b"\x00" in data[:_SAMPLE]:
        text = _wide(data)
        if text is None:
            raise ImportRejected("这是二进制文件（含 NUL 字节），不是文本")
    if text is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text, encoding = _legacy(data, declared)
            if encoding == "cp950":
                text = _to_simplified(text)
    limit = settings.FANWEN_IMPORT_MAX_CHARS
    if len(text) > limit:
        # Checked before any parsing: a model essay is a few thousand characters.
        raise ImportRejected(
            f"文件内容过长（{len(text) / 10000:.0f} 万个字符），上限 {limit / 10000:g} 万个字符"
        )
    language = _foreign(text[:_SAMPLE])
    if language:
        raise ImportRejected(f"这是{language}文本，不是中文范文，已拒绝")
    return _checked(text)


def _to_simplified(text: str) -> str:
    import zhconv

    # In chunks cut at line ends, so the time budget is checked between them.
    out = []
    start = 0
    while start < len(text):
        end = text.find("\n", start + _CONVERT_CHUNK)
        end = len(text) if end < 0 else end + 1
        out.append(zhconv.convert(text[start:end], "zh-hans"))
        budget.check()
        start = end
    return "".join(out)


def _checked(text: str) -> str:
    sample = text[:20000]
    if "\x00" in sample:
        raise ImportRejected("这是二进制文件（含 NUL 字符），不是文本")
    if sample and len(_CONTROL.findall(sample)) > max(8, len(sample) // 100):
        raise ImportRejected("这是二进制文件（控制字符过多），不是文本")
    return text
