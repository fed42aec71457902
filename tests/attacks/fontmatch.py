"""Decoders a scraper would point at a protection font: match its glyphs against the public
base font (Noto Sans SC, which anyone can download).

Three per-glyph matchers, each giving a map code point -> character:
  outline_hash   the glyph's outline, put on the base font's grid, hashed exactly
  point_set      the glyph's points normalised to its box, a 12x12 histogram, nearest
                 neighbour, then the best of the closest five by chamfer distance
  raster         the glyph rendered 32x32 in its em box, nearest neighbour by cosine
Each is given every chance: a glyph's guesses are pooled per character cell (a glyph with an
advance opens a cell, zero-width ones join it) and the cell takes the most common guess, so
a font that draws a character in several glyphs is read by its best-matched part.

And one that is OCR with a known font, reported but not a goal: render_and_match shapes each
protected paragraph with the page's font as a browser does (HarfBuzz: GSUB, GPOS marks),
cuts the ink into character cells at the advancing glyphs, and matches each cell by raster.

`recovered_share` scores a decoded text against the real one by aligned characters
(difflib), so a decoder that emits extra or missing characters is judged fairly.
"""

from __future__ import annotations

import difflib
import hashlib
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from fontTools.pens.freetypePen import FreeTypePen
from fontTools.pens.recordingPen import RecordingPen
from fontTools.pens.transformPen import TransformPen
from fontTools.ttLib import TTFont
from pylopdf_fonts_zh_cn import sans_path

SIZE = 32
HIST = 12


def gb2312_level1() -> str:
    """The 3,755 most common simplified characters (GB 2312 level 1), the usual dictionary."""
    chars = []
    for high in range(0xB0, 0xD8):
        for low in range(0xA1, 0xFF):
            try:
                chars.append(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return "".join(chars)


@dataclass
class Glyph:
    outline: list  # pen operations on a 1000-unit em, shifted into the em box
    advance: float


def _outline(glyph_set, name: str, scale: float) -> list:
    recording = RecordingPen()
    glyph_set[name].draw(TransformPen(recording, (scale, 0, 0, scale, 0, 0)))
    return recording.value


def font_glyphs(font: TTFont) -> dict[int, Glyph]:
    """Every mapped code point of `font` with its outline on a 1000-unit em."""
    scale = 1000 / font["head"].unitsPerEm
    glyph_set = font.getGlyphSet()
    out = {}
    for code, name in font.getBestCmap().items():
        advance = font["hmtx"][name][0] * scale
        out[code] = Glyph(_outline(glyph_set, name, scale), advance)
    return out


def _moved(outline: list, dx: float, dy: float) -> list:
    return [(op, tuple((x + dx, y + dy) for x, y in args)) for op, args in outline]


def _points(outline: list) -> np.ndarray:
    pts = [p for _op, args in outline for p in args]
    return np.array(pts, dtype=float) if pts else np.zeros((0, 2))


def _hash(outline: list) -> str:
    rounded = [(op, tuple((round(x), round(y)) for x, y in args)) for op, args in outline]
    return hashlib.sha1(repr(rounded).encode()).hexdigest()


def _histogram(points: np.ndarray) -> np.ndarray:
    if len(points) == 0:
        return np.zeros(HIST * HIST)
    low, high = points.min(axis=0), points.max(axis=0)
    span = max(float((high - low).max()), 1.0)
    cells = np.clip(((points - low) / span * HIST).astype(int), 0, HIST - 1)
    grid = np.zeros((HIST, HIST))
    np.add.at(grid, (cells[:, 0], cells[:, 1]), 1)
    return grid.ravel() / len(points)


def _normalised(points: np.ndarray) -> np.ndarray:
    low, high = points.min(axis=0), points.max(axis=0)
    return (points - low) / max(float((high - low).max()), 1.0)


def _chamfer(a: np.ndarray, b: np.ndarray) -> float:
    distances = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2))
    return float(distances.min(axis=1).mean() + distances.min(axis=0).mean())


def raster(outline: list) -> np.ndarray:
    """The outline in the em box (x 0..1000, y -120..880) as SIZE x SIZE coverage."""
    pen = FreeTypePen(None)
    for op, args in outline:
        getattr(pen, op)(*args)
    image = pen.array(
        width=SIZE, height=SIZE, transform=(SIZE / 1000, 0, 0, SIZE / 1000, 0, 120 * SIZE / 1000)
    )
    return np.asarray(image, dtype=np.float32)


class Reference:
    """What the attacker prepares once from the public font: per candidate character its
    outline hash, point histogram and raster."""

    def __init__(self, candidates: Iterable[str]) -> None:
        base = TTFont(str(sans_path()))
        cmap = base.getBestCmap()
        glyph_set = base.getGlyphSet()
        scale = 1000 / base["head"].unitsPerEm
        self.chars: list[str] = []
        self.hashes: dict[str, str] = {}
        outlines = []
        for char in sorted(set(candidates)):
            if ord(char) not in cmap or char.isspace():
                continue
            outline = _outline(glyph_set, cmap[ord(char)], scale)
            if not outline:
                continue
            self.chars.append(char)
            outlines.append(outline)
            self.hashes.setdefault(_hash(outline), char)
        self.outlines = outlines
        self.centred: np.ndarray | None = None  # built on first use
        self.points = [_normalised(_points(o)) for o in outlines]
        self.histograms = np.stack([_histogram(_points(o)) for o in outlines])
        rasters = np.stack([raster(o).ravel() for o in outlines])
        self.rasters = rasters / (np.linalg.norm(rasters, axis=1, keepdims=True) + 1e-9)

    def nearest_raster(self, images: np.ndarray) -> list[str]:
        images = images / (np.linalg.norm(images, axis=1, keepdims=True) + 1e-9)
        return [self.chars[i] for i in (images @ self.rasters.T).argmax(axis=1)]


def outline_hash(font: TTFont, ref: Reference) -> dict[str, str]:
    found = {}
    for code, glyph in font_glyphs(font).items():
        char = ref.hashes.get(_hash(glyph.outline)) if glyph.outline else None
        found[chr(code)] = char or ""
    return found


def point_set(font: TTFont, ref: Reference) -> dict[str, str]:
    found = {}
    for code, glyph in font_glyphs(font).items():
        points = _points(glyph.outline)
        if len(points) == 0:
            found[chr(code)] = ""
            continue
        distances = ((ref.histograms - _histogram(points)) ** 2).sum(axis=1)
        closest = np.argsort(distances)[:5]
        mine = _normalised(points)
        best = min(closest, key=lambda i: _chamfer(mine, ref.points[i]))
        found[chr(code)] = ref.chars[best]
    return found


def raster_match(font: TTFont, ref: Reference) -> dict[str, str]:
    glyphs = {code: g for code, g in font_glyphs(font).items() if g.outline}
    codes = list(glyphs)
    if not codes:
        return {}
    images = np.stack([raster(glyphs[c].outline).ravel() for c in codes])
    chars = ref.nearest_raster(images)
    found = {chr(code): "" for code in font_glyphs(font)}
    found.update({chr(code): char for code, char in zip(codes, chars, strict=True)})
    return found


def _centred(outline: list) -> list:
    """The outline moved so its box is centred in the em box (translation no longer counts)."""
    points = _points(outline)
    if len(points) == 0:
        return outline
    low, high = points.min(axis=0), points.max(axis=0)
    dx, dy = 500 - (low[0] + high[0]) / 2, 380 - (low[1] + high[1]) / 2
    return _moved(outline, dx, dy)


def raster_centred(font: TTFont, ref: Reference) -> dict[str, str]:
    """The raster matcher after centring every glyph and every candidate: a part moved
    anywhere is compared by its shape alone."""
    if ref.centred is None:
        rasters = np.stack([raster(_centred(o)).ravel() for o in ref.outlines])
        ref.centred = rasters / (np.linalg.norm(rasters, axis=1, keepdims=True) + 1e-9)
    glyphs = {code: g for code, g in font_glyphs(font).items() if g.outline}
    found = {chr(code): "" for code in font_glyphs(font)}
    if not glyphs:
        return found
    images = np.stack([raster(_centred(g.outline)).ravel() for g in glyphs.values()])
    images = images / (np.linalg.norm(images, axis=1, keepdims=True) + 1e-9)
    best = (images @ ref.centred.T).argmax(axis=1)
    found.update({chr(code): ref.chars[i] for code, i in zip(glyphs, best, strict=True)})
    return found


MATCHERS = {
    "outline_hash": outline_hash,
    "point_set": point_set,
    "raster": raster_match,
    "raster_centred": raster_centred,
}


def advances(font: TTFont) -> dict[int, float]:
    """Code point -> advance of its glyph."""
    return {code: font["hmtx"][name][0] for code, name in font.getBestCmap().items()}


def decode(text: str, mapping: dict[str, str], widths: dict[int, float]) -> str:
    """The page text read through a decoded map, one character per cell (the most common
    guess of its glyphs, `widths` telling which glyphs advance); characters the font does not
    map stay as they are."""
    cells: list[list[str]] = []
    for char in text:
        width = widths.get(ord(char))
        if width is None:
            cells.append([char])
        elif width > 0 or not cells:
            cells.append([mapping.get(char, "")])
        else:
            cells[-1].append(mapping.get(char, ""))
    out = []
    for votes in cells:
        counted = Counter(v for v in votes if v)
        out.append(counted.most_common(1)[0][0] if counted else "")
    return "".join(out)


def render_and_match(font: TTFont, texts: list[str], ref: Reference) -> list[str]:
    """Each text shaped with `font` by HarfBuzz, as a browser lays it out, and every cell
    (an advancing glyph and the zero-width ones placed after it) matched by raster: OCR with
    the known font."""
    import uharfbuzz as hb

    out = io.BytesIO()
    font.save(out)
    hb_font = hb.Font(hb.Face(out.getvalue()))
    scale = 1000 / font["head"].unitsPerEm
    glyph_set = font.getGlyphSet()
    order = font.getGlyphOrder()
    cells: list[list] = []
    bounds = []
    for text in texts:
        start = len(cells)
        buffer = hb.Buffer()
        buffer.add_str(text)
        buffer.guess_segment_properties()
        hb.shape(hb_font, buffer, {})
        pen_x = cell_x = 0
        for info, pos in zip(buffer.glyph_infos, buffer.glyph_positions, strict=True):
            outline = _outline(glyph_set, order[info.codepoint], scale)
            if pos.x_advance > 0 or not cells[start:]:
                cells.append([])
                cell_x = pen_x
            dx = (pen_x + pos.x_offset - cell_x) * scale
            cells[-1].extend(_moved(outline, dx, pos.y_offset * scale))
            pen_x += pos.x_advance
        bounds.append((start, len(cells)))
    inked = [i for i, cell in enumerate(cells) if cell]
    chars = ref.nearest_raster(np.stack([raster(cells[i]).ravel() for i in inked])) if inked else []
    by_cell = dict(zip(inked, chars, strict=True))
    return ["".join(by_cell.get(i, "") for i in range(a, b)) for a, b in bounds]


def recovered_share(decoded: str, real: str) -> tuple[int, int]:
    """(characters of `real` matched in order by `decoded`, characters of `real`); blanks
    are not counted."""
    real = "".join(real.split())
    decoded = "".join(decoded.split())
    matcher = difflib.SequenceMatcher(None, decoded, real, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()), len(real)


def attack(font: TTFont, paragraphs: list[str], protected: list[str], ref: Reference) -> dict:
    """Attack name -> (characters recovered, characters) from `protected`, the page text of
    `paragraphs`, for every per-glyph matcher and render_and_match."""
    real = "".join(paragraphs)
    widths = advances(font)
    found = {}
    for name, matcher in MATCHERS.items():
        mapping = matcher(font, ref)
        decoded = "".join(decode(text, mapping, widths) for text in protected)
        found[name] = recovered_share(decoded, real)
    found["render_and_match"] = recovered_share(
        "".join(render_and_match(font, protected, ref)), real
    )
    return found


def load_font(data: bytes) -> TTFont:
    font = TTFont(io.BytesIO(data))
    font.flavor = None
    return font
