"""The DOCX as LibreOffice Writer renders it with Debian's fonts.

Marked and unmarked output render pixel for pixel the same, and Chinese text is never set in
a Latin font. Each file goes to PDF through soffice (its own user profile, so runs never
collide); pdftoppm turns the PDF into PNG pages at 100 dpi, compared with Pillow, and pdftohtml
says which font each piece of text is in.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path
from xml.etree import ElementTree

import pytest
from PIL import Image, ImageChops

from fanwen.exports.docx import build_docx, docx_mark, docx_visible_text
from fanwen.exports.tests.buyer import demo_purchase
from fanwen.exports.text import article_text
from fanwen.library.models import Article, Piece
from fanwen.protection.mark import ALPHABET, find_marks, strip_marks

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
PDFTOPPM = shutil.which("pdftoppm")
PDFTOHTML = shutil.which("pdftohtml")
ARTIFACTS = Path(__file__).resolve().parents[4] / "test-artifacts"

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not (SOFFICE and PDFTOPPM and PDFTOHTML),
        reason="LibreOffice (soffice) or poppler-utils (pdftoppm) is not installed: "
        "make system-deps installs libreoffice-writer-nogui and poppler-utils as root",
    ),
]


def to_pdf(path: Path, work: Path) -> Path:
    """`path` as LibreOffice prints it to PDF."""
    out = work / f"{path.stem}-out"
    profile = work / f"{path.stem}-profile"
    command = [SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless"]
    if path.suffix == ".txt":
        # Opened in Writer as a UTF-8 text file, as a buyer's editor would.
        command.append("--infilter=Text (encoded):UTF8,LF,,,")
    command += ["--convert-to", "pdf", "--outdir", str(out), str(path)]
    subprocess.run(command, check=True, capture_output=True, timeout=180)
    return out / f"{path.stem}.pdf"


def render(path: Path, work: Path) -> list[Image.Image]:
    """The pages of `path` as LibreOffice prints them to PDF, at 100 dpi."""
    pdf = to_pdf(path, work)
    out = pdf.parent
    subprocess.run([PDFTOPPM, "-r", "100", "-png", str(pdf), str(out / "page")], check=True)
    pages = sorted(out.glob("page-*.png"), key=lambda page: int(page.stem.split("-")[-1]))
    return [Image.open(page).convert("RGB") for page in pages]


def differing_pixels(left: list[Image.Image], right: list[Image.Image]) -> list[int]:
    """Per page, how many pixels differ (all of them when the sizes differ)."""
    assert len(left) == len(right), f"{len(left)} pages against {len(right)}"
    counts = []
    for a, b in zip(left, right, strict=True):
        if a.size != b.size:
            counts.append(a.size[0] * a.size[1])
            continue
        mask = ImageChops.difference(a, b).convert("L").point(lambda v: 255 if v else 0)
        counts.append(mask.histogram()[255])
    return counts


def test_a_marked_docx_renders_exactly_like_the_same_docx_without_the_mark(tmp_path):
    purchase = demo_purchase()
    marked = tmp_path / "marked.docx"
    marked.write_bytes(purchase.docx())
    plain = tmp_path / "plain.docx"
    plain.write_bytes(build_docx(purchase.article))
    assert docx_mark(marked.read_bytes()) == [purchase.order.pk]
    assert docx_mark(plain.read_bytes()) == []
    assert docx_visible_text(marked.read_bytes()) == purchase.unmarked()

    marked_pages, plain_pages = render(marked, tmp_path), render(plain, tmp_path)
    ARTIFACTS.mkdir(exist_ok=True)
    marked_pages[0].save(ARTIFACTS / "docx-marked-page-1.png")
    assert len(marked_pages) >= 2
    # Not a blank page: the text was laid out (dark pixels on at least a tenth of the rows).
    first = marked_pages[0].convert("L")
    dark_rows = sum(
        1
        for y in range(first.height)
        if first.crop((0, y, first.width, y + 1)).getextrema()[0] < 128
    )
    assert dark_rows > first.height // 10
    assert differing_pixels(marked_pages, plain_pages) == [0] * len(plain_pages)


def test_copied_text_opened_in_writer_renders_exactly_like_the_unmarked_text(tmp_path):
    purchase = demo_purchase()
    copied = purchase.copied()
    assert strip_marks(copied) == purchase.unmarked() and set(ALPHABET) & set(copied)
    assert find_marks(copied)[0][0] == purchase.order.pk
    marked = tmp_path / "copied.txt"
    marked.write_text(copied, encoding="utf-8")
    plain = tmp_path / "plain.txt"
    plain.write_text(purchase.unmarked(), encoding="utf-8")

    marked_pages, plain_pages = render(marked, tmp_path), render(plain, tmp_path)
    ARTIFACTS.mkdir(exist_ok=True)
    marked_pages[0].save(ARTIFACTS / "copied-text-writer-page-1.png")
    assert differing_pixels(marked_pages, plain_pages) == [0] * len(plain_pages)


# Chinese punctuation Unicode shares with Western text: quotes, dashes, ellipsis, 间隔号.
SHARED_PUNCTUATION = set("·‘’“”—―…")
# The CJK families of Debian, macOS and Windows, as PDF font names spell them.
CJK_FONT = re.compile(
    r"CJK|SourceHan|WenQuanYi|WQY|UKai|UMing|DroidSansFallback|Sim(Sun|Hei|Kai|Fang)|FangSong"
    r"|KaiTi|ST(Song|Kaiti|Fangsong|Heiti|Zhongsong)|Songti|Heiti|Kaiti|PingFang",
    re.IGNORECASE,
)


def is_chinese(char: str) -> bool:
    code = ord(char)
    return (
        0x3400 <= code <= 0x9FFF  # CJK ideographs (and extension A)
        or 0x3000 <= code <= 0x303F  # CJK symbols and punctuation: 、。《》
        or 0xFF00 <= code <= 0xFFEF  # full-width forms: ，：；（）％
        or char in SHARED_PUNCTUATION
    )


def text_by_font(pdf: Path) -> dict[str, str]:
    """The PDF's text, grouped by the font (subset prefix dropped) each piece is set in."""
    result = subprocess.run(
        [PDFTOHTML, "-xml", "-i", "-q", "-stdout", str(pdf)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    root = ElementTree.fromstring(result.stdout)
    fonts = {spec.get("id"): spec.get("family").split("+")[-1] for spec in root.iter("fontspec")}
    texts: dict[str, str] = defaultdict(str)
    for text in root.iter("text"):
        texts[fonts[text.get("font")]] += "".join(text.itertext())
    return texts


def test_chinese_text_is_never_set_in_a_latin_font(summaries, tmp_path):
    """Rendered with Debian's fonts (none of 仿宋_GB2312, 方正小标宋简体, 楷体_GB2312, 黑体, 宋体), every
    Chinese character, full-width punctuation mark and shared quote, dash, ellipsis and 间隔号 is
    in a CJK font, in the title, the headings, the body and the page numbers. Latin fonts may
    carry what is not Chinese: digits, Latin letters, half-width punctuation."""
    article = Article.objects.create(
        category=summaries,
        title="关于“三个一”工作的总结——2024年",
        status=Article.Status.PUBLISHED,
        piece_count=1,
    )
    blocks = [
        {"kind": "p", "text": "“开头引号”与5G“新基建”、第3——5条……共8项，约翰·史密斯，50％。"},
        {"kind": "h1", "text": "一、主要做法"},
        {"kind": "h2", "text": "（一）健全“1+N”机制"},
        {"kind": "h3", "text": "1. 建立台账——逐项销号"},
        {"kind": "p", "text": "他说：“要‘认真’落实。”English words stay English (ABC 123)。"},
    ]
    Piece.objects.create(article=article, position=1, blocks=blocks)
    path = tmp_path / "fonts.docx"
    path.write_bytes(build_docx(article))

    texts = text_by_font(to_pdf(path, tmp_path))

    chinese = {font: "".join(filter(is_chinese, text)) for font, text in texts.items()}
    assert {
        font: text for font, text in chinese.items() if text and not CJK_FONT.search(font)
    } == {}
    # All of it reached the PDF, and the footer's "— 1 —" too: nothing was left out unchecked.
    laid_out = set("".join(chinese.values()))
    assert set(filter(is_chinese, article_text(article))) | {"—"} <= laid_out
