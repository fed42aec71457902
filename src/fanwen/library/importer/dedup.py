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
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

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


def _key_array(norm: str) -> np.ndarray:
    """The distinct 3-grams of a normalised text as uint64 (three 21-bit code points, the
    first highest), sorted: what is hashed, and — as Python ints — what similarity compares.
    Packing is one-to-one, so the Jaccard index is that of the 3-gram strings."""
    if len(norm) < SHINGLE:
        # A text too short for a 3-gram is one gram of its 1-2 characters, the first lowest.
        keys = [sum(ord(ch) << (21 * i) for i, ch in enumerate(norm))] if norm else []
        return np.array(keys, dtype=np.uint64)
    codes = np.frombuffer(norm.encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    packed = (codes[:-2] << np.uint64(42)) | (codes[1:-1] << np.uint64(21)) | codes[2:]
    return np.unique(packed)


def _keys(norm: str) -> set[int]:
    return set(_key_array(norm).tolist())


def _mixed(keys: np.ndarray) -> np.ndarray:
    # splitmix64's finaliser (_mix) on every key at once; uint64 products wrap mod 2**64.
    x = keys ^ (keys >> np.uint64(30))
    x = x * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(x: int) -> int:
    # splitmix64's finaliser: stable across runs and platforms, unlike hash().
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9 & _MASK64
    x = (x ^ (x >> 27)) * 0x94D049BB133111EB & _MASK64
    return x ^ (x >> 31)


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _simhash_of(hashes: np.ndarray) -> int:
    # Bit k of byte j of each hash is column 8j + k: count the set bits of all 64 columns.
    bits = np.unpackbits(
        hashes.astype("<u8").view(np.uint8).reshape(-1, 8), axis=1, bitorder="little"
    )
    counts = bits.sum(axis=0, dtype=np.int64)
    half = len(hashes) / 2
    value = 0
    for bit, count in enumerate(counts.tolist()):
        if count > half:
            value |= 1 << bit
    return _signed(value)


def simhash(text: str) -> int:
    """64-bit SimHash of the text's character 3-grams, as a signed int (fits BigIntegerField)."""
    return _simhash_of(_mixed(_key_array(normalize(text))))


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


def _bands(hashes: np.ndarray) -> list[int]:
    # The smallest hash >> 5 in each of the 32 bins a hash's low 5 bits pick.
    mins_array = np.full(BINS, _MASK64, dtype=np.uint64)
    np.minimum.at(
        mins_array, (hashes & np.uint64(BINS - 1)).astype(np.intp), hashes >> np.uint64(5)
    )
    mins = mins_array.tolist()
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
    keys = _key_array(normalize(text))
    hashes = _mixed(keys)
    long_enough = len(keys) + SHINGLE - 1 >= MIN_CHARS
    bands = _bands(hashes) if long_enough else None
    return Signature(set(keys.tolist()), _simhash_of(hashes), bands)


# Signatures computed ahead (presign) by text: a batch signs its parsed files before the
# transaction that stores each one, so a second runner is not held behind the CPU work.
_SIGNED: OrderedDict[str, Signature] = OrderedDict()
_SIGNED_SIZE = 256  # a group of 50 files has ~175 pieces; each entry holds ~2,000 ints


_SIGNED_LOCK = threading.Lock()  # batches may run in threads (run_batch_in_thread)


def presign(texts: Iterable[str]) -> None:
    """Compute and keep the signatures of these texts for a coming signed() call."""
    remember({text: signature(text) for text in texts})


def remember(signatures: dict[str, Signature]) -> None:
    """Keep signatures computed elsewhere (a parse process) for coming signed() calls."""
    with _SIGNED_LOCK:
        for text, sig in signatures.items():
            _SIGNED[text] = sig
            _SIGNED.move_to_end(text)
        while len(_SIGNED) > _SIGNED_SIZE:
            _SIGNED.popitem(last=False)


def signed(text: str) -> Signature:
    """signature(text), taken from what presign() kept when it is there (then forgotten)."""
    with _SIGNED_LOCK:
        found = _SIGNED.pop(text, None)
    return found if found is not None else signature(text)


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
    # By id, not the model's order: that would join every candidate to its article to sort.
    rows = rows.order_by("pk")
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
# Kept as uint64 arrays (8 bytes a gram; a set of Python ints takes ~60).
_GRAM_CACHE: OrderedDict[tuple[int, int], np.ndarray] = OrderedDict()
_GRAM_CACHE_SIZE = 5000


def _stored_grams(piece_ids: set[int], hashes: dict[int, int]) -> dict[int, set[int]]:
    from fanwen.library.models import Piece

    out: dict[int, set[int]] = {}
    missing = []
    for piece_id in piece_ids:
        key = (piece_id, hashes[piece_id])
        if key in _GRAM_CACHE:
            _GRAM_CACHE.move_to_end(key)
            out[piece_id] = set(_GRAM_CACHE[key].tolist())
        else:
            missing.append(piece_id)
    if missing:
        for piece_id, text, value in Piece.objects.filter(id__in=missing).values_list(
            "id", "text", "simhash"
        ):
            keys = _GRAM_CACHE[(piece_id, value)] = _key_array(normalize(text))
            out[piece_id] = set(keys.tolist())
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
