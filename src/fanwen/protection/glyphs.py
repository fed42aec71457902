"""How one character is drawn in a protection font: as marks, each a displaced part of it.

A per-glyph matcher (outline hash, normalised point set, rasterised nearest neighbour) looks
up each glyph of a font in the public base font. So no glyph here is a character, and no
glyph sits where its ink shows:

- the outline gets a small per-build affine change (scale and shear around its centre), so
  no contour has the base font's coordinates;
- it is split into parts: its components (an outline with its holes) shared out between
  them, or, for a glyph of one component, cut by a random line into two parts that overlap
  by a thin band (inside the band both parts cover a pixel fully: no seam shows);
- each part is moved by a random offset and becomes a zero-width mark; the font's GPOS
  `mark` feature attaches it to an empty base glyph with the character's advance at an
  anchor that undoes the offset. On screen the parts land together; in the font they lie
  scattered, so a glyph rendered on its own shows a fragment somewhere else.

Everything random comes from the caller's `random.Random`: one key, one drawing.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

import pathops
from fontTools.pens.recordingPen import RecordingPen
from fontTools.pens.t2CharStringPen import T2CharStringPen
from fontTools.pens.transformPen import TransformPen

Outline = tuple[tuple[str, tuple], ...]
Contour = list[tuple[str, tuple]]

# Half the width of the band where two cut parts overlap, in base font units (1000 per em):
# at a 16 px body size the band is about a pixel, so no pixel sees a seam.
OVERLAP = 36
SCALE_SPREAD = 0.02
SHEAR_SPREAD = 0.02
# Where a part may be moved from where it shows, in base font units: 16 directions, 3
# distances. Few distinct offsets let the font share its anchor records (smaller files); a
# matcher still does not know which of them a glyph has.
OFFSETS = [
    (distance * math.cos(k * math.pi / 8), distance * math.sin(k * math.pi / 8))
    for k in range(16)
    for distance in (300, 450, 600)
]
# A part holds at least this share of the character's ink, so none is the character.
PARTS = 3
# A component holding more of the ink than this is cut: the part holding it would be
# most of the character.
MAX_COMPONENT_SHARE = 0.5
PARTITION_TRIES = 12
CUT_TRIES = 6


@dataclass(frozen=True)
class Part:
    """One mark of a character: its charstring program (advance 0), bounds, and the anchor
    that puts it back (the base glyph's origin, in the part's own coordinates)."""

    program: list
    bounds: tuple[int, int, int, int]
    anchor: tuple[int, int]


def _affine(rng: random.Random, box: Sequence[float]) -> tuple:
    """A small random affine change around the centre of `box` (fontTools transform tuple)."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    sx = 1 + rng.uniform(-SCALE_SPREAD, SCALE_SPREAD)
    sy = 1 + rng.uniform(-SCALE_SPREAD, SCALE_SPREAD)
    shear = rng.uniform(-SHEAR_SPREAD, SHEAR_SPREAD)
    # x' = sx*x + shear*y + e, y' = sy*y + f, keeping the centre in place.
    return (sx, 0, shear, sy, cx - sx * cx - shear * cy, cy - sy * cy)


def _contours(outline: Outline | list, transform: Sequence[float]) -> list[Contour]:
    recording = RecordingPen()
    pen = TransformPen(recording, transform)
    for op, args in outline:
        getattr(pen, op)(*args)
    contours, current = [], []
    for op, args in recording.value:
        current.append((op, args))
        if op in ("closePath", "endPath"):
            contours.append(current)
            current = []
    return contours


def _skia(contours: list[Contour]) -> pathops.Path:
    path = pathops.Path()
    pen = path.getPen()
    for contour in contours:
        for op, args in contour:
            getattr(pen, op)(*args)
    return path


def _components(contours: list[Contour]) -> list[list[Contour]]:
    """Outlines with their holes: each contour goes with the innermost contour around it when
    it is a hole (an odd number of contours around it), else it starts a component."""
    paths = [_skia([c]) for c in contours]
    areas = [abs(p.area) for p in paths]

    def around(index: int) -> list[int]:
        point = contours[index][0][1][-1]
        return [
            other
            for other, path in enumerate(paths)
            if other != index and areas[other] > areas[index] and path.contains(point)
        ]

    outer_of: dict[int, int] = {}
    for index in range(len(contours)):
        enclosing = around(index)
        if len(enclosing) % 2 == 1:
            outer_of[index] = min(enclosing, key=lambda other: areas[other])
    groups: dict[int, list[Contour]] = {}
    for index, contour in enumerate(contours):
        groups.setdefault(outer_of.get(index, index), []).append(contour)
    return list(groups.values())


def _ink(group: list[Contour]) -> float:
    return abs(_skia(group).area)


def _half_plane(origin, angle: float, offset: float, reach: float) -> pathops.Path:
    """The side of the line through `origin` at `angle` its normal points to, widened by
    `offset` onto the other side: a big quad standing in for the half plane."""
    dx, dy = math.cos(angle), math.sin(angle)
    nx, ny = -dy, dx
    ox, oy = origin[0] - nx * offset, origin[1] - ny * offset
    corners = [
        (ox - dx * reach, oy - dy * reach),
        (ox + dx * reach, oy + dy * reach),
        (ox + dx * reach + nx * reach, oy + dy * reach + ny * reach),
        (ox - dx * reach + nx * reach, oy - dy * reach + ny * reach),
    ]
    path = pathops.Path()
    pen = path.getPen()
    pen.moveTo(corners[0])
    for corner in corners[1:]:
        pen.lineTo(corner)
    pen.closePath()
    return path


def _cut(group: list[Contour], rng: random.Random, band: float) -> list[list[Contour]]:
    """The component cut in two by the most balanced of CUT_TRIES random lines through its
    middle, the parts overlapping by a band 2*`band` wide."""
    path = _skia(group)
    box = path.bounds
    width, height = box[2] - box[0], box[3] - box[1]
    ink = abs(path.area)
    reach = 4 * (width + height + 1000)
    best: list[pathops.Path] = []
    best_share = -1.0
    for _ in range(CUT_TRIES):
        origin = (
            box[0] + width * rng.uniform(0.35, 0.65),
            box[1] + height * rng.uniform(0.35, 0.65),
        )
        angle = rng.uniform(0, math.pi)
        try:
            parts = [
                pathops.op(
                    path,
                    _half_plane(origin, angle + side, band, reach),
                    pathops.PathOp.INTERSECTION,
                )
                for side in (0, math.pi)
            ]
        except pathops.PathOpsError:
            # Skia gives up on a few degenerate intersections: try another line.
            continue
        share = min(abs(p.area) for p in parts) / ink if ink else 0.0
        if share > best_share:
            best, best_share = parts, share
    pieces = []
    for part in best:
        recording = RecordingPen()
        part.draw(recording)
        contours = _contours(recording.value, (1, 0, 0, 1, 0, 0))
        if contours:
            pieces.append(contours)
    return pieces if len(pieces) == 2 else [group]


def _share_out(groups: list[list[Contour]], count: int, rng: random.Random) -> list[list[Contour]]:
    """The components dealt into `count` parts, the most balanced of PARTITION_TRIES deals."""
    inks = [_ink(g) for g in groups]
    total = sum(inks) or 1.0
    best: list[list[int]] = []
    best_share = -1.0
    for _ in range(PARTITION_TRIES):
        order = list(range(len(groups)))
        rng.shuffle(order)
        # Every part gets one component first, the rest go anywhere.
        deal = [[i] for i in order[:count]] + [[] for _ in range(count - len(order[:count]))]
        for i in order[count:]:
            deal[rng.randrange(count)].append(i)
        share = min(sum(inks[i] for i in part) for part in deal) / total
        if share > best_share:
            best, best_share = deal, share
    return [[contour for i in part for contour in groups[i]] for part in best if part]


def _split(contours: list[Contour], rng: random.Random, band: float) -> list[list[Contour]]:
    """PARTS parts of the character: its components dealt out, after cutting the biggest one
    while there are too few components or one holds most of the ink."""
    groups = _components(contours)
    total = sum(_ink(g) for g in groups) or 1.0
    for _ in range(PARTS):
        biggest = max(groups, key=_ink)
        if len(groups) >= PARTS and _ink(biggest) / total <= MAX_COMPONENT_SHARE:
            break
        groups.remove(biggest)
        groups.extend(_cut(biggest, rng, band))
    return _share_out(groups, min(PARTS, len(groups)), rng)


def _program(
    contours: list[Contour], dx: float, dy: float
) -> tuple[list, tuple[int, int, int, int]]:
    pen = T2CharStringPen(0, None)
    xs, ys = [], []
    for contour in contours:
        for op, args in contour:
            # Whole units: a fraction costs a 5-byte fixed-point number in CFF.
            moved = tuple((round(x + dx), round(y + dy)) for x, y in args)
            getattr(pen, op)(*moved)
            xs.extend(x for x, _ in moved)
            ys.extend(y for _, y in moved)
    return pen.getCharString().program, (min(xs), min(ys), max(xs), max(ys))


def draw_parts(outline: Outline, rng: random.Random, *, scale: float = 1.0) -> list[Part]:
    """The marks that together draw `outline` scaled by `scale` around the base's origin;
    [] for a glyph without ink."""
    if not outline:
        return []
    probe = _skia(_contours(outline, (1, 0, 0, 1, 0, 0))).bounds
    transform = tuple(scale * value for value in _affine(rng, probe))
    parts = _split(_contours(outline, transform), rng, OVERLAP * scale)
    drawn = []
    for contours in parts:
        rng.shuffle(contours)
        offset = rng.choice(OFFSETS)
        dx, dy = round(offset[0] * scale), round(offset[1] * scale)
        program, bounds = _program(contours, dx, dy)
        drawn.append(Part(program, bounds, (dx, dy)))
    return drawn
