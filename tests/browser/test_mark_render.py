"""Copied (marked) text and the unmarked text look the same in Chromium, pixel for pixel.

Each is put into paragraphs styled by the site's article CSS, and typed into an editable
paragraph the way a paste inserts plain text, at a phone and a PC width.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from PIL import Image, ImageChops

from fanwen.exports.tests.buyer import demo_purchase
from fanwen.protection.mark import ALPHABET, find_marks, strip_marks
from tests.browser.chromium import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

WIDTHS = {"phone": {"width": 390, "height": 844}, "pc": {"width": 1280, "height": 900}}
PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{css}</style></head>
<body><main class="wrap"><article class="box doc"><section class="piece" id="paras"></section>
<section class="piece"><p id="pasted" contenteditable="true"></p></section></article></main>
</body></html>"""


@pytest.fixture
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make system-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def shoot(browser, viewport: dict, css: str, text: str) -> bytes:
    page = browser.new_page(viewport=viewport, locale="zh-CN")
    page.set_content(PAGE.format(css=css))
    page.evaluate(
        """text => {
            const paras = document.getElementById("paras");
            for (const line of text.split("\\n")) {
                const p = document.createElement("p");
                p.textContent = line;
                paras.appendChild(p);
            }
            const pasted = document.getElementById("pasted");
            pasted.focus();
            document.execCommand("insertText", false, text);
            pasted.blur();
            getSelection().removeAllRanges();
        }""",
        text,
    )
    page.evaluate("document.fonts.ready")
    # The pasted paragraph must hold the text as given, marks included.
    assert page.evaluate("document.getElementById('pasted').innerText.length") >= len(
        strip_marks(text)
    )
    shot = page.locator("article").screenshot()
    page.close()
    return shot


def differing_pixels(a: bytes, b: bytes) -> int:
    left, right = Image.open(io.BytesIO(a)).convert("RGB"), Image.open(io.BytesIO(b)).convert("RGB")
    if left.size != right.size:
        return left.size[0] * left.size[1]
    mask = ImageChops.difference(left, right).convert("L").point(lambda v: 255 if v else 0)
    return mask.histogram()[255]


@pytest.fixture
def texts() -> tuple[str, str, int]:
    """(copied, unmarked, order id), taken before Playwright's event loop starts: Django then
    gives database calls another connection, outside the test's transaction."""
    purchase = demo_purchase()
    return purchase.copied(), purchase.unmarked(), purchase.order.pk


@pytest.mark.parametrize("width", list(WIDTHS))
def test_copied_text_looks_exactly_like_the_unmarked_text(texts, chromium, width):
    copied, unmarked, order_id = texts
    assert strip_marks(copied) == unmarked and set(copied) & set(ALPHABET)
    assert find_marks(copied)[0][0] == order_id
    css = Path(finders.find("fanwen/css/site.css")).read_text(encoding="utf-8")
    marked_shot = shoot(chromium, WIDTHS[width], css, copied)
    plain_shot = shoot(chromium, WIDTHS[width], css, unmarked)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"mark-render-{width}.png").write_bytes(marked_shot)
    assert Image.open(io.BytesIO(plain_shot)).size[1] > 1000  # the whole article was laid out
    assert differing_pixels(marked_shot, plain_shot) == 0
