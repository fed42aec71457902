"""The font protection level: rebuilt, remapped fonts that draw exactly what the clean font draws."""

from __future__ import annotations

import io
import os
import threading
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from fontTools.pens.recordingPen import RecordingPen
from fontTools.ttLib import TTFont

from fanwen.library.demo.loader import demo_files
from fanwen.library.importer import parse_file
from fanwen.library.models import Article, Piece
from fanwen.library.tests.factories import make_article, make_category
from fanwen.protection import fonts
from fanwen.protection.jobs import build_fonts_job

LIMIT_BYTES = 220 * 1024


@pytest.fixture(autouse=True)
def font_root(settings, tmp_path) -> Path:
    settings.FANWEN_FONT_DIR = str(tmp_path / "fonts")
    settings.FANWEN_PROTECTION = "font"
    yield tmp_path / "fonts"
    fonts.wait_for_builds()


@pytest.fixture
def category(db):
    return make_category("工作总结", "zongjie", position=1)


def article_from_demo(category, paths: list[Path], title: str = "长篇测试范文") -> Article:
    """An article whose pieces are the pieces of real demo files, as the importer parses them."""
    article = Article.objects.create(
        category=category, title=title, status=Article.Status.PUBLISHED
    )
    article.publish()
    article.save()
    position = 0
    for path in paths:
        for parsed in parse_file(path).pieces:
            position += 1
            Piece.objects.create(
                article=article, position=position, title=parsed.title, blocks=parsed.blocks
            )
    return article


def demo_paths_with_at_least(distinct: int) -> list[Path]:
    """The first demo files (in their stable order) whose paragraphs have `distinct` chars."""
    chars: set[str] = set()
    chosen = []
    for _slug, path in demo_files():
        chosen.append(path)
        for piece in parse_file(path).pieces:
            chars.update("".join(b["text"] for b in piece.blocks if b["kind"] == "p"))
        if len(chars) >= distinct:
            return chosen
    raise AssertionError("the demo files have fewer distinct characters than asked")


def five_piece_demo() -> Path:
    return next(p for _s, p in demo_files() if len(parse_file(p).pieces) == 5)


def file_of(root: Path, url: str) -> Path:
    path = fonts.font_path(url.rsplit("/", 1)[1].removesuffix(".woff2"))
    assert path is not None and path.is_relative_to(root)
    return path


def load(root: Path, url: str) -> TTFont:
    return TTFont(io.BytesIO(file_of(root, url).read_bytes()))


def outline(glyph_set, glyph_name: str) -> list:
    """The pen operations a glyph draws (what a rasteriser gets), hints aside.

    Straight lines through collinear points count as one line: the charstring encoder merges
    them (the base font has a few such redundant points), the shape is the same.
    """
    pen = RecordingPen()
    glyph_set[glyph_name].draw(pen)
    merged: list = []
    for op, args in pen.value:
        if op == "lineTo" and len(merged) >= 2 and merged[-1][0] == "lineTo":
            (x0, y0), (x1, y1), (x2, y2) = merged[-2][1][-1], merged[-1][1][0], args[0]
            cross = (x1 - x0) * (y2 - y1) - (y1 - y0) * (x2 - x1)
            same_way = (x1 - x0) * (x2 - x1) + (y1 - y0) * (y2 - y1) >= 0
            if cross == 0 and same_way:
                merged[-1] = (op, args)
                continue
        merged.append((op, args))
    return merged


def test_protected_chars_are_the_body_paragraphs_only(category):
    article = make_article(category, pieces=2, intro="导语里的字")
    chars = fonts.protected_chars(article)
    assert "开" in chars and "台" in chars
    # Titles and headings (一、主要做法 …) are not protected: 做/法 appear only there.
    assert "法" not in chars and "导" not in chars


def article_of_length(category, length: int) -> Article:
    """An article whose body paragraphs hold about `length` characters of real demo text."""
    paragraphs: list[str] = []
    for _slug, path in demo_files():
        for piece in parse_file(path).pieces:
            for block in piece.blocks:
                if block["kind"] == "p" and sum(map(len, paragraphs)) < length:
                    paragraphs.append(block["text"])
    article = Article.objects.create(
        category=category, title="一千五百字范文", status=Article.Status.PUBLISHED
    )
    article.publish()
    article.save()
    blocks = [{"kind": "p", "text": text} for text in paragraphs]
    Piece.objects.create(article=article, position=1, title="", blocks=blocks)
    return article


def shaped(data: bytes, text: str) -> tuple[list[tuple[int, int, list]], int]:
    """What HarfBuzz (the shaper of Chromium) draws for `text`: each inked glyph's position
    and outline, and the width of the line."""
    import uharfbuzz as hb

    tt = TTFont(io.BytesIO(data))
    tt.flavor = None
    out = io.BytesIO()
    tt.save(out)
    buffer = hb.Buffer()
    buffer.add_str(text)
    buffer.guess_segment_properties()
    hb.shape(hb.Font(hb.Face(out.getvalue())), buffer, {})
    glyph_set, order = tt.getGlyphSet(), tt.getGlyphOrder()
    drawn, pen_x = [], 0
    for info, pos in zip(buffer.glyph_infos, buffer.glyph_positions, strict=True):
        ink = outline(glyph_set, order[info.codepoint])
        if ink:
            drawn.append((pen_x + pos.x_offset, pos.y_offset, ink))
        pen_x += pos.x_advance
    return drawn, pen_x


def as_drawn(shape: tuple[list[tuple[int, int, list]], int]) -> tuple[list[str], int]:
    glyphs, width = shape
    return sorted(f"{x},{y}:{ink}" for x, y, ink in glyphs), width


def test_a_1500_character_article_font_stays_within_220_kb(category, font_root):
    article = article_of_length(category, 1500)
    font = fonts.build_font(article)
    size = file_of(font_root, font.url).stat().st_size
    clean = file_of(font_root, font.clean_url).stat().st_size
    print(f"\n{len(fonts.protected_chars(article))} distinct chars: WOFF2 {size} / clean {clean}")
    assert size <= LIMIT_BYTES and clean <= LIMIT_BYTES


def test_each_character_is_an_empty_base_and_scattered_marks_in_the_pua(category, font_root):
    article = article_from_demo(category, [five_piece_demo()])
    chars = fonts.protected_chars(article)
    font = fonts.build_font(article)
    base = fonts.base_font()
    obfuscated = load(font_root, font.url)
    clean = load(font_root, font.clean_url)
    assert "CFF " in obfuscated and "glyf" not in obfuscated

    drawable = {c for c in chars if ord(c) in base.cmap}
    assert set(font.mapping) == {c for c in drawable if not c.isspace()}
    codes = [code for encoded in font.mapping.values() for code in encoded]
    assert all(0xE000 <= ord(code) <= 0xF8FF for code in codes)
    marks = [code for encoded in font.mapping.values() for code in encoded[1:]]
    assert len(set(marks)) == len(marks), "a mark belongs to one character"
    inked = [c for c in font.mapping if c not in "　"]
    assert all(len(font.mapping[c]) >= 3 for c in inked), "every character is 2+ marks"

    obf_cmap, clean_cmap = obfuscated.getBestCmap(), clean.getBestCmap()
    blanks = {ord(c) for c in drawable if c.isspace()}
    assert not (set(obf_cmap) - blanks) & {ord(c) for c in drawable}, "no real code point"
    assert set(clean_cmap) == {ord(c) for c in drawable}
    glyph_set = obfuscated.getGlyphSet()
    for real, encoded in font.mapping.items():
        base_glyph, mark_glyphs = obf_cmap[ord(encoded[0])], [obf_cmap[ord(c)] for c in encoded[1:]]
        # The base is empty with the character's advance; marks carry ink and no advance.
        assert outline(glyph_set, base_glyph) == []
        advance = base.font["hmtx"][base.cmap[ord(real)]][0]
        assert abs(obfuscated["hmtx"][base_glyph][0] * 2 - advance) <= 1  # on a 500-unit grid
        assert all(obfuscated["hmtx"][m][0] == 0 and outline(glyph_set, m) for m in mark_glyphs)

    # No glyph is a base glyph, and no mark lies where its ink shows.
    base_outlines = {str(outline(base.glyph_set, base.cmap[ord(c)])) for c in drawable}
    for name in obfuscated.getGlyphOrder()[1:]:
        assert str(outline(glyph_set, name)) not in base_outlines
        assert not name.lower().startswith(("cid", "uni", "glyph")), name
    # Renamed: nothing in the name table speaks of the base font.
    names = [record.toUnicode() for record in obfuscated["name"].names]
    assert not any("Noto" in text or "Source Han" in text for text in names)
    assert obfuscated["name"].getDebugName(1) == font.family


def test_the_shaper_draws_the_protected_text_exactly_as_the_clean_text(category, font_root):
    article = article_from_demo(category, [five_piece_demo()])
    font = fonts.build_font(article)
    obf_bytes = file_of(font_root, font.url).read_bytes()
    clean_bytes = file_of(font_root, font.clean_url).read_bytes()
    paragraphs = [b["text"] for p in article.pieces.all() for b in p.blocks if b["kind"] == "p"]
    for text in paragraphs[:12]:
        protected = as_drawn(shaped(obf_bytes, font.obfuscate(text)))
        assert protected == as_drawn(shaped(clean_bytes, text))


def test_a_composed_character_looks_like_the_base_glyph(category, font_root):
    from tests.attacks.fontmatch import raster

    article = article_from_demo(category, [five_piece_demo()])
    font = fonts.build_font(article)
    data = file_of(font_root, font.clean_url).read_bytes()
    base = fonts.base_font()
    # Ideographs: at 32 pixels a thin mark such as _ is a line a pixel high, too thin to score.
    for char in [c for c in sorted(font.mapping) if "\u4e00" <= c <= "\u9fff"][:300]:
        glyphs, _width = shaped(data, char)
        # Each mark where the shaper put it, on the base font's 1000-unit grid.
        placed = [
            (op, tuple((2 * (px + x), 2 * (py + y)) for px, py in args))
            for x, y, ink in glyphs
            for op, args in ink
        ]
        mine = raster(placed).ravel()
        theirs = raster(list(fonts.glyph_outline(base.glyph_set[base.cmap[ord(char)]]))).ravel()
        # Coverage alike (cosine): the 2% scale and shear of the build moves a stroke's edge
        # by a fraction of a pixel, never the stroke.
        likeness = mine @ theirs / (np.linalg.norm(mine) * np.linalg.norm(theirs))
        assert likeness >= 0.9, (char, likeness)


def test_obfuscate_swaps_mapped_chars_and_keeps_the_rest(category):
    article = make_article(category, pieces=1)
    font = fonts.build_font(article)
    text = "成立工作小组，明确分工 😀"
    hidden = font.obfuscate(text)
    assert len(hidden) >= 3 * 11  # a base and two or more marks a character, decoys between
    assert not set(hidden) & set("成立工作小组，明确分")
    # Blanks and chars the base font lacks stay as they are, in order; a decoy may sit
    # between them (the seed depends on the font's family, new each build).
    assert [c for c in hidden if unicodedata.category(c) != "Co"] == [" ", "😀"]
    assert hidden.endswith("😀")
    assert all(unicodedata.category(c) == "Co" for c in hidden[: hidden.index(" ")])
    assert font.obfuscate(text) == hidden  # cached pages stay the same


def test_same_key_builds_the_same_font_and_map_in_any_process(category, font_root, settings):
    article = make_article(category, pieces=2)
    first = fonts.build_font(article, epoch=100)
    obf_bytes = file_of(font_root, first.url).read_bytes()
    file_of(font_root, first.clean_url).unlink()
    fonts.forget_cache()
    second = fonts.build_font(article, epoch=100)
    assert second == first
    assert second.mapping == first.mapping
    assert file_of(font_root, second.url).read_bytes() == obf_bytes
    assert file_of(font_root, second.clean_url).exists()

    # Another secret key is another map: the map cannot be computed from the public id.
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789abcdef"
    assert fonts.build_font(article, epoch=100).mapping != first.mapping


def test_every_epoch_and_version_is_a_new_map_order_and_url(category, font_root):
    article = make_article(category, pieces=3)
    now, later = fonts.build_font(article, epoch=7), fonts.build_font(article, epoch=8)
    assert now.url != later.url and now.family != later.family
    assert now.mapping != later.mapping and set(now.mapping) == set(later.mapping)
    # The clean font shares its epoch's glyphs, so it rotates too.
    assert now.clean_url != later.clean_url

    def outlines(font: fonts.ArticleFont) -> set[str]:
        tt = load(font_root, font.url)
        glyph_set = tt.getGlyphSet()
        return {str(outline(glyph_set, name)) for name in tt.getGlyphOrder()[1:]}

    # Every epoch draws its parts anew: a map decoded once is no help with the next one.
    inked = outlines(now) - {"[]"}
    assert len(inked & outlines(later)) <= len(inked) // 20

    article.content_version += 1
    article.save()
    newer = fonts.build_font(article, epoch=8)
    assert newer.url != later.url and newer.clean_url != later.clean_url


def test_font_for_reads_what_another_process_built(category, font_root):
    article = make_article(category, pieces=1)
    built = fonts.build_font(article)
    fonts.forget_cache()
    assert fonts.font_for(article, schedule=False) == built


def test_font_for_never_builds_in_the_request_and_starts_one_build(category, monkeypatch):
    article = make_article(category, pieces=2)
    calls: list[int] = []
    gate = threading.Event()
    real_build = fonts._build

    def slow_build(key, chars, **kwargs):
        calls.append(key.article_id)
        gate.wait(10)
        return real_build(key, chars, **kwargs)

    monkeypatch.setattr(fonts, "_build", slow_build)
    assert fonts.font_for(article) is None
    for _ in range(5):
        assert fonts.font_for(article) is None
    assert fonts.schedule_build(article) is False  # already under way
    gate.set()
    fonts.wait_for_builds(timeout=60)
    assert calls == [article.pk]
    font = fonts.font_for(article)
    assert font is not None and font.mapping
    assert fonts.font_for(article, schedule=False) is font  # from the process cache


def test_editing_a_piece_without_a_new_version_gets_a_new_font(category):
    article = make_article(category, pieces=1)
    before = fonts.build_font(article)
    piece = article.pieces.get()
    piece.blocks = [*piece.blocks, {"kind": "p", "text": "新增一段鑫淼焱的文字。"}]
    piece.save()
    article = Article.objects.get(pk=article.pk)
    assert fonts.font_for(article, schedule=False) is None
    after = fonts.build_font(article)
    assert "鑫" in after.mapping and after.url != before.url


def test_publishing_schedules_a_build_after_commit(category, django_capture_on_commit_callbacks):
    article = make_article(category, pieces=2, status=Article.Status.DRAFT)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        article.title = "草稿修改"
        article.save()
    assert callbacks == []  # drafts get no font
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        article.publish()
        article.save()
    assert len(callbacks) == 1
    fonts.wait_for_builds(timeout=60)
    assert fonts.font_for(article, schedule=False) is not None


def test_font_view_serves_built_fonts_and_404s_anything_else(client, category, font_root):
    article = make_article(category, pieces=1)
    font = fonts.build_font(article)
    for url in (font.url, font.clean_url):
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "font/woff2"
        assert response["Cache-Control"] == "public, max-age=31536000, immutable"
        assert b"".join(response.streaming_content) == file_of(font_root, url).read_bytes()
    epoch, token = font.url.rsplit("/", 1)[1].removesuffix(".woff2").split("-")
    for url in (
        f"/f/{epoch}-{'0' * 24}.woff2",  # well-formed, never built
        f"/f/{int(epoch) + 1}-{token}.woff2",  # the token of another epoch
        f"/f/c-{'f' * 24}.woff2",
        f"/f/{epoch}-{token[:-1]}.woff2",
        f"/f/{epoch}-{token}.json",
        "/f/..%2Fsecret_key.woff2",
        "/f/x-" + token + ".woff2",
    ):
        assert client.get(url).status_code == 404, url
    # The maps sit in the font folder but no URL reaches them.
    assert any((font_root / "maps").rglob("*.json"))


def test_build_missing_fonts_builds_once_and_prunes_old_epochs(category, font_root):
    published = make_article(category, pieces=1)
    make_article(category, pieces=1, status=Article.Status.DRAFT)
    epoch = fonts.current_epoch()
    for old in (epoch - 5, epoch - 2):
        (font_root / "obf" / str(old)).mkdir(parents=True)
        (font_root / "maps" / str(old)).mkdir(parents=True)
    stale_clean = font_root / "clean" / str(epoch - 5) / f"{'a' * 24}.woff2"
    stale_clean.parent.mkdir(parents=True)
    stale_clean.write_bytes(b"old")

    assert fonts.build_missing_fonts() == 1
    assert fonts.build_missing_fonts() == 0
    assert fonts.font_for(published, schedule=False) is not None
    assert not (font_root / "obf" / str(epoch - 5)).exists()
    assert not (font_root / "maps" / str(epoch - 5)).exists()
    assert (font_root / "obf" / str(epoch - 2)).exists()
    assert not stale_clean.exists()


def test_command_and_worker_job(category, font_root, monkeypatch, capsys):
    article = make_article(category, pieces=1)
    call_command("build_fonts", article=article.pk, epoch=42)
    assert list((font_root / "maps" / "42").glob("*.json"))
    call_command("build_fonts", epoch=43)
    assert "1 built" in capsys.readouterr().out

    monkeypatch.setattr(fonts, "epoch_progress", lambda now=None: 0.5)
    assert build_fonts_job() == {"current": 1}
    # This epoch complete: the next one's fonts are built ahead, early in the epoch too.
    assert build_fonts_job() == {"current": 0, "next": 1}
    assert list((font_root / "maps" / str(fonts.current_epoch() + 1)).glob("*.json"))
    assert build_fonts_job() == {"current": 0, "next": 0}


def test_a_first_reader_waits_for_the_protected_font_only_and_the_clean_one_follows(
    category, font_root, monkeypatch
):
    article = make_article(category, pieces=2)
    gate = threading.Event()
    real = fonts._build_clean_if_missing
    monkeypatch.setattr(fonts, "_build_clean_if_missing", lambda *a: (gate.wait(10), real(*a)))
    font = fonts.font_now(article)
    assert file_of(font_root, font.url).exists()
    assert not file_of(font_root, font.clean_url).exists()
    gate.set()
    fonts.wait_for_builds()
    assert file_of(font_root, font.clean_url).exists()
    # A buyer asking before the background build is done gets it built on the spot.
    file_of(font_root, font.clean_url).unlink()
    assert fonts.clean_font_for(article) == font
    assert file_of(font_root, font.clean_url).exists()


def test_font_face_rule(category):
    font = fonts.build_font(make_article(category, pieces=1))
    rule = fonts.font_face_css(font, clean=False)
    assert f'font-family:"{font.family}"' in rule and f'url("{font.url}")' in rule
    assert 'format("woff2")' in rule and "font-display:block" in rule
    assert font.clean_url in fonts.font_face_css(font, clean=True)


def test_bench_build_reports_time_and_size(category):
    article = article_from_demo(category, [five_piece_demo()], title="五篇测试范文")
    figures = fonts.bench_build(article)
    print(f"\nbench {figures}")
    assert figures["distinct_chars"] >= 300
    assert 0 < figures["obfuscated_bytes"] <= LIMIT_BYTES
    assert figures["build_s"] > 0


# --- in the browser ---------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[4] / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]


def paragraphs_page(font: fonts.ArticleFont, paragraphs: list[str], *, clean: bool) -> str:
    from django.utils.html import escape

    family = font.clean_family if clean else font.family
    body = "".join(f"<p>{escape(text)}</p>" for text in paragraphs)
    return (
        "<!doctype html><html lang=zh-CN><head><meta charset=utf-8><style>"
        + fonts.font_face_css(font, clean=clean)
        + "body{margin:0;background:#fff;color:#222}"
        + f'.piece{{width:372px;padding:12px}}.piece p{{font:17px/1.8 "{family}",sans-serif;'
        + f"margin:0 0 10px;text-indent:2em;{fonts.PARAGRAPH_STYLE}}}"
        + f"</style></head><body><div class=piece>{body}</div></body></html>"
    )


@pytest.mark.browser
def test_obfuscated_paragraphs_look_exactly_like_the_clean_ones(live_server, category):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make system-deps)")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from PIL import Image, ImageChops
    from playwright.sync_api import sync_playwright

    article = article_from_demo(category, [five_piece_demo()], title="五篇测试范文")
    font = fonts.build_font(article)
    paragraphs = [
        block["text"]
        for piece in article.pieces.all()[:2]
        for block in piece.blocks
        if block["kind"] == "p"
    ]
    assert len(paragraphs) >= 6
    ARTIFACTS.mkdir(exist_ok=True)
    shots = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for name, clean in (("clean", True), ("obfuscated", False)):
                page = browser.new_page(viewport={"width": 420, "height": 800}, locale="zh-CN")
                # Same origin as the font view, so the fonts load as they do on the site.
                page.goto(live_server.url + "/robots.txt")
                shown = paragraphs if clean else [font.obfuscate(t) for t in paragraphs]
                page.set_content(paragraphs_page(font, shown, clean=clean))
                family = font.clean_family if clean else font.family
                loaded = page.evaluate(
                    'f => document.fonts.load(`17px "${f}"`).then(fs => fs.length)', family
                )
                assert loaded == 1, f"the {name} font did not load"
                page.evaluate("document.fonts.ready")
                text = page.evaluate("document.querySelector('.piece').textContent")
                if not clean:
                    assert not any(original in text for original in paragraphs)
                    assert not set(text) & set(font.mapping)
                else:
                    assert all(original in text for original in paragraphs)
                path = ARTIFACTS / f"font-{name}.png"
                page.screenshot(path=str(path), full_page=True)
                shots[name] = Image.open(path).convert("RGB")
                page.close()
        finally:
            browser.close()

    clean_shot, obfuscated_shot = shots["clean"], shots["obfuscated"]
    assert clean_shot.size == obfuscated_shot.size
    diff = ImageChops.difference(clean_shot, obfuscated_shot).convert("L")
    differing = sum(diff.point(lambda v: 255 if v else 0).histogram()[255:])
    total = clean_shot.width * clean_shot.height
    # Ink on the page: the comparison would be empty if the text had not been drawn.
    inked = sum(clean_shot.convert("L").point(lambda v: 255 if v < 128 else 0).histogram()[255:])
    print(f"\n{differing} of {total} pixels differ ({differing / total:.4%}); {inked} dark pixels")
    assert inked > total * 0.02
    assert differing <= total * 0.001
