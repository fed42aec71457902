"""Per-article web fonts of the `font` protection level.

Body paragraphs go to readers without the right with every drawable character replaced by
Private Use Area code points: an empty base glyph of the character's advance (one of a few
dozen code points per advance), then two or three zero-width marks, each a displaced part of
the character that the font's GPOS `mark` anchors put back in place (see glyphs.py), with
empty decoys sprinkled between characters. No glyph is a character, none sits where its ink
shows, and every epoch draws the parts anew: matching glyphs against the public base font
decodes nothing; OCR of the rendered page still does.

Readers with the right get the real text with a *clean* font of the same epoch and the same
glyphs, whose GSUB expands each character into its base and marks, so both pages render
pixel for pixel alike.

Fonts are REBUILT with FontBuilder from Noto Sans SC outlines on a 500-unit grid: decomposed
CFF outlines (no subroutines, no hints), glyph names that only count a random glyph order,
a renamed family. Everything random comes from HMAC(SECRET_KEY, "article:version:epoch"),
so any process building the same key writes the same fonts and the same map.

Line breaking: PUA characters have no break opportunities between them, so both renderings
must use PARAGRAPH_STYLE (`line-break: anywhere`) for their lines to break at the same places
(a break never falls before a zero-width mark: it would leave the line no shorter).

Files live in the "fonts" storage (STORAGES; FANWEN_FONT_DIR or VAR_DIR/fonts by default, a
bucket shared by every node with FANWEN_STORAGE=s3):
    obf/<epoch>/<token>.woff2     served as /f/<epoch>-<token>.woff2
    clean/<epoch>/<token>.woff2   served as /f/c<epoch>-<token>.woff2 (its own secret token)
    maps/<epoch>/<token>.json     the map and names; never served

Nodes build apart from each other (a build is ~1 s; locks are per process), so the map is the
pointer: the protected font's token is derived from its bytes and the map, written after the
font, names it. Two builds of one key that differ (two code versions during a deploy) write two
fonts and a map for each; whichever map stays, it names its own font, and so does every page
rendered from either. A served name always stands for the same bytes, as `immutable` promises.
With a bucket, each node keeps read-through copies under VAR_DIR/font-copies: fonts and maps
never change under their names, and a page view then costs no request to the bucket.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import random
import shutil
import string
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from fontTools.fontBuilder import FontBuilder
from fontTools.misc.psCharStrings import T2CharString
from fontTools.misc.timeTools import timestampFromString
from fontTools.otlLib import builder as otl
from fontTools.pens.recordingPen import RecordingPen
from fontTools.ttLib import TTFont, newTable
from fontTools.ttLib.tables import otTables
from pylopdf_fonts_zh_cn import sans_path

from fanwen.lib import priority
from fanwen.lib import storage as files
from fanwen.protection import glyphs

PUA_FIRST, PUA_LAST = 0xE000, 0xF8FF
# Both renderings need this on their paragraphs: a run of PUA characters has no line-break
# opportunity, so lines must break anywhere for the two pages to wrap alike.
PARAGRAPH_STYLE = "line-break: anywhere;"
# Obfuscated fonts are kept this many epochs back (pages cached earlier still point at them).
KEEP_EPOCHS = 2
# Built fonts draw on a coarser grid than the base font's 1000 units: half the units halve
# most coordinate deltas, so more of them fit CFF's one-byte numbers (a unit is still 1/500 em,
# 0.03 px at the body size).
UNITS_PER_EM = 500
DEFAULT_WIDTH = UNITS_PER_EM
# CFF, not TrueType: FreeType (Chrome on Linux) auto-hints TrueType glyphs with zones it finds
# through the cmap, so a PUA font and a clean font with the same quadratic outlines render
# ~3% of pixels apart; CFF glyphs go through FreeType's CFF engine, which ignores the cmap.
# One Private dict without alignment zones for every glyph: nothing to snap, in both fonts
# alike; widths are coded against it.
_PRIVATE = {"defaultWidthX": DEFAULT_WIDTH, "nominalWidthX": 0}
TOKEN_CHARS = 24
NAME_PATTERN = r"c?\d{1,9}-[0-9a-f]{24}"
_SALT = "fanwen.protection.fonts"
# Fixed, so one key always gives the same bytes (and the file does not tell when it was built).
_HEAD_TIMESTAMP = timestampFromString("Mon Jan  1 00:00:00 2024")


@dataclass(frozen=True)
class ArticleFont:
    article_id: int
    version: int
    epoch: int
    family: str
    url: str
    clean_family: str
    clean_url: str
    # Real char -> the PUA code points of its parts (the advancing part first).
    mapping: dict[str, str] = field(repr=False, hash=False)
    decoys: str = field(default="", repr=False, hash=False)

    def obfuscate(self, text: str) -> str:
        """The text with every mapped character swapped for its parts' PUA code points, and
        empty zero-width decoys between some characters (the same text gives the same
        result, so cached pages stay the same)."""
        swapped = [self.mapping.get(char, char) for char in text]
        if not self.decoys or len(text) < 2:
            return "".join(swapped)
        seed = hashlib.blake2b(text.encode("utf-8"), digest_size=8, key=self.family.encode())
        rng = random.Random(seed.digest())
        out = []
        for index, piece in enumerate(swapped):
            out.append(piece)
            if index < len(swapped) - 1 and rng.randrange(DECOY_EVERY) == 0:
                out.append(rng.choice(self.decoys))
        return "".join(out)


# --- keys, names and paths -------------------------------------------------------------------


def current_epoch(now: datetime | None = None) -> int:
    """The rotation period `now` falls in: a new map and font for every article each period."""
    seconds = max(1, int(settings.FANWEN_FONT_ROTATION_HOURS)) * 3600
    return int((now or timezone.now()).timestamp()) // seconds


def epoch_progress(now: datetime | None = None) -> float:
    seconds = max(1, int(settings.FANWEN_FONT_ROTATION_HOURS)) * 3600
    return (int((now or timezone.now()).timestamp()) % seconds) / seconds


def font_storage() -> Storage:
    return storages["fonts"]


def _copies_dir() -> Path | None:
    """This node's read-through copies, or None when the fonts are in a local folder anyway."""
    if files.local_path(font_storage(), "") is not None:
        return None
    return Path(settings.VAR_DIR) / "font-copies"


def font_dir() -> Path:
    """A local folder in the storage's layout: the storage's own, or this node's copies."""
    return _copies_dir() or files.local_path(font_storage(), "")


def _hmac(value: str) -> bytes:
    return salted_hmac(_SALT, value, algorithm="sha256").digest()


def _chars_digest(chars: Iterable[str]) -> str:
    # Part of the file names: a piece edited without a version bump still gets a fresh font.
    return hashlib.sha256("".join(sorted(chars)).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class _Key:
    article_id: int
    version: int
    epoch: int
    digest: str

    @property
    def seed(self) -> bytes:
        return _hmac(f"{self.article_id}:{self.version}:{self.epoch}")

    @property
    def token(self) -> str:
        return _hmac(f"obf:{self.article_id}:{self.version}:{self.epoch}:{self.digest}").hex()[
            :TOKEN_CHARS
        ]

    @property
    def clean_token(self) -> str:
        # Its own secret token: the clean font maps real chars to the same glyphs.
        return _hmac(f"clean:{self.article_id}:{self.version}:{self.epoch}:{self.digest}").hex()[
            :TOKEN_CHARS
        ]

    @property
    def name(self) -> str:
        return f"{self.epoch}-{self.token}"

    @property
    def clean_name(self) -> str:
        return f"c{self.epoch}-{self.clean_token}"

    @property
    def map_name(self) -> str:
        return f"maps/{self.epoch}/{self.token}.json"

    @property
    def clean_file(self) -> str:
        return f"clean/{self.epoch}/{self.clean_token}.woff2"

    def obf_name(self, data: bytes) -> str:
        """The protected font's served name: other bytes, another name (see the module doc)."""
        content = hashlib.sha256(data).hexdigest()
        token = _hmac(
            f"obf:{self.article_id}:{self.version}:{self.epoch}:{self.digest}:{content}"
        ).hex()[:TOKEN_CHARS]
        return f"{self.epoch}-{token}"


def font_file(name: str) -> str | None:
    """The storage name behind a served font name, or None when the name is not one of ours."""
    prefix, _, token = name.partition("-")
    if len(token) != TOKEN_CHARS or any(c not in string.hexdigits.lower() for c in token):
        return None
    kind = "clean" if prefix.startswith("c") else "obf"
    epoch = prefix.removeprefix("c")
    if not epoch.isdigit() or len(epoch) > 9:
        return None
    return f"{kind}/{epoch}/{token}.woff2"


def font_path(name: str) -> Path | None:
    """The local file of a served font name, or None when the name is not one of ours.

    With a bucket it is this node's copy, fetched first if the bucket has the font; the file
    is missing when no such font was built.
    """
    stored = font_file(name)
    if stored is None:
        return None
    local = files.local_path(font_storage(), stored)
    return local if local is not None else _copy_of(stored)


def _copy_of(stored: str) -> Path:
    """This node's copy of a stored file, fetched once (missing when the bucket has none)."""
    copy = _copies_dir() / stored
    if not copy.is_file():
        data = files.read_bytes(font_storage(), stored)
        if data is not None:
            _keep_copy(stored, data)
    return copy


def _keep_copy(stored: str, data: bytes) -> None:
    copies = _copies_dir()
    if copies is None:
        return
    copy = copies / stored
    new_epoch = not copy.parent.is_dir()
    files.replace_file(copy, data)
    if new_epoch and copy.parent.name.isdigit():
        # Nodes without the worker prune their own copies, as each new epoch starts.
        _prune_folders(copies, int(copy.parent.name))


def _read(stored: str) -> bytes | None:
    """A stored file's bytes: from this node's copy when there is one."""
    if _copies_dir() is None:
        return files.read_bytes(font_storage(), stored)
    try:
        return _copy_of(stored).read_bytes()
    except FileNotFoundError:
        return None


def _write(stored: str, data: bytes) -> None:
    files.write_whole(font_storage(), stored, data)
    _keep_copy(stored, data)


def _exists(stored: str) -> bool:
    copies = _copies_dir()
    return bool(copies and (copies / stored).is_file()) or font_storage().exists(stored)


def _url(name: str) -> str:
    return reverse("protection:font", args=[name])


# --- which characters ------------------------------------------------------------------------


def protected_chars(article) -> set[str]:
    """Distinct characters of the article's body paragraphs (blocks of kind "p")."""
    return set("".join(article.body_paragraphs()))


def _remappable(char: str) -> bool:
    # Blanks and controls stay real: collapsing, hanging spaces and line ends depend on them.
    return not char.isspace() and unicodedata.category(char)[0] not in "ZC"


# --- the base font, loaded once per process --------------------------------------------------


class _BaseFont:
    """Noto Sans SC: cmap, metrics and each glyph's decomposed outline, read on demand."""

    def __init__(self, path: Path) -> None:
        self.font = TTFont(str(path))
        self.cmap: dict[int, str] = self.font.getBestCmap()
        self.advances: dict[str, tuple[int, int]] = dict(self.font["hmtx"].metrics)
        self.glyph_set = self.font.getGlyphSet()
        hhea, os2 = self.font["hhea"], self.font["OS/2"]
        self.units_per_em: int = self.font["head"].unitsPerEm
        names = self.font["name"]
        self.copyright = names.getDebugName(0) or ""
        self.license = names.getDebugName(13) or "SIL Open Font License, Version 1.1"
        self.license_url = names.getDebugName(14) or "https://openfontlicense.org"
        # Vertical metrics on the built fonts' grid.
        self.scale = UNITS_PER_EM / self.units_per_em
        self.hhea = {
            name: round(getattr(hhea, name) * self.scale)
            for name in ("ascent", "descent", "lineGap")
        }
        self.os2 = {
            name: getattr(os2, name)
            if name.startswith(("usWeight", "usWidth"))
            else round(getattr(os2, name) * self.scale)
            for name in (
                "sTypoAscender",
                "sTypoDescender",
                "sTypoLineGap",
                "usWinAscent",
                "usWinDescent",
                "sxHeight",
                "sCapHeight",
                "usWeightClass",
                "usWidthClass",
            )
        }
        self._outlines: dict[str, glyphs.Outline] = {}
        self._lock = threading.Lock()

    def outline(self, glyph_name: str) -> glyphs.Outline:
        """The glyph's decomposed outline as pen operations (cached: common chars recur in
        every article)."""
        outline = self._outlines.get(glyph_name)
        if outline is None:
            # The lazily parsed CFF charstrings are not safe to decompile from two threads.
            with self._lock:
                outline = self._outlines.get(glyph_name)
                if outline is None:
                    outline = glyph_outline(self.glyph_set[glyph_name])
                    self._outlines[glyph_name] = outline
        return outline


def glyph_outline(glyph) -> tuple[tuple, ...]:
    """A glyph's outline as recorded pen operations: subroutines expanded, hints dropped."""
    recording = RecordingPen()
    glyph.draw(recording)
    return tuple((op, tuple(args)) for op, args in recording.value)


_base: _BaseFont | None = None
_base_lock = threading.Lock()


def base_font() -> _BaseFont:
    global _base
    if _base is None:
        with _base_lock:
            if _base is None:
                _base = _BaseFont(sans_path())
    return _base


# --- building ---------------------------------------------------------------------------------


def _glyph_names(count: int) -> list[str]:
    """Names by position in a font's (random) glyph order: they tell nothing, and being
    regular they cost brotli next to nothing."""
    return [f"x{index:x}" for index in range(count)]


def _family(rng: random.Random, prefix: str = "") -> str:
    return prefix + "".join(rng.choices(string.ascii_lowercase, k=10))


@dataclass
class _Drawing:
    """One build's glyphs, shared by the protected and the clean font.

    Every ink part is a zero-width mark (see glyphs.py); a character is an empty base glyph
    of its advance followed by its marks. The protected font's bases are shared per advance;
    the clean font has a base per character, which its GSUB expands to base + marks.
    """

    marks: dict[str, list[str]]  # real char -> its marks' glyph keys
    advances: dict[str, int]  # real char -> advance
    charstrings: dict[str, T2CharString]
    anchors: dict[str, tuple[int, int]]  # mark key -> the anchor that puts it back
    boxes: list[tuple[tuple[int, int, int, int], int]]
    # Glyphs are named by key here; each font names them by its own glyph order.
    keys: Iterator[str] = field(default_factory=lambda: (f"k{i}" for i in itertools.count()))


def _empty(advance: int) -> T2CharString:
    # An empty glyph: its advance (unless the default) and endchar.
    program = ([] if advance == DEFAULT_WIDTH else [advance]) + ["endchar"]
    return T2CharString(program=program)


def _draw(drawable: list[str], rng: random.Random) -> _Drawing:
    base = base_font()
    drawn: list[tuple[str, glyphs.Part]] = []
    advances: dict[str, int] = {}
    for char in drawable:
        base_name = base.cmap[ord(char)]
        advances[char] = round(base.advances[base_name][0] * base.scale)
        if _remappable(char):
            for part in glyphs.draw_parts(base.outline(base_name), rng, scale=base.scale):
                drawn.append((char, part))
    drawing = _Drawing({}, advances, {".notdef": _empty(DEFAULT_WIDTH)}, {}, [])
    for char, part in drawn:
        key = next(drawing.keys)
        drawing.marks.setdefault(char, []).append(key)
        drawing.charstrings[key] = T2CharString(program=part.program)
        drawing.anchors[key] = part.anchor
        drawing.boxes.append((part.bounds, 0))
    return drawing


def _script_list(tag: str, feature_tag: str, lookup) -> object:
    """A GSUB or GPOS table with one lookup under `feature_tag`, for every script."""
    table_class = getattr(otTables, tag)
    feature_record = otTables.FeatureRecord()
    feature_record.FeatureTag = feature_tag
    feature_record.Feature = otTables.Feature()
    feature_record.Feature.LookupListIndex = [0]
    feature_record.Feature.LookupCount = 1
    lang = otTables.DefaultLangSys()
    lang.ReqFeatureIndex = 0xFFFF
    lang.FeatureIndex = [0]
    lang.FeatureCount = 1
    lang.LookupOrder = None
    scripts = []
    # PUA characters shape as DFLT, Chinese as hani; latn for digits and Latin letters.
    for script_tag in ("DFLT", "hani", "latn"):
        record = otTables.ScriptRecord()
        record.ScriptTag = script_tag
        record.Script = otTables.Script()
        record.Script.DefaultLangSys = lang
        record.Script.LangSysRecord = []
        record.Script.LangSysCount = 0
        scripts.append(record)
    table = table_class()
    table.Version = 0x00010000
    table.ScriptList = otTables.ScriptList()
    table.ScriptList.ScriptRecord = scripts
    table.ScriptList.ScriptCount = len(scripts)
    table.FeatureList = otTables.FeatureList()
    table.FeatureList.FeatureRecord = [feature_record]
    table.FeatureList.FeatureCount = 1
    table.LookupList = otTables.LookupList()
    table.LookupList.Lookup = [lookup]
    table.LookupList.LookupCount = 1
    wrapper = newTable(tag)
    wrapper.table = table
    return wrapper


def _add_layout(
    font: TTFont,
    anchors: dict[str, tuple[int, int]],
    bases: list[str],
    expand: dict[str, list[str]],
) -> None:
    """GDEF classes, GPOS `mark` putting every mark back on its base and, for the clean font,
    GSUB `ccmp` expanding each character's base into base + marks."""
    glyph_map = font.getReverseGlyphMap()
    origin = otl.buildAnchor(0, 0)
    marks = {name: (0, otl.buildAnchor(*anchor)) for name, anchor in anchors.items()}
    subtable = otl.buildMarkBasePosSubtable(marks, {b: {0: origin} for b in bases}, glyph_map)
    font["GPOS"] = _script_list("GPOS", "mark", otl.buildLookup([subtable]))
    gdef = otTables.GDEF()
    gdef.Version = 0x00010000
    gdef.GlyphClassDef = otTables.GlyphClassDef()
    gdef.GlyphClassDef.classDefs = {**{b: 1 for b in bases}, **{m: 3 for m in anchors}}
    gdef.AttachList = gdef.LigCaretList = gdef.MarkAttachClassDef = None
    table = newTable("GDEF")
    table.table = gdef
    font["GDEF"] = table
    if expand:
        subtable = otl.buildMultipleSubstSubtable(expand)
        font["GSUB"] = _script_list("GSUB", "ccmp", otl.buildLookup([subtable]))


def _font_bytes(
    drawing: _Drawing,
    extra: dict[str, T2CharString],
    cmap: dict[int, str],
    bases: list[str],
    expand: dict[str, list[str]],
    order: list[str],
    family: str,
) -> bytes:
    """A WOFF2 font of the drawing's marks plus `extra` glyphs (bases, blanks, decoy) in
    `order`, under `cmap` (all by key)."""
    base = base_font()
    name = dict(zip([".notdef", *order], _glyph_names(len(order) + 1), strict=True))
    name[".notdef"] = ".notdef"
    charstrings = {name[k]: v for k, v in {**drawing.charstrings, **extra}.items()}
    builder = FontBuilder(UNITS_PER_EM, isTTF=False)
    builder.setupGlyphOrder([".notdef", *(name[k] for k in order)])
    builder.setupCharacterMap({code: name[key] for code, key in cmap.items()})
    builder.setupCFF(
        family, {"FullName": family, "FamilyName": family}, charstrings, _PRIVATE.copy()
    )
    metrics = {name[k]: (0, 0) for k in drawing.charstrings}
    for key, charstring in extra.items():
        program = charstring.program
        metrics[name[key]] = (program[0] if len(program) > 1 else DEFAULT_WIDTH, 0)
    metrics[".notdef"] = (DEFAULT_WIDTH, 0)
    builder.setupHorizontalMetrics(metrics)
    builder.setupHorizontalHeader(**base.hhea)
    builder.setupNameTable(
        {
            "familyName": family,
            "styleName": "Regular",
            "uniqueFontIdentifier": family,
            "fullName": family,
            "psName": family,
            "version": "Version 1.0",
            # The outlines are under the OFL: its notice and licence travel with them.
            "copyright": base.copyright,
            "licenseDescription": base.license,
            "licenseInfoURL": base.license_url,
        }
    )
    builder.setupOS2(**base.os2, achVendID="NONE", fsType=0)
    builder.setupPost()
    builder.setupHead(unitsPerEm=UNITS_PER_EM, created=_HEAD_TIMESTAMP, modified=_HEAD_TIMESTAMP)
    anchors = {name[k]: anchor for k, anchor in drawing.anchors.items()}
    expand = {name[k]: [name[g] for g in glyphs] for k, glyphs in expand.items()}
    _add_layout(builder.font, anchors, [name[k] for k in bases], expand)
    builder.font.recalcTimestamp = False
    _set_bounds(builder.font, drawing.boxes or [((0, 0, 0, 0), 0)])
    builder.font.flavor = "woff2"
    out = io.BytesIO()
    builder.save(out)
    return out.getvalue()


def _set_bounds(font: TTFont, boxes: list[tuple[tuple[int, int, int, int], int]]) -> None:
    """Font-wide extents from the parts' bounds: letting fontTools recompute them would
    decompile every charstring again, which is much of a build's time."""
    x_min = min(box[0] for box, _ in boxes)
    y_min = min(box[1] for box, _ in boxes)
    x_max = max(box[2] for box, _ in boxes)
    y_max = max(box[3] for box, _ in boxes)
    head, hhea = font["head"], font["hhea"]
    head.xMin, head.yMin, head.xMax, head.yMax = x_min, y_min, x_max, y_max
    font["CFF "].cff.topDictIndex[0].FontBBox = [x_min, y_min, x_max, y_max]
    hhea.advanceWidthMax = max(advance for _, advance in font["hmtx"].metrics.values())
    hhea.minLeftSideBearing = min(box[0] for box, _ in boxes)
    hhea.minRightSideBearing = min(advance - box[2] for box, advance in boxes)
    hhea.xMaxExtent = max(box[2] for box, _ in boxes)
    font.recalcBBoxes = False


# Empty zero-width code points sprinkled through the protected text: about one per this
# many characters, from a pool this share of the mapped characters.
DECOY_EVERY = 8
DECOY_SHARE = 0.08
# Code points of the protected font that draw the empty base of each advance.
BASE_CODES_PER_ADVANCE = 24


def _build(
    key: _Key, chars: set[str], *, protected: bool = True, clean: bool = True
) -> ArticleFont:
    """Draw the key's glyphs and write its protected font and map and/or its clean font.

    The drawing is the same whichever is written (the same key, the same random draws), so a
    clean font written later matches the protected one written first.
    """
    base = base_font()
    rng = random.Random(int.from_bytes(key.seed, "big"))
    drawable = sorted(c for c in chars if ord(c) in base.cmap)
    drawing = _draw(drawable, rng)
    keys = drawing.keys
    remapped = [c for c in drawable if _remappable(c)]
    blanks = [c for c in drawable if not _remappable(c)]
    # Blanks stay real in both texts: an empty glyph of their advance in both fonts.
    blank_glyphs = {c: next(keys) for c in blanks}
    shared = {k: _empty(drawing.advances[c]) for c, k in blank_glyphs.items()}
    shared_cmap = {ord(c): k for c, k in blank_glyphs.items()}

    # The protected font: per advance an empty base under several code points, each mark
    # under one, decoys; code points run in glyph order (a compact cmap), which is random.
    widths = sorted({drawing.advances[c] for c in remapped})
    base_of_width = {width: next(keys) for width in widths}
    decoy = next(keys)
    obf_extra = {**shared, decoy: _empty(0)}
    obf_extra.update({k: _empty(width) for width, k in base_of_width.items()})
    counts = {k: BASE_CODES_PER_ADVANCE for k in base_of_width.values()}
    counts[decoy] = max(1, round(len(remapped) * DECOY_SHARE))
    counts.update({k: 1 for k in drawing.anchors})
    order = [k for k in [*drawing.charstrings, *obf_extra] if k != ".notdef"]
    rng.shuffle(order)
    needed = sum(counts.get(k, 0) for k in order)
    if needed > PUA_LAST - PUA_FIRST + 1:
        raise ValueError(f"{len(remapped)} distinct characters need more PUA code points")
    next_code = rng.randrange(PUA_FIRST, PUA_LAST + 2 - needed)
    codes_of: dict[str, list[str]] = {}
    obf_cmap = dict(shared_cmap)
    for k in order:
        codes_of[k] = [chr(code) for code in range(next_code, next_code + counts.get(k, 0))]
        obf_cmap.update({ord(code): k for code in codes_of[k]})
        next_code += counts.get(k, 0)
    mapping = {
        char: rng.choice(codes_of[base_of_width[drawing.advances[char]]])
        + "".join(codes_of[k][0] for k in drawing.marks.get(char, []))
        for char in remapped
    }
    decoys = "".join(codes_of[decoy])

    # The clean font: a base per character, expanded to base + marks by the font itself.
    clean_bases = {c: next(keys) for c in remapped}
    clean_extra = {**shared, **{k: _empty(drawing.advances[c]) for c, k in clean_bases.items()}}
    clean_cmap = {**shared_cmap, **{ord(c): k for c, k in clean_bases.items()}}
    expand = {k: [k, *drawing.marks[c]] for c, k in clean_bases.items() if c in drawing.marks}
    clean_order = [k for k in [*drawing.charstrings, *clean_extra] if k != ".notdef"]
    rng.shuffle(clean_order)

    family = _family(rng)
    clean_family = _family(rng, prefix="fw")
    # A clean-only build leaves the protected font's name to the map written earlier.
    obf_name = key.name
    if protected:
        data = _font_bytes(
            drawing, obf_extra, obf_cmap, list(base_of_width.values()), {}, order, family
        )
        obf_name = key.obf_name(data)
        _write(font_file(obf_name), data)
    if clean:
        _write(
            key.clean_file,
            _font_bytes(
                drawing,
                clean_extra,
                clean_cmap,
                list(clean_bases.values()),
                expand,
                clean_order,
                clean_family,
            ),
        )
    font = ArticleFont(
        article_id=key.article_id,
        version=key.version,
        epoch=key.epoch,
        family=family,
        url=_url(obf_name),
        clean_family=clean_family,
        clean_url=_url(key.clean_name),
        mapping=mapping,
        decoys=decoys,
    )
    sidecar = {
        "article_id": key.article_id,
        "version": key.version,
        "epoch": key.epoch,
        "digest": key.digest,
        "font": obf_name,
        "family": family,
        "clean_family": clean_family,
        "mapping": mapping,
        "decoys": decoys,
    }
    if protected:
        # Written after it: a stored map means the font it names is there, on every node.
        _write(key.map_name, json.dumps(sidecar, ensure_ascii=False).encode("utf-8"))
        _remember(key, font)
    return font


# --- the in-process cache and the background builds ------------------------------------------

_CACHE_SIZE = 512
_cache: OrderedDict[_Key, ArticleFont] = OrderedDict()
_cache_lock = threading.Lock()
# Background builds under way: a key's fonts, or (key, "clean") for its clean font alone.
_pending: dict[_Key | tuple[_Key, str], Future] = {}
_pending_lock = threading.Lock()
# One builder thread per process: builds are CPU-bound and must not crowd out requests.
# It also runs at a lower priority: requests of the same node come first on a busy machine.
_executor = ThreadPoolExecutor(
    max_workers=1, thread_name_prefix="fanwen-font", initializer=priority.lower_this_thread
)


def _remember(key: _Key, font: ArticleFont) -> None:
    with _cache_lock:
        _cache[key] = font
        _cache.move_to_end(key)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)


def _cached(key: _Key) -> ArticleFont | None:
    with _cache_lock:
        font = _cache.get(key)
        if font is not None:
            _cache.move_to_end(key)
        return font


def _load(key: _Key) -> ArticleFont | None:
    raw = _read(key.map_name)
    try:
        data = json.loads(raw) if raw is not None else None
    except ValueError:
        data = None
    if not data:
        return None
    font = ArticleFont(
        article_id=key.article_id,
        version=key.version,
        epoch=key.epoch,
        family=data["family"],
        # Maps written before fonts were named by their bytes name none: the key's name.
        url=_url(data.get("font") or key.name),
        clean_family=data["clean_family"],
        clean_url=_url(key.clean_name),
        mapping=data["mapping"],
        decoys=data.get("decoys", ""),
    )
    _remember(key, font)
    return font


def forget_cache() -> None:
    """Drop the fonts remembered by this process (tests that move the font directory)."""
    with _cache_lock:
        _cache.clear()


def _key(article, chars: set[str], epoch: int | None) -> _Key:
    return _Key(
        article_id=article.pk,
        version=article.content_version,
        epoch=current_epoch() if epoch is None else epoch,
        digest=_chars_digest(chars),
    )


def _ready(key: _Key) -> ArticleFont | None:
    return _cached(key) or _load(key)


def schedule_build(article, *, epoch: int | None = None, chars: set[str] | None = None) -> bool:
    """Start a background build of the article's font unless it exists or is under way.

    The characters are read here, in the caller's thread: the builder never touches the
    database. Returns True when a build was started.
    """
    chars = protected_chars(article) if chars is None else chars
    if not chars:
        return False
    key = _key(article, chars, epoch)
    if _ready(key) is not None:
        return False
    with _pending_lock:
        if key in _pending:
            return False
        future = _executor.submit(_build_if_missing, key, chars)
        _pending[key] = future
    future.add_done_callback(lambda _done, key=key: _forget_pending(key))
    return True


def _forget_pending(key: _Key | tuple[_Key, str]) -> None:
    with _pending_lock:
        _pending.pop(key, None)


def _build_if_missing(key: _Key, chars: set[str]) -> ArticleFont:
    # Another process may have written it while this build waited in the queue.
    return _ready(key) or _build(key, chars)


def font_for(article, *, schedule: bool = True) -> ArticleFont | None:
    """The ready font of the article for the current epoch, or None (a build is then started).

    Never builds in the calling thread: a request gets a font only once it is on disk.
    """
    return _ready_font(article, schedule=schedule)[0]


def _ready_font(article, *, schedule: bool) -> tuple[ArticleFont | None, _Key | None, set[str]]:
    chars = protected_chars(article)
    if not chars:
        return None, None, chars
    key = _key(article, chars, None)
    font = _ready(key)
    if font is None and schedule:
        schedule_build(article, chars=chars)
    return font, key, chars


_key_locks: dict[_Key, threading.Lock] = {}
_key_locks_lock = threading.Lock()


def font_now(article) -> ArticleFont | None:
    """The article's font for the current epoch, built in this thread when it is missing.

    For the protected page: an anonymous reader is never served clean text, so a page whose
    font is not there yet waits for it (a build takes about a second; publishing and the
    worker build ahead, so few readers ever wait). Parallel requests of one process share
    one build; None only when the body has no character to protect.
    """
    chars = protected_chars(article)
    if not chars:
        return None
    key = _key(article, chars, None)
    font = _ready(key)
    if font is not None:
        return font
    with _key_locks_lock:
        lock = _key_locks.setdefault(key, threading.Lock())
    try:
        with lock:
            font = _ready(key)
            if font is None:
                # The reader waits for the protected font only; buyers' clean font follows.
                font = _build(key, chars, clean=False)
                _schedule_clean(key, chars)
            return font
    finally:
        with _key_locks_lock:
            if not lock.locked():
                _key_locks.pop(key, None)


def _schedule_clean(key: _Key, chars: set[str]) -> None:
    pending = (key, "clean")
    with _pending_lock:
        if pending in _pending:
            return
        future = _executor.submit(_build_clean_if_missing, key, chars)
        _pending[pending] = future
    future.add_done_callback(lambda _done: _forget_pending(pending))


def _build_clean_if_missing(key: _Key, chars: set[str]) -> None:
    if not _exists(key.clean_file):
        _build(key, chars, protected=False)


def clean_font_for(article) -> ArticleFont | None:
    """The article's font with its clean font on disk (built here if a reader got the
    protected font first, seconds ago): for pages and text handed to readers with the right."""
    font, key, chars = _ready_font(article, schedule=True)
    if font is not None:
        _build_clean_if_missing(key, chars)
    return font


def wait_for_builds(timeout: float = 60) -> None:
    """Block until the background builds started so far are done (tests, the demo)."""
    deadline = time.monotonic() + timeout
    while True:
        with _pending_lock:
            futures = list(_pending.values())
        if not futures:
            return
        for future in futures:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{len(futures)} font builds still running after {timeout}s")
            future.result(timeout=remaining)


def build_font(article, epoch: int | None = None) -> ArticleFont:
    """Build (or rebuild) the article's font for `epoch` (default: now), in this thread."""
    chars = protected_chars(article)
    return _build(_key(article, chars, epoch), chars)


def build_missing_fonts(
    *, epoch: int | None = None, progress: bool = False, seconds: float | None = None
) -> int:
    """Build the fonts that are missing for published articles, most read first; prune old epochs.

    With `seconds`, stop once that much time has passed (the worker must get back to its
    other jobs); articles not reached get their font on their first view instead.
    Returns how many fonts were built.
    """
    from fanwen.library.models import Article

    deadline = None if seconds is None else time.monotonic() + seconds
    epoch = current_epoch() if epoch is None else epoch
    articles = Article.objects.published().prefetch_related("pieces").order_by("-view_count", "-pk")
    total = articles.count()
    # One listing, not a read per article: with a bucket that is a request per 1,000 maps.
    present = set(files.files_in(font_storage(), f"maps/{epoch}"))
    built = 0
    for index, article in enumerate(articles.iterator(chunk_size=200), 1):
        if deadline is not None and time.monotonic() >= deadline:
            break
        chars = protected_chars(article)
        if chars:
            key = _key(article, chars, epoch)
            if key.map_name.rsplit("/", 1)[1] not in present and _ready(key) is None:
                _build(key, chars)
                built += 1
        if progress and (index % 100 == 0 or index == total):
            print(f"fonts: {index}/{total} articles, {built} built", flush=True)
    prune_fonts(current_epoch())
    return built


def prune_fonts(epoch: int) -> int:
    """Delete obfuscated fonts and maps older than KEEP_EPOCHS before `epoch`, and clean
    fonts no build has used for as long. Returns how many epoch folders went."""
    storage = font_storage()
    removed = 0
    for kind in ("obf", "clean", "maps"):
        for child in files.subfolders(storage, kind):
            if child.isdigit() and int(child) < epoch - KEEP_EPOCHS:
                files.delete_folder(storage, f"{kind}/{child}")
                removed += kind == "obf"
    copies = _copies_dir()
    if copies is not None:
        _prune_folders(copies, epoch)
    return removed


def _prune_folders(root: Path, epoch: int) -> None:
    """This node's copies of epochs older than KEEP_EPOCHS before `epoch`."""
    for kind in ("obf", "clean", "maps"):
        folder = root / kind
        if folder.is_dir():
            for child in folder.iterdir():
                if child.name.isdigit() and int(child.name) < epoch - KEEP_EPOCHS:
                    shutil.rmtree(child, ignore_errors=True)


def font_face_css(font: ArticleFont, *, clean: bool) -> str:
    """The @font-face rule of the clean or the obfuscated font."""
    family, url = (font.clean_family, font.clean_url) if clean else (font.family, font.url)
    return (
        f'@font-face{{font-family:"{family}";src:url("{url}") format("woff2");'
        "font-display:block;font-style:normal;font-weight:400}"
    )


def bench_build(article) -> dict:
    """Timings and sizes of one article's font build, cold (base font load) when first called."""
    started = time.perf_counter()
    cold = _base is None
    base_font()
    loaded = time.perf_counter()
    chars = protected_chars(article)
    font = _build(_key(article, chars, None), chars)
    done = time.perf_counter()
    key = _key(article, chars, font.epoch)
    storage = font_storage()
    return {
        "article_id": article.pk,
        "distinct_chars": len(chars),
        "mapped_chars": len(font.mapping),
        "base_load_s": round(loaded - started, 3) if cold else 0.0,
        "build_s": round(done - loaded, 3),
        "obfuscated_bytes": storage.size(font_file(font.url.rsplit("/", 1)[1][: -len(".woff2")])),
        "clean_bytes": storage.size(key.clean_file),
    }
