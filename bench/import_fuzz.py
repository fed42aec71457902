"""Feed the importer every kind of malformed file and check none of them stalls or breaks it.

Generates the files in a scratch folder (zip bombs honest and lying, bzip2 entries, XXE and
billion laughs in document.xml, truncated zips, random bytes, an old .doc, huge texts,
pathological lines for every regex of the importer, HTML nested 10^5 deep, NUL bytes, every
encoding, symlinks to /dev/zero, /etc/passwd, outside the folder and in loops, FIFOs,
sockets, devices when run as root), then imports each one in its own child process into a
scratch SQLite site, measuring wall time and peak RSS (wait4), and prints a table:

    kind  result (imported / refused)  message  seconds  peak MB

and a summary: crashes (tracebacks, non-clean exits, internal errors), half-stored articles
(a refused file that left an article, a piece or an empty category behind), max seconds,
max MB. Then it imports the whole folder once more as one batch (`fanwen import FOLDER
--json`) in a child process and checks every file got its line and the same verdict.

Goal: 0 crashes, 0 half-stored, every file <= 5 s and <= 300 MB, every message in Chinese.

Usage:
  .venv/bin/python bench/import_fuzz.py [--cases N] [--only SUBSTRING] [--keep]
      [--max-seconds 5] [--max-mb 300] [--no-batch] [--json]

--cases N keeps an even spread of N of the cases (the test suite runs 40). Exit status 1
when a goal is missed. Each child has a 60 s wall clock and a 2 GB address-space limit, so a
regression shows up as a failed case, not as a stalled or swapping machine.
"""

from __future__ import annotations

import argparse
import bz2
import codecs
import io
import json
import os
import random
import resource
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HARD_SECONDS = 60
HARD_BYTES = 2 * 1024**3
# --quick builds the bombs and the huge files 16 times smaller (still over every limit).
SCALE = 1.0
ESSAY = (
    "秋季运动会总结\n本次运动会共有十二个班级参加，同学们奋勇拼搏，赛出了风格，也赛出了水平。\n"
    "一、赛事概况\n比赛历时两天，共进行了二十个项目的角逐，打破校纪录三项。\n"
    "二、存在的问题\n个别班级组织不够有序，检录时有迟到现象，今后要加强纪律教育。\n"
)
ESSAY_TRAD = (
    "秋季運動會總結\n本次運動會共有十二個班級參加，同學們奮勇拼搏，賽出了風格，也賽出了水平。\n"
)
JAPANESE = (
    "秋の運動会のまとめ\n今回の運動会には十二のクラスが参加し、生徒たちは全力で頑張りました。\n"
)
KOREAN = "가을 운동회 총결\n이번 운동회에는 열두 개 반이 참가했으며 학생들은 최선을 다했습니다.\n"


def _mb(megabytes: float) -> int:
    return int(megabytes * SCALE) * 1024 * 1024


@dataclass
class Case:
    name: str  # the file name in the folder
    kind: str  # what it is, for the table


@dataclass
class Result:
    case: Case
    ok: bool = False
    message: str = ""
    seconds: float = 0.0
    peak_mb: float = 0.0
    crash: str = ""  # why it counts as a crash, "" when it does not
    article_id: int | None = None
    key: str = ""


# --- building files ---------------------------------------------------------------------


def _docx_parts(body_xml: str | bytes | None = None) -> dict[str, bytes]:
    """The parts of a minimal valid .docx, with `body_xml` as word/document.xml."""
    import docx

    buffer = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("秋季运动会总结", style="Title")
    for line in ESSAY.splitlines()[1:]:
        document.add_paragraph(line)
    document.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    if body_xml is not None:
        parts["word/document.xml"] = body_xml.encode() if isinstance(body_xml, str) else body_xml
    return parts


def _zip(parts: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _deflate_zeros(
    size: int, prefix: bytes = b"", suffix: bytes = b"", byte: bytes = b" "
) -> bytes:
    """Raw deflate of prefix + `size` copies of `byte` + suffix, built in chunks."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = [compressor.compress(prefix)]
    chunk = byte * (1024 * 1024)
    left = size
    while left > 0:
        piece = chunk[: min(left, len(chunk))]
        out.append(compressor.compress(piece))
        left -= len(piece)
    out.append(compressor.compress(suffix))
    out.append(compressor.flush())
    return b"".join(out)


def _raw_zip(entries: list[tuple[str, bytes, int, int, int, int]]) -> bytes:
    """A zip written by hand: (name, compressed data, method, crc, declared size, real size).
    Lets an entry declare any size it likes."""
    body = io.BytesIO()
    central = io.BytesIO()
    for name, data, method, crc, declared, _real in entries:
        offset = body.tell()
        encoded = name.encode()
        body.write(
            struct.pack(
                "<IHHHHHIIIHH",
                0x04034B50,
                20,
                0,
                method,
                0,
                0x21,
                crc,
                len(data),
                declared,
                len(encoded),
                0,
            )  # fmt: skip
        )
        body.write(encoded)
        body.write(data)
        central.write(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                method,
                0,
                0x21,
                crc,
                len(data),
                declared,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )  # fmt: skip
        )
        central.write(encoded)
    directory = central.getvalue()
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(directory), body.tell(), 0
    )
    return body.getvalue() + directory + end


def _raw_entries(parts: dict[str, bytes]) -> list[tuple[str, bytes, int, int, int, int]]:
    out = []
    for name, data in parts.items():
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        packed = compressor.compress(data) + compressor.flush()
        out.append((name, packed, 8, zlib.crc32(data), len(data), len(data)))
    return out


_DOC_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
)
_DOC_TAIL = "</w:body></w:document>"


def _doc_xml(paragraphs: list[str], head: str = _DOC_HEAD) -> str:
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    return head + body + _DOC_TAIL


def _lying_docx(real: int, declared: int, method: str = "deflate") -> bytes:
    """word/document.xml inflates to `real` bytes but its headers say `declared`."""
    parts = _docx_parts()
    entries = _raw_entries({k: v for k, v in parts.items() if k != "word/document.xml"})
    prefix = _DOC_HEAD.encode() + b"<w:p><w:r><w:t>"
    suffix = b"</w:t></w:r></w:p>" + _DOC_TAIL.encode()
    if method == "bzip2":
        compressor = bz2.BZ2Compressor(9)
        chunks = [compressor.compress(prefix)]
        block = b" " * (1024 * 1024)
        for _ in range(real // len(block)):
            chunks.append(compressor.compress(block))
        chunks.append(compressor.compress(suffix))
        chunks.append(compressor.flush())
        packed, code = b"".join(chunks), 12
    else:
        packed, code = _deflate_zeros(real, prefix, suffix), 8
    head = (prefix + b" " * max(0, declared - len(prefix)))[:declared]
    entries.append(("word/document.xml", packed, code, zlib.crc32(head), declared, real))
    return _raw_zip(entries)


def _honest_bomb(size: int, name: str = "word/document.xml") -> bytes:
    parts = _docx_parts()
    entries = _raw_entries({k: v for k, v in parts.items() if k != name})
    prefix = _DOC_HEAD.encode() + b"<w:p><w:r><w:t>"
    suffix = b"</w:t></w:r></w:p>" + _DOC_TAIL.encode()
    packed = _deflate_zeros(size, prefix, suffix)
    crc = 0  # never checked: the reader stops long before the end
    entries.append((name, packed, 8, crc, size + len(prefix) + len(suffix), size))
    return _raw_zip(entries)


def _pathological_lines() -> dict[str, str]:
    """One long line per regex shape of the importer (structure, placeholders, markdown)."""
    n = 100_000
    return {
        "x-run": "x" * n,
        "xx-dots": "xx." * (n // 3),
        "underscores-then-letter": "_" * n + "a",
        "underscores-alternating": "_a" * (n // 2),
        "fullwidth-underscores": "＿" * n,
        "squares": "□" * n + "年",
        "times-signs": "×" * n,
        "circles": "○" * n,
        "mou-mou": "某" * n,
        "year-like": "20xx" * (n // 4),
        "date-like": "1年" * (n // 2),
        "date-spaces": ("1 " * (n // 2)) + "月",
        "x-then-month": "x" * n + "月",
        "md-emphasis-open": "**a " * (n // 4),
        "md-emphasis-stars": "*" * n,
        "md-links-open": "[" * n,
        "md-links-half": "[a](" * (n // 4),
        "md-images-open": "![" * (n // 2),
        "md-heading-hashes": "# " + "# " * (n // 2) + "x",
        "md-rule": "- " * (n // 2) + "a",
        "md-quotes": "> " * (n // 2),
        "html-tags-open": "<a" * (n // 2),
        "br-open": "<br " * (n // 4),
        "stray-dots": "中." * (n // 2),
        "spaces-and-tabs": " \t" * (n // 2) + "a",
        "credit-repeats": "本文由" * (n // 3),
        "credit-sentences": ("更多" + "a" * 20) * (n // 22),
        "cut-words": "相关" * (n // 2),
        "chrome-words": "扫码" * (n // 2),
        "piece-markers": "篇一" * (n // 2),
        "count-suffix": "(" + "优秀" * (n // 2) + "x",
        "count-spaces": "（ " * (n // 2),
        "crumb-separators": "当前位置:" + "> " * (n // 2),
        "crumb-home": "首页>" + " >" * (n // 2),
        "generic-intro": "希望" * (n // 2),
        "editor": "小编:" * (n // 3),
        "meta-words": "来源 " * (n // 3),
        "cn-numbers": "篇" + "一" * n,
        "marker-end-spaces": "总结" + " " * n + "篇一",
        "paren-number": "（" * n + "一）",
        "zero-width": "\u200b" * n + "中",
        "many-blanks": "xx同志 " * (n // 5),
    }


def build_cases(folder: Path) -> list[Case]:
    cases: list[Case] = []
    rng = random.Random(20261203)

    def put(name: str, kind: str, data: bytes) -> None:
        (folder / name).write_bytes(data)
        cases.append(Case(name, kind))

    # Baselines that must import.
    put("ok-utf8.txt", "正常 UTF-8 文本", ESSAY.encode())
    put("ok.docx", "正常 docx", _zip(_docx_parts()))

    # Zip bombs.
    put("bomb-honest-1g.docx", "zip 炸弹（如实声明 1 GB）", _honest_bomb(_mb(1024)))
    put("bomb-honest-200m.docx", "zip 炸弹（如实声明 200 MB）", _honest_bomb(_mb(200)))
    put("bomb-honest-styles.docx", "zip 炸弹（styles.xml 500 MB）",
        _honest_bomb(_mb(500), "word/styles.xml"))  # fmt: skip
    put("bomb-lying-1g.docx", "zip 炸弹（1 GB 声明 1 KB）", _lying_docx(_mb(1024), 1024))
    put("bomb-lying-100m.docx", "zip 炸弹（100 MB 声明 100 KB）",
        _lying_docx(_mb(100), 100 * 1024))  # fmt: skip
    put("bomb-lying-bzip2.docx", "zip 炸弹（bzip2，2 GB 声明 1 KB）",
        _lying_docx(_mb(2048), 1024, "bzip2"))  # fmt: skip
    put("bomb-media.docx", "zip 炸弹（图片 1 GB）",
        _honest_bomb(_mb(1024), "word/media/image1.png"))  # fmt: skip
    many = _docx_parts()
    many.update({f"word/media/x{i}.xml": b"<a/>" for i in range(3000)})
    put("bomb-entries.docx", "zip 内 3000 个文件", _zip(many))
    small = _docx_parts()
    small.update({f"customXml/item{i}.xml": b"<a>" + b" " * 900_000 + b"</a>" for i in range(60)})
    put("bomb-many-parts.docx", "zip 多个部件合计超限", _zip(small))
    nested = _docx_parts()
    nested["word/embeddings/inner.zip"] = _honest_bomb(_mb(50))
    put("bomb-nested-zip.docx", "zip 里嵌 zip 炸弹", _zip(nested))
    dup = _raw_entries(_docx_parts())
    dup.append(dup[-1])
    put("zip-duplicate-names.docx", "zip 内重名文件", _raw_zip(dup))

    # XXE and entity expansion.
    passwd = _doc_xml(["&xxe;"], _DOC_HEAD.replace(
        "<w:document", '<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<w:document'))  # fmt: skip
    put("xxe-file.docx", "XXE（file:///etc/passwd）", _zip(_docx_parts(passwd)))
    laughs = "".join(
        f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10 if i else "哈哈"}">' for i in range(10)
    )
    billion = _doc_xml(["&l9;"], _DOC_HEAD.replace(
        "<w:document", f"<!DOCTYPE w:document [{laughs}]>\n<w:document"))  # fmt: skip
    put("xxe-billion-laughs.docx", "billion laughs", _zip(_docx_parts(billion)))
    put("xxe-utf16.docx", "XXE（UTF-16 编码）",
        _zip(_docx_parts(passwd.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"))))  # fmt: skip
    put("xxe-utf32.docx", "XXE（UTF-32 编码）",
        _zip(_docx_parts(codecs.BOM_UTF32_LE + passwd.replace('encoding="UTF-8"', 'encoding="UTF-32"').encode("utf-32-le"))))  # fmt: skip
    param = _DOC_HEAD.replace("<w:document", '<!DOCTYPE w:document [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>\n<w:document')  # fmt: skip
    put("xxe-parameter.docx", "XXE（参数实体、外部 DTD）", _zip(_docx_parts(param + _DOC_TAIL)))
    styles = _docx_parts()
    styles["word/styles.xml"] = (
        b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]><w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">&x;</w:styles>'
    )
    put("xxe-styles.docx", "XXE（在 styles.xml）", _zip(styles))
    types = _docx_parts()
    types["[Content_Types].xml"] = b'<!DOCTYPE t SYSTEM "http://127.0.0.1:9/t.dtd">' + types["[Content_Types].xml"].split(b"?>", 1)[1]  # fmt: skip
    put("xxe-content-types.docx", "XXE（在 [Content_Types].xml）", _zip(types))
    put("xml-ebcdic.docx", "document.xml 声明 EBCDIC 编码",
        _zip(_docx_parts(_doc_xml(["正文"]).replace("UTF-8", "EBCDIC-CP-US").encode())))  # fmt: skip
    put("xml-broken.docx", "document.xml 不是 XML", _zip(_docx_parts(b"<w:document><w:body>")))

    # Random characters keep these under the compression-ratio limit, so they reach the parser.
    def noise(count: int) -> str:
        return "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(count))

    deep = "".join(f'<w:p w:rsidR="{rng.getrandbits(32):08X}">' for _ in range(100_000))
    put("xml-deep.docx", "document.xml 嵌套 10^5 层",
        _zip(_docx_parts(_DOC_HEAD + deep + "</w:p>" * 100_000 + _DOC_TAIL)))  # fmt: skip
    put("xml-many-paragraphs.docx", "document.xml 20 万段",
        _zip(_docx_parts(_doc_xml([noise(8) + "。" for _ in range(200_000)]))))  # fmt: skip
    put("xml-long-run.docx", "document.xml 一段 300 万字含 xx",
        _zip(_docx_parts(_doc_xml(["".join("xx" + noise(3) for _ in range(600_000))]))))  # fmt: skip
    put("xml-big-valid.docx", "document.xml 10 万段（限额内）",
        _zip(_docx_parts(_doc_xml([noise(30) + "。" for _ in range(100_000)]))))  # fmt: skip

    # Truncated and damaged zips.
    good = _zip(_docx_parts())
    for cut in (0.1, 0.3, 0.5, 0.7, 0.9, 0.99):
        put(f"truncated-{int(cut * 100)}.docx", f"截断的 docx（{int(cut * 100)}%）",
            good[: int(len(good) * cut)])  # fmt: skip
    flipped = bytearray(good)
    for _ in range(40):
        flipped[rng.randrange(len(flipped))] ^= 0xFF
    put("bitflips.docx", "随机改坏字节的 docx", bytes(flipped))
    put("zip-no-document.docx", "zip 里没有 word/document.xml", _zip({"a.txt": b"hi"}))
    put("zip-empty.docx", "空 zip", _zip({}))
    put("not-a-zip.docx", "以 PK 开头的非 zip", b"PK\x03\x04" + b"garbage" * 100)

    # Random bytes, old Word, binary.
    for index, suffix in enumerate((".txt", ".md", ".html", ".docx") * 2):
        size = (1000, 100_000)[index // 4]
        put(f"random-{index}{suffix}", f"随机字节 {size} B（{suffix}）", rng.randbytes(size))
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + rng.randbytes(4096)
    put("legacy.doc", "旧版 Word（.doc）", ole)
    put("legacy-renamed.docx", "改名为 .docx 的 .doc", ole)
    put("png-as-text.txt", "改名为 .txt 的 PNG", b"\x89PNG\r\n\x1a\n" + rng.randbytes(2000))

    # Sizes.
    put("empty.txt", "空文件", b"")
    put("whitespace.md", "只有空白", b" \n\t\r\n" * 1000)
    with (folder / "huge-50mb.txt").open("wb") as fh:
        line = ESSAY.encode()
        for _ in range(max(_mb(50), 21 * 1024**2) // len(line) + 1):
            fh.write(line)
    cases.append(Case("huge-50mb.txt", "50 MB 文本"))
    put(
        "big-19mb.txt",
        "19 MB 文本（限额以内）",
        ESSAY.encode() * (max(_mb(19), 5 * 1024**2) // len(ESSAY.encode())),
    )
    put(
        "one-line-10mb.txt", "10 MB 一行无换行", "本次运动会共有十二个班级参加，".encode() * 230_000
    )
    put("many-lines.txt", "100 万行短行", "标题\n".encode() + b"ab\n" * 1_000_000)
    put(
        "many-headings.txt",
        "20 万个一、标题",
        "标题\n".encode() + "一、加强领导\n".encode() * 200_000,
    )
    put("many-markers.txt", "2 万个篇一", "标题\n".encode() + "".join(
        f"篇{'一二三四五六七八九'[i % 9]}\n正文内容在这里。\n" for i in range(20_000)).encode())  # fmt: skip

    # Pathological lines for every regex, as .txt and as .md.
    for name, line in _pathological_lines().items():
        data = ("标题\n正文开始。\n" + line + "\n结束。\n").encode()
        put(f"line-{name}.txt", f"病态行 {name}（txt）", data)
        put(f"line-{name}.md", f"病态行 {name}（md）", data)

    # HTML.
    # One character per level keeps these under the text-length cap, so the nesting is parsed.
    for tag in ("div", "font", "span", "table", "p", "a", "h1", "section"):
        html = f"<html><body>{f'<{tag}>字' * 100_000}{f'</{tag}>' * 100_000}</body></html>"
        put(f"html-deep-{tag}.html", f"HTML <{tag}> 嵌套 10^5 层", html.encode())
    hidden = (
        "<html><body>" + '<i style="display:none">隐' * 60_000 + "</i>" * 60_000 + "</body></html>"
    )
    put("html-deep-hidden.html", "HTML 隐藏元素嵌套 6×10^4 层", hidden.encode())
    wide = (
        "<html><body><div class=content>"
        + "<p>这是一个段落，有标点。</p>" * 300_000
        + "</div></body></html>"
    )
    put("html-wide.html", "HTML 30 万个段落", wide.encode())
    crumbs = (
        "<html><body>"
        + '<div class="position">当前位置：<a href="/">首页</a> &gt; ' * 20_000
        + "</div>" * 20_000
        + "<p>正文内容，有标点。</p></body></html>"
    )
    put("html-crumbs.html", "HTML 2 万层面包屑", crumbs.encode())
    logos = (
        "<html><body>"
        + "<header><h1>标题标题标题</h1>" * 20_000
        + "</header>" * 20_000
        + "</body></html>"
    )
    put("html-h1s.html", "HTML 2 万个嵌套 h1", logos.encode())
    put("html-xxe.html", "HTML 内部实体（XXE）",
        b'<?xml version="1.0"?><!DOCTYPE html [<!ENTITY x SYSTEM "file:///etc/passwd">]><html><body><p>&x;</p></body></html>')  # fmt: skip
    put(
        "html-billion.html",
        "HTML billion laughs",
        f"<!DOCTYPE html [{laughs}]><html><body><p>&l9;</p></body></html>".encode(),
    )
    put(
        "html-attr.html",
        "HTML 5 MB 属性",
        b'<html><body><p title="'
        + b"a" * 5_000_000
        + b'">\xe6\xad\xa3\xe6\x96\x87</p></body></html>',
    )
    put("html-unclosed.html", "HTML 未闭合标签", b"<html><body>" + b"<p><b><i>" * 100_000)
    put(
        "html-comments.html",
        "HTML 10 万个注释",
        b"<html><body>" + b"<!-- x -->" * 100_000 + "<p>正文</p>".encode(),
    )
    put(
        "html-script.html",
        "HTML 只有脚本",
        b"<html><body>" + b"<script>" + b"x" * 1_000_000 + b"</script></body></html>",
    )
    put(
        "html-meta-charset.html",
        "HTML 声明错误字符集",
        '<html><head><meta charset="shift_jis"></head><body><p>秋季运动会总结，同学们奋勇拼搏。</p></body></html>'.encode(
            "gbk"
        ),
    )

    # NUL bytes.
    put("nul-in-text.txt", "文本中夹 NUL", ESSAY.encode()[:60] + b"\x00" + ESSAY.encode()[60:])
    put("nul-only.txt", "全是 NUL", b"\x00" * 100_000)
    put(
        "nul-html.html",
        "HTML 中夹 NUL",
        b"<html><body><p>" + b"\x00" * 1000 + "正文".encode() + b"</p></body></html>",
    )
    put("nul-md.md", "Markdown 中夹 NUL", ("# 标题\n" + ESSAY).encode().replace(b"\n", b"\x00\n"))

    # Encodings.
    encodings = {
        "utf-16-le-bom": codecs.BOM_UTF16_LE + ESSAY.encode("utf-16-le"),
        "utf-16-be-bom": codecs.BOM_UTF16_BE + ESSAY.encode("utf-16-be"),
        "utf-16-le": ESSAY.encode("utf-16-le"),
        "utf-16-be": ESSAY.encode("utf-16-be"),
        "utf-32-le-bom": codecs.BOM_UTF32_LE + ESSAY.encode("utf-32-le"),
        "utf-32-be-bom": codecs.BOM_UTF32_BE + ESSAY.encode("utf-32-be"),
        "utf-32-le": ESSAY.encode("utf-32-le"),
        "utf-32-be": ESSAY.encode("utf-32-be"),
        "utf-8-bom": codecs.BOM_UTF8 + ESSAY.encode(),
        "gb18030": ESSAY.encode("gb18030"),
        "gbk": ESSAY.encode("gbk"),
        "big5": ESSAY_TRAD.encode("big5"),
        "shift-jis": JAPANESE.encode("shift_jis"),
        "euc-jp": JAPANESE.encode("euc_jp"),
        "euc-kr": KOREAN.encode("euc_kr"),
        "japanese-utf8": JAPANESE.encode(),
        "korean-utf8": KOREAN.encode(),
        "invalid-utf8": ESSAY.encode()[:90] + b"\xc3\x28\xa0\xa1" + ESSAY.encode()[90:],
        "mixed-utf8-gbk": ESSAY.encode() + ESSAY.encode("gbk"),
        "latin1": "Résumé: café crème brûlée, naïve façade.\n".encode("latin-1") * 20,
        "bom-then-garbage": codecs.BOM_UTF8 + b"\xff\xfe\xfd" * 100,
        "utf-16-odd-length": codecs.BOM_UTF16_LE + ESSAY.encode("utf-16-le") + b"\x00",
        "utf-16-lone-surrogate": codecs.BOM_UTF16_LE
        + ESSAY.encode("utf-16-le")
        + b"\x00\xd8\x41\x00",
    }
    for name, data in encodings.items():
        put(f"enc-{name}.txt", f"编码 {name}", data)
    put("enc-big5.html", "编码 Big5（网页）",
        f'<html><head><meta charset="big5"></head><body><p>{ESSAY_TRAD}</p></body></html>'.encode("big5"))  # fmt: skip

    # Things that are not regular files.
    links = {
        "link-dev-zero.txt": ("/dev/zero", "符号链接 → /dev/zero"),
        "link-dev-urandom.txt": ("/dev/urandom", "符号链接 → /dev/urandom"),
        "link-etc-passwd.txt": ("/etc/passwd", "符号链接 → /etc/passwd"),
        "link-proc-self.txt": ("/proc/self/environ", "符号链接 → /proc/self/environ"),
        "link-outside.txt": (str(folder.parent / "outside.txt"), "符号链接 → 文件夹外"),
        "link-dangling.txt": (str(folder / "nowhere.txt"), "悬空符号链接"),
        "link-loop-a.txt": (str(folder / "link-loop-b.txt"), "符号链接循环"),
        "link-loop-b.txt": (str(folder / "link-loop-a.txt"), "符号链接循环"),
        "link-self.txt": (str(folder / "link-self.txt"), "指向自己的符号链接"),
        "link-to-folder.txt": (str(folder), "符号链接 → 文件夹"),
        "link-inside.txt": ("ok-utf8.txt", "文件夹内的符号链接（应导入）"),
        "link-relative-escape.txt": ("../outside.txt", "相对路径逃出文件夹"),
    }
    (folder.parent / "outside.txt").write_text(ESSAY, encoding="utf-8")
    for name, (target, kind) in links.items():
        os.symlink(target, folder / name)
        cases.append(Case(name, kind))
    os.mkfifo(folder / "fifo.txt")
    cases.append(Case("fifo.txt", "命名管道（FIFO）"))
    os.mkfifo(folder / "fifo.docx")
    cases.append(Case("fifo.docx", "命名管道（FIFO，.docx）"))
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(folder / "socket.txt"))
    cases.append(Case("socket.txt", "套接字"))
    if os.geteuid() == 0:
        os.mknod(folder / "device-zero.txt", stat.S_IFCHR | 0o600, os.makedev(1, 5))
        cases.append(Case("device-zero.txt", "字符设备（/dev/zero 的 mknod）"))
    folder_like = folder / "folder.txt"
    folder_like.mkdir()
    (folder_like / "inner.txt").write_text(ESSAY, encoding="utf-8")
    cases.append(Case("folder.txt/inner.txt", "名为 .txt 的文件夹里的文件"))
    return cases


# --- running ----------------------------------------------------------------------------


def _setup(var_dir: Path) -> None:
    os.environ["FANWEN_VAR_DIR"] = str(var_dir)
    os.environ["DATABASE_URL"] = f"sqlite:///{var_dir / 'fuzz.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanwen.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _child(source, write_fd: int, log_path: Path) -> None:
    """In the forked child: import one file the way `fanwen import` does, report as JSON."""
    resource.setrlimit(resource.RLIMIT_AS, (HARD_BYTES, HARD_BYTES))
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(log, 2)
    from django.db import connections

    connections.close_all()
    from fanwen.library.management.commands.import_articles import Command

    started = time.perf_counter()
    report = Command().import_one(source, {"category": None, "publish": False})
    seconds = time.perf_counter() - started
    payload = json.dumps(
        {"ok": report["ok"], "error": report["error"], "id": report["article_id"], "s": seconds},
        ensure_ascii=False,
    ).encode()
    os.write(write_fd, payload)
    os.close(write_fd)
    os._exit(0)


def run_one(case: Case, source, scratch: Path) -> Result:
    result = Result(case, key=source.key)
    read_fd, write_fd = os.pipe()
    log_path = scratch / "child.log"
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read_fd)
        try:
            _child(source, write_fd, log_path)
        except BaseException:  # noqa: BLE001
            import traceback

            traceback.print_exc()
        os._exit(70)
    os.close(write_fd)
    status = rusage = None
    while True:
        done, status, rusage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        if time.perf_counter() - started > HARD_SECONDS:
            os.kill(pid, signal.SIGKILL)
            _, status, rusage = os.wait4(pid, 0)
            result.crash = f"超过 {HARD_SECONDS} 秒被终止"
            break
        time.sleep(0.01)
    wall = time.perf_counter() - started
    with os.fdopen(read_fd, "rb") as pipe:
        payload = pipe.read()
    result.peak_mb = rusage.ru_maxrss / 1024
    log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
    if not result.crash and (not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0):
        signal_name = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        result.crash = f"子进程异常退出（{'信号 ' + str(signal_name) if signal_name else os.WEXITSTATUS(status)}）"
    if "Traceback" in log and not result.crash:
        result.crash = "打印了 Traceback"
    if payload:
        data = json.loads(payload)
        result.ok, result.message, result.article_id = data["ok"], data["error"] or "", data["id"]
        result.seconds = data["s"]
        if result.message.startswith("内部错误"):
            result.crash = result.crash or "内部错误"
    else:
        result.seconds = wall
        result.message = (log.strip().splitlines() or ["（无输出）"])[-1][:120]
    return result


def half_stored(results: list[Result]) -> list[str]:
    """Refused files that left anything behind, and categories no article uses."""
    from django.db.models import Count

    from fanwen.library.models import Article, Category, Piece

    problems = []
    imported_ids = {r.article_id for r in results if r.ok}
    for result in results:
        if not result.ok and result.key and Article.objects.filter(source_key=result.key).exists():
            problems.append(f"{result.case.name}: 被拒绝却留下了文章")
    stray = Article.objects.exclude(id__in=imported_ids).count()
    if stray:
        problems.append(f"{stray} 篇文章不属于任何导入成功的文件")
    orphans = Piece.objects.exclude(article_id__in=imported_ids).count()
    if orphans:
        problems.append(f"{orphans} 个 Piece 不属于任何导入成功的文章")
    empty = Category.objects.annotate(n=Count("articles")).filter(n=0, children__isnull=True)
    for category in empty:
        problems.append(f"空分类 {category.name}（被拒绝的文件创建的）")
    return problems


def run_batch(folder: Path, var_dir: Path, expected: dict[str, bool]) -> dict:
    """`fanwen import FOLDER --json` once, as an editor would run it."""
    env = dict(os.environ, FANWEN_VAR_DIR=str(var_dir),
               DATABASE_URL=f"sqlite:///{var_dir / 'batch.sqlite3'}", PYTHONPATH=str(ROOT / "src"))  # fmt: skip
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], env=env, check=True)
    # A wrapper reports the batch process's own peak RSS on its last stderr line.
    wrapper = (
        "import resource, sys\n"
        "sys.argv = ['manage.py', 'import_articles', sys.argv[1], '--json', '--no-progress']\n"
        "import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'fanwen.settings')\n"
        "from django.core.management import execute_from_command_line\n"
        "try:\n    execute_from_command_line(sys.argv)\n"
        "finally:\n"
        "    print('PEAK_KB=%d' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    )
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", wrapper, str(folder)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (HARD_BYTES, HARD_BYTES)),
    )  # fmt: skip
    try:
        out, err = proc.communicate(timeout=HARD_SECONDS * 10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    peak = [
        line for line in err.decode(errors="replace").splitlines() if line.startswith("PEAK_KB=")
    ]
    seconds = time.perf_counter() - started
    lines = [json.loads(line) for line in out.decode().splitlines() if line.startswith("{")]
    seen = {Path(line["file"]).relative_to(folder).as_posix(): line["ok"] for line in lines}
    differ = sorted(name for name, ok in expected.items() if name in seen and seen[name] != ok)
    missing = sorted(set(expected) - set(seen))
    return {
        "seconds": round(seconds, 2),
        "files": len(lines),
        "imported": sum(1 for ok in seen.values() if ok),
        "exit": proc.returncode,
        "traceback": "Traceback" in err.decode(errors="replace"),
        "differ": differ,
        "missing": missing,
        "peak_mb": round(int(peak[-1][8:]) / 1024, 1) if peak else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=0, help="keep an even spread of N cases")
    parser.add_argument("--only", default="", help="only cases whose name contains this")
    parser.add_argument("--max-seconds", type=float, default=5.0)
    parser.add_argument("--max-mb", type=float, default=300.0)
    parser.add_argument("--no-batch", action="store_true", help="skip the one-batch folder run")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("--quick", action="store_true", help="bombs and huge files 16x smaller")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON line")
    args = parser.parse_args(argv)
    global SCALE
    SCALE = 1 / 16 if args.quick else 1.0

    scratch = Path(tempfile.mkdtemp(prefix="fanwen-fuzz-"))
    try:
        folder = scratch / "files"
        folder.mkdir()
        var_dir = scratch / "var"
        var_dir.mkdir()
        t0 = time.perf_counter()
        cases = build_cases(folder)
        built = time.perf_counter() - t0
        if args.only:
            cases = [c for c in cases if args.only in c.name]
        if args.cases and args.cases < len(cases):
            step = len(cases) / args.cases
            cases = [cases[int(i * step)] for i in range(args.cases)]
        _setup(var_dir)
        from fanwen.library.management.commands.import_articles import Source, discover

        sources = {s.path.relative_to(folder).as_posix(): s for s in discover([str(folder)])}
        results: list[Result] = []
        for case in cases:
            source = sources.get(case.name) or Source(
                folder / case.name, case.name, error="未被发现"
            )
            result = run_one(case, source, scratch)
            results.append(result)
            if not args.json:
                verdict = "imported" if result.ok else "refused"
                flag = f"  <<< {result.crash}" if result.crash else ""
                print(
                    f"{case.kind[:34]:<36}{verdict:<10}{result.message[:70]:<72}"
                    f"{result.seconds:7.2f}s {result.peak_mb:7.1f} MB{flag}",
                    flush=True,
                )
        problems = half_stored(results)
        not_chinese = [
            r.case.name
            for r in results
            if not r.ok and not any("\u4e00" <= ch <= "\u9fff" for ch in r.message)
        ]
        summary = {
            "cases": len(results),
            "built_seconds": round(built, 1),
            "imported": sum(1 for r in results if r.ok),
            "refused": sum(1 for r in results if not r.ok),
            "crashes": [f"{r.case.name}: {r.crash}" for r in results if r.crash],
            "half_stored": problems,
            "max_seconds": round(max((r.seconds for r in results), default=0), 2),
            "slowest": max(results, key=lambda r: r.seconds).case.name if results else "",
            "max_mb": round(max((r.peak_mb for r in results), default=0), 1),
            "biggest": max(results, key=lambda r: r.peak_mb).case.name if results else "",
            "over_seconds": [r.case.name for r in results if r.seconds > args.max_seconds],
            "over_mb": [r.case.name for r in results if r.peak_mb > args.max_mb],
            "messages_not_chinese": not_chinese,
        }
        if not args.no_batch:
            expected = {r.case.name: r.ok for r in results if r.case.name in sources}
            summary["batch"] = run_batch(folder, var_dir, expected)
        failed = bool(
            summary["crashes"] or summary["half_stored"] or summary["over_seconds"]
            or summary["over_mb"] or summary["messages_not_chinese"]
            or (summary.get("batch") and (summary["batch"]["differ"] or summary["batch"]["missing"]
                                          or summary["batch"]["traceback"]))
        )  # fmt: skip
        summary["ok"] = not failed
        if args.json:
            print(json.dumps(summary, ensure_ascii=False))
        else:
            print()
            for key, value in summary.items():
                print(f"{key:>22}: {value}")
        return 1 if failed else 0
    finally:
        if args.keep:
            print(f"scratch folder kept: {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
