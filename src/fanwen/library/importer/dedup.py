"""Near-duplicate pieces: signatures, and the library-wide lookup that uses them.

Similarity is the Jaccard index of the sets of character 3-grams of the normalised text
(letters, digits and Chinese characters; every blank like xx/__/×× counts as one "_").
A piece is a near-duplicate at SIMILARITY (0.9) or more.

Finding candidates without reading every piece: one-permutation MinHash with 32 bins, cut
into 8 bands of 4; each band is hashed into an indexed column (Piece.dup_band_0..7). Two
pieces that share any band are candidates; with Jaccard s the chance to share one is
1 - (1 - s^4)^8: 0.9998 at s = 0.9, 0.003 at s = 0.2 (unrelated essays of one genre sit
around 0.01-0.05). Candidates are then screened by SimHash distance and verified with the
exact Jaccard of the texts. Piece.simhash holds the 64-bit SimHash (signed, like the column).
"""

from __future__ import annotations

import hashlib
import re
import struct
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass

SHINGLE = 3
BANDS = 8
ROWS = 4
BINS = BANDS * ROWS
SIMILARITY = 0.9
# Below this many normalised characters two texts are too short to call one a copy.
MIN_CHARS = 30
# SimHash screen before reading texts: over 2,400 random edits of 40-3,000 characters with
# Jaccard >= 0.9 the largest distance seen was 14 bits; unrelated texts sit around 32.
MAX_HAMMING = 18
BAND_FIELDS = tuple(f"dup_band_{i}" for i in range(BANDS))

_MASK64 = (1 << 64) - 1
_BLANKS = re.compile(r"(?<![a-z])x{2,4}(?![a-z])|[×╳□○_]+")
_NOT_WORD = re.compile(r"\W+")


def normalize(text: str) -> str:
    """Lower-case letters, digits and Chinese characters; each blank (xx, __, ××) is one "_"."""
    text = unicodedata.normalize("NFKC", text).lower()
    return _BLANKS.sub("_", _NOT_WORD.sub("", text))


def grams(text: str) -> set[str]:
    """The character 3-grams of the normalised text: what similarity is measured on."""
    norm = normalize(text)
    if len(norm) < SHINGLE:
        return {norm} if norm else set()
    return {norm[i : i + SHINGLE] for i in range(len(norm) - SHINGLE + 1)}


def _keys(norm: str) -> set[int]:
    """The 3-grams of a normalised text as ints (code points packed into 63 bits): what is
    hashed, and what similarity compares — a set of ints is built and intersected faster
    than one of strings, and packing is one-to-one, so the Jaccard index is the same."""
    if len(norm) < SHINGLE:
        return {sum(ord(ch) << (21 * i) for i, ch in enumerate(norm))} if norm else set()
    codes = list(map(ord, norm))
    # The shorter tails end the zip at the last whole 3-gram.
    triples = zip(codes, codes[1:], codes[2:], strict=False)
    return {(a << 42) | (b << 21) | c for a, b, c in triples}


def _mixed(keys: set[int]) -> list[int]:
    # _mix of each key, inlined: a function call per 3-gram was a third of a signature.
    m1, m2, mask = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, _MASK64
    return [
        (y := ((z := (x ^ (x >> 30)) * m1 & mask) ^ (z >> 27)) * m2 & mask) ^ (y >> 31)
        for x in keys
    ]


def _mix(x: int) -> int:
    # splitmix64's finaliser: stable across runs and platforms, unlike hash().
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9 & _MASK64
    x = (x ^ (x >> 27)) * 0x94D049BB133111EB & _MASK64
    return x ^ (x >> 31)


def _hashes(gram_set: set[str]) -> list[int]:
    # Stable 64-bit hashes of the 3-grams (code points packed into 63 bits, then mixed).
    if any(len(gram) != SHINGLE for gram in gram_set):
        return [_mix(sum(ord(ch) << (21 * i) for i, ch in enumerate(g))) for g in gram_set]
    return [_mix((ord(g[0]) << 42) | (ord(g[1]) << 21) | ord(g[2])) for g in gram_set]


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


# _BIT[k][v]: bit k of byte v, as a byte: bytes.translate turns a column of hash bytes into
# 0/1 bytes whose count() is how many hashes have that bit set, at C speed.
_BIT = [bytes(v >> k & 1 for v in range(256)) for k in range(8)]


def _simhash_of(hashes: set[int] | list[int]) -> int:
    items = list(hashes)
    # Byte j of every hash sits at j, j+8, j+16 … of the little-endian packing.
    packed = struct.pack(f"<{len(items)}Q", *items)
    half = len(items) / 2
    value = 0
    for j in range(8):
        column = packed[j::8]
        for k in range(8):
            if column.translate(_BIT[k]).count(1) > half:
                value |= 1 << (j * 8 + k)
    return _signed(value)


def simhash(text: str) -> int:
    """64-bit SimHash of the text's character 3-grams, as a signed int (fits BigIntegerField)."""
    return _simhash_of(_hashes(grams(text)))


def hamming(a: int, b: int) -> int:
    return ((a ^ b) & _MASK64).bit_count()


def jaccard(a: set, b: set) -> float:
    if not a or not b:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    common = len(a & b)
    return common / (len(a) + len(b) - common)


def jaccard_at_least(a: set, b: set, threshold: float) -> float:
    """jaccard(a, b) when it is >= threshold, else 0.0 — without building the intersection.

    Exact, only faster for the many candidates that fall short: J >= t needs |a & b| >=
    t (|a| + |b|) / (1 + t), so the size ratio alone rules out most pairs, and counting the
    grams of the smaller set missing from the larger stops once too many are missing.
    """
    if not a or not b:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    # J <= |a| / |b|: a pair of very different sizes is never a near-copy.
    if len(a) < threshold * len(b):
        return 0.0
    # Misses allowed: |a| - needed common; the float bound is loosened by one so that
    # rounding never refuses a pair the exact count would keep.
    allowed = len(a) - threshold * (len(a) + len(b)) / (1 + threshold) + 1
    missing = 0
    for gram in a:
        if gram not in b:
            missing += 1
            if missing > allowed:
                return 0.0
    common = len(a) - missing
    score = common / (len(a) + len(b) - common)
    return score if score >= threshold else 0.0


def similarity(text_a: str, text_b: str) -> float:
    """Jaccard index of the two texts' character 3-grams (1.0 = same words in the same order)."""
    return jaccard(grams(text_a), grams(text_b))


def _bands(hashes: list[int]) -> list[int]:
    mins = [_MASK64] * BINS
    for h in hashes:
        slot = h & (BINS - 1)
        value = h >> 5
        if value < mins[slot]:
            mins[slot] = value
    # Empty bins borrow from the next filled one ("rotation" densification), so short
    # texts still get comparable bands.
    original = list(mins)
    for i in range(BINS):
        if original[i] == _MASK64:
            for step in range(1, BINS):
                donor = original[(i + step) % BINS]
                if donor != _MASK64:
                    mins[i] = (donor + step * 0x9E3779B97F4A7C15) & _MASK64
                    break
    bands = []
    for band in range(BANDS):
        row = mins[band * ROWS : (band + 1) * ROWS]
        digest = hashlib.blake2b(struct.pack("<5Q", band, *row), digest_size=8).digest()
        bands.append(_signed(int.from_bytes(digest, "little")))
    return bands


@dataclass
class Signature:
    grams: set[int]  # the 3-grams packed as ints (_keys)
    simhash: int
    bands: list[int] | None  # None: too short to be looked up in the library

    @property
    def comparable(self) -> bool:
        return self.bands is not None


def signature(text: str) -> Signature:
    keys = _keys(normalize(text))
    hashes = _mixed(keys)
    long_enough = len(keys) + SHINGLE - 1 >= MIN_CHARS
    return Signature(keys, _simhash_of(hashes), _bands(hashes) if long_enough else None)


def signature_fields(text: str) -> dict:
    """Model field values (simhash and the band columns) for a Piece with this text."""
    sig = signature(text)
    fields = {"simhash": sig.simhash}
    fields.update(zip(BAND_FIELDS, sig.bands or [None] * BANDS, strict=True))
    return fields


@dataclass
class Match:
    piece_id: int
    article_id: int
    similarity: float


def find_in_library(
    signatures: list[Signature], *, exclude_article_id: int | None = None, limit: int = 2000
) -> list[Match | None]:
    """The most similar stored piece (>= SIMILARITY) for each signature, or None.

    One indexed query per call for all the signatures' bands; texts are read only for the
    few candidates that pass the band and SimHash screens.
    """
    from django.db.models import Q

    from fanwen.library.models import Piece

    results: list[Match | None] = [None] * len(signatures)
    wanted = [sig for sig in signatures if sig.comparable]
    if not wanted:
        return results
    query = Q()
    for i, name in enumerate(BAND_FIELDS):
        query |= Q(**{f"{name}__in": sorted({sig.bands[i] for sig in wanted})})
    rows = Piece.objects.filter(query)
    if exclude_article_id is not None:
        rows = rows.exclude(article_id=exclude_article_id)
    candidates = list(rows.values_list("id", "article_id", "simhash", *BAND_FIELDS)[:limit])

    per_signature: list[list[tuple[int, int]]] = []
    needed: set[int] = set()
    for sig in signatures:
        found = []
        if sig.comparable:
            for piece_id, article_id, other_hash, *bands in candidates:
                if any(a == b for a, b in zip(sig.bands, bands, strict=True)) and (
                    hamming(sig.simhash, other_hash) <= MAX_HAMMING
                ):
                    found.append((piece_id, article_id))
                    needed.add(piece_id)
        per_signature.append(found)
    if not needed:
        return results
    stored = _stored_grams(needed, {c[0]: c[2] for c in candidates if c[0] in needed})
    for index, (sig, found) in enumerate(zip(signatures, per_signature, strict=True)):
        best: Match | None = None
        for piece_id, article_id in sorted(found):
            score = jaccard_at_least(sig.grams, stored.get(piece_id, set()), SIMILARITY)
            if score >= SIMILARITY and (best is None or score > best.similarity):
                best = Match(piece_id, article_id, score)
        results[index] = best
    return results


# 3-grams of stored pieces, by (id, simhash): in a batch of templated files the same few
# hundred pieces come up as candidates again and again. The simhash changes with the text.
_GRAM_CACHE: OrderedDict[tuple[int, int], set[int]] = OrderedDict()
_GRAM_CACHE_SIZE = 5000


def _stored_grams(piece_ids: set[int], hashes: dict[int, int]) -> dict[int, set[int]]:
    from fanwen.library.models import Piece

    out: dict[int, set[str]] = {}
    missing = []
    for piece_id in piece_ids:
        key = (piece_id, hashes[piece_id])
        if key in _GRAM_CACHE:
            _GRAM_CACHE.move_to_end(key)
            out[piece_id] = _GRAM_CACHE[key]
        else:
            missing.append(piece_id)
    if missing:
        for piece_id, text, value in Piece.objects.filter(id__in=missing).values_list(
            "id", "text", "simhash"
        ):
            out[piece_id] = _GRAM_CACHE[(piece_id, value)] = _keys(normalize(text))
        while len(_GRAM_CACHE) > _GRAM_CACHE_SIZE:
            _GRAM_CACHE.popitem(last=False)
    return out


def find_within(signatures: list[Signature]) -> list[tuple[int, float] | None]:
    """For each piece, the earlier piece of the same article it nearly copies (index, score)."""
    results: list[tuple[int, float] | None] = []
    for i, sig in enumerate(signatures):
        best: tuple[int, float] | None = None
        if sig.comparable:
            for j in range(i):
                if not signatures[j].comparable:
                    continue
                score = jaccard_at_least(sig.grams, signatures[j].grams, SIMILARITY)
                if score >= SIMILARITY and (best is None or score > best[1]):
                    best = (j, score)
        results.append(best)
    return results
