"""Marked and unmarked output render pixel for pixel the same in LibreOffice Writer.

Each file goes to PDF through soffice (its own user profile, so runs never collide) and to
PNG pages through pdftoppm at 100 dpi; the pages are compared with Pillow.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from fanwen.exports.docx import build_docx, docx_mark, docx_visible_text
from fanwen.exports.tests.buyer import demo_purchase
from fanwen.protection.mark import ALPHABET, find_marks, strip_marks

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
PDFTOPPM = shutil.which("pdftoppm")
ARTIFACTS = Path(__file__).resolve().parents[4] / "test-artifacts"

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not (SOFFICE and PDFTOPPM),
        reason="LibreOffice (soffice) or poppler-utils (pdftoppm) is not installed: "
        "make system-deps installs libreoffice-writer-nogui and poppler-utils as root",
    ),
]


def render(path: Path, work: Path) -> list[Image.Image]:
    """The pages of `path` as LibreOffice prints them to PDF, at 100 dpi."""
    out = work / f"{path.stem}-out"
    profile = work / f"{path.stem}-profile"
    command = [SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless"]
    if path.suffix == ".txt":
        # Opened in Writer as a UTF-8 text file, as a buyer's editor would.
        command.append("--infilter=Text (encoded):UTF8,LF,,,")
    command += ["--convert-to", "pdf", "--outdir", str(out), str(path)]
    subprocess.run(command, check=True, capture_output=True, timeout=180)
    pdf = out / f"{path.stem}.pdf"
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
