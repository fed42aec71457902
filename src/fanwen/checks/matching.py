"""原创度检测: which sentences of a draft closely match text in the library.

1. The draft is split into sentences at 。！？；!?; and line ends; a sentence of fewer than
   MIN_CHARS letters, digits and Chinese characters is shown but not judged.
2. Candidates per sentence, cheapest first: the articles earlier sentences matched, the
   articles whose pieces share a MinHash band with the whole draft (importer/dedup: a
   rewritten piece), and then the search index: the rarest character bigram of each of
   QUERY_BIGRAMS stretches of the sentence, as one OR query, top CANDIDATES_PER_SENTENCE.
3. A candidate article's pieces are read from the database once (the index does not store the
   body) and cut into sentences of character 3-grams (dedup's normalisation, after the search
   index's folding, so 繁体 and full-width text match too); the 3-grams are cached per article.
   A sentence matches when at least THRESHOLD of its 3-grams lie in one library sentence (or
   two adjacent ones: two sentences joined into one). A changed character spoils at most three
   3-grams, so light edits still match; fresh text shares only scattered 3-grams.

Nothing here writes anywhere: the draft lives in memory for the length of the call.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from django.db.models import Q

from fanwen.library.importer import dedup
from fanwen.library.models import Article, Piece
from fanwen.search.analysis import bigrams, fold

# Containment of a sentence's 3-grams in one library sentence that counts as a match.
THRESHOLD = 0.5
# Normalised characters a sentence needs to be judged (6 3-grams): "一、基本情况" is not.
MIN_CHARS = 8
CANDIDATES_PER_SENTENCE = 3
# Stretches of a sentence whose rarest bigram the index is asked for: spread enough that a
# few edited characters leave most of the query intact.
QUERY_BIGRAMS = 8
# Articles that matched earlier sentences, tried before asking the index.
EARLIER_SOURCES = 8
# Sentences whose index candidates are read from the database together.
ROUND = 16
BAND_SEEDS = 10
# After this long the rest of the draft is compared only with the articles already read.
DEADLINE_SECONDS = 3.0

# A sentence with its closing marks and quotes: "好。”" stays one sentence.
_SENTENCE = re.compile(r"[^。！？；!?;\n]*[。！？；!?;]+[”’」』）)]*|[^。！？；!?;\n]+")
_STOPS = "。！？；!?;\n"
_BLANK_CHARS = "x×╳□○_"
_RUNS = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_EMPTY_KEYS = np.empty(0, np.uint64)
_EMPTY_SIDS = np.empty(0, np.int32)
DROP, KEEP, STOP = 0, 1, 2


@lru_cache(maxsize=1)
def _classes() -> np.ndarray:
    """What becomes of each BMP character: kept (a letter, digit or Chinese character, as
    dedup keeps them: \\w), a sentence end, or dropped (punctuation, spaces)."""
    table = np.zeros(0x10000, np.uint8)
    for code in range(0x10000):
        char = chr(code)
        if char.isalnum() or char == "_":
            table[code] = KEEP
    for char in _STOPS:
        table[ord(char)] = STOP
    return table


def _codes(text: str) -> tuple[np.ndarray, np.ndarray]:
    """The kept characters of the folded text as code points, and which of them end a sentence.

    Folded like the search index (简体, half-width, lower case), then normalised as dedup
    normalises (letters, digits and Chinese characters; each blank like xx, __, ×× one "_"),
    with the sentence ends kept as marks. Vectorised: a library text is thousands of
    characters, and a check reads hundreds of them.
    """
    text = fold(text)
    if any(char in text for char in _BLANK_CHARS):
        text = dedup._BLANKS.sub("_", text)
    codes = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
    bmp = codes < 0x10000
    kinds = _classes()[np.where(bmp, codes, 0)]
    if not bmp.all():
        # Outside the BMP only the CJK extensions (planes 2-3) are words.
        astral = (codes >= 0x20000) & (codes < 0x40000)
        kinds = np.where(bmp, kinds, np.where(astral, KEEP, DROP)).astype(np.uint8)
    kept = kinds != DROP
    return codes[kept].astype(np.uint64), kinds[kept] == STOP


def text_grams(text: str) -> tuple[np.ndarray, np.ndarray, int]:
    """(3-gram keys, sentence number of each, number of sentences) of a text.

    A 3-gram is three 16-bit characters in one uint64 (a character past the BMP, rare in
    Chinese text, shares its low 16 bits with one inside it); 3-grams that span a sentence end
    are dropped. A 3-gram twice in one sentence is there twice (containment counts distinct
    ones among the few that hit).
    """
    codes, is_stop = _codes(text)
    if codes.size < 3:
        return _EMPTY_KEYS, _EMPTY_SIDS, 1
    codes &= np.uint64(0xFFFF)
    sentence = np.cumsum(is_stop, dtype=np.int32)
    valid = ~(is_stop[:-2] | is_stop[1:-1] | is_stop[2:])
    packed = (codes[:-2] << np.uint64(32)) | (codes[1:-1] << np.uint64(16)) | codes[2:]
    return packed[valid], sentence[:-2][valid], int(sentence[-1]) + 1


def sentence_keys(sentence: str) -> tuple[np.ndarray, int]:
    """(distinct 3-grams, number of letters, digits and Chinese characters) of one sentence."""
    codes, is_stop = _codes(sentence)
    chars = int(codes.size - is_stop.sum())
    keys, _, _ = text_grams(sentence)
    return np.unique(keys), chars


_LOW16 = np.uint64(0xFFFF)
_SHIFT = np.uint64(16)


@dataclass
class ArticleGrams:
    """An article's sentences as 3-grams: what a draft sentence is compared with."""

    article_id: int
    title: str
    # key << 16 | sentence (numbered across the pieces), sorted: one array, sorted once.
    entries: np.ndarray
    version: tuple

    @property
    def size(self) -> int:
        return int(self.entries.size)

    def containment(self, keys: np.ndarray) -> float:
        """The largest share of `keys` (distinct) found in one sentence here, or in two
        adjacent ones (two sentences joined into one)."""
        need = len(keys)
        if not need or not self.entries.size:
            return 0.0
        low = keys << _SHIFT
        left = np.searchsorted(self.entries, low, "left")
        right = np.searchsorted(self.entries, low | _LOW16, "right")
        counts = right - left
        found = counts > 0
        # Keys found anywhere in the article bound what any one sentence holds.
        if found.sum() < THRESHOLD * need:
            return 0.0
        counts = counts[found]
        # Every (key, place) hit: key number i, at the positions left[i] .. right[i] - 1.
        which = np.repeat(np.flatnonzero(found), counts)
        starts = np.repeat(left[found] - np.cumsum(counts) + counts, counts)
        sids = (self.entries[starts + np.arange(which.size)] & _LOW16).astype(np.int64)
        # A key twice in one sentence counts once.
        pairs = np.unique(sids * need + which)
        hit_sids = pairs // need
        per_sentence = np.bincount(hit_sids)
        best = int(per_sentence.max())
        if best >= THRESHOLD * need or per_sentence.size < 2:
            return best / need
        pair = int(np.argmax(per_sentence[:-1] + per_sentence[1:]))
        if per_sentence[pair] + per_sentence[pair + 1] < THRESHOLD * need:
            return best / need
        in_pair = (hit_sids == pair) | (hit_sids == pair + 1)
        return max(best, len(np.unique(pairs[in_pair] % need))) / need


def article_grams(article_id: int, title: str, texts: list[str], version: tuple) -> ArticleGrams:
    # Pieces joined at a sentence end: one pass over the article.
    keys, sids, _ = text_grams("\n".join(texts))
    # Past 65,535 sentences (no article has them) the rest count as the last one.
    entries = (keys << _SHIFT) | np.minimum(sids, 0xFFFF).astype(np.uint64)
    entries.sort()
    return ArticleGrams(article_id, title, entries, version)


# Articles read for earlier checks, by id; an entry is good while the article's version and
# update time are unchanged. Bounded by 3-grams held (8 bytes each: ~24 MB per process,
# some 400 articles of the generated library's size).
_CACHE: OrderedDict[int, ArticleGrams] = OrderedDict()
_CACHE_GRAMS = 3_000_000
_cache_size = 0
_cache_lock = threading.Lock()


def _cache_put(grams: ArticleGrams) -> None:
    global _cache_size
    with _cache_lock:
        old = _CACHE.pop(grams.article_id, None)
        if old is not None:
            _cache_size -= old.size
        _CACHE[grams.article_id] = grams
        _cache_size += grams.size
        while _cache_size > _CACHE_GRAMS and len(_CACHE) > 1:
            _, dropped = _CACHE.popitem(last=False)
            _cache_size -= dropped.size


def clear_cache() -> None:
    global _cache_size
    with _cache_lock:
        _CACHE.clear()
        _cache_size = 0


def load_articles(ids: list[int]) -> dict[int, ArticleGrams]:
    """The 3-grams of those articles that are public now (cached, else read and cut)."""
    if not ids:
        return {}
    rows = (
        Article.objects.published()
        .filter(pk__in=ids)
        .order_by()
        .values_list("pk", "title", "content_version", "updated_at")
    )
    found: dict[int, ArticleGrams] = {}
    missing: dict[int, tuple[str, tuple]] = {}
    for pk, title, content_version, updated_at in rows:
        version = (content_version, updated_at)
        with _cache_lock:
            cached = _CACHE.get(pk)
            if cached is not None and cached.version == version:
                _CACHE.move_to_end(pk)
                found[pk] = cached
                continue
        missing[pk] = (title, version)
    if missing:
        texts: dict[int, list[str]] = {pk: [] for pk in missing}
        pieces = (
            Piece.objects.filter(article_id__in=list(missing))
            .order_by("article_id", "position")
            .values_list("article_id", "text")
        )
        for article_id, text in pieces:
            texts[article_id].append(text)
        for pk, (title, version) in missing.items():
            grams = article_grams(pk, title, texts[pk], version)
            _cache_put(grams)
            found[pk] = grams
    return found


# --- candidates --------------------------------------------------------------------------


class IndexCandidates:
    """Published articles whose indexed body shares the rarest bigrams of a sentence."""

    def __init__(self) -> None:
        from fanwen.search.backends import get_backend
        from fanwen.search.backends.tantivy import TantivyBackend
        from fanwen.search.follow import before_search

        backend = get_backend()
        self.backend = backend if isinstance(backend, TantivyBackend) else None
        # An empty index (a new node rebuilding it) would make every draft look original.
        self.ready = False
        if self.backend is None:
            return
        before_search(backend)
        self.searcher = backend.searcher()
        self.ready = self.searcher.num_docs > 0
        self.freq: dict[str, int] = {}

    def _doc_freq(self, gram: str) -> int:
        found = self.freq.get(gram)
        if found is None:
            found = self.freq[gram] = self.searcher.doc_freq("body_bigrams", gram)
        return found

    def pick(self, sentence: str) -> list[str]:
        """The rarest bigram (in the index) of each of QUERY_BIGRAMS stretches of the sentence:
        spread out, so that a few edited characters, which make rare bigrams of their own,
        leave most of the query to the sentence as the library has it."""
        grams = list(
            dict.fromkeys(gram for run in _RUNS.split(fold(sentence)) for gram in bigrams(run))
        )
        rated = [(self._doc_freq(gram), gram) for gram in grams]
        rated = [pair for pair in rated if pair[0] > 0]
        size = max(1, -(-len(rated) // QUERY_BIGRAMS))
        return [min(rated[i : i + size])[1] for i in range(0, len(rated), size)]

    def __call__(self, sentence: str, limit: int) -> list[int]:
        if self.backend is None:
            return []
        from tantivy import Occur, Query

        picked = self.pick(sentence)
        if not picked:
            return []
        schema = self.backend.schema
        any_of = Query.boolean_query(
            [(Occur.Should, Query.term_query(schema, "body_bigrams", gram)) for gram in picked]
        )
        # Unfiltered: the publication-time filter costs more than the query (1 ms against
        # 0.8 ms at 100k articles); load_articles keeps only what is public now anyway.
        result = self.searcher.search(any_of, limit, count=False)
        addresses = [address for _, address in result.hits]
        return [int(pk) for pk in self.searcher.fast_field_values("id", addresses)]


def band_neighbours(text: str) -> list[int]:
    """Articles with a piece sharing a MinHash band with the whole text (a rewritten piece)."""
    sig = dedup.signature(text)
    if not sig.comparable:
        return []
    query = Q()
    for name, band in zip(dedup.BAND_FIELDS, sig.bands, strict=True):
        query |= Q(**{name: band})
    # Unordered: an ORDER BY would have the database walk the whole table by id for a draft
    # that shares no band, instead of probing the eight band indexes.
    rows = Piece.objects.filter(query).order_by().values_list("article_id", flat=True)
    return list(dict.fromkeys(rows[: BAND_SEEDS * 4]))[:BAND_SEEDS]


# --- the check ---------------------------------------------------------------------------


@dataclass
class Sentence:
    text: str  # as written, closing marks included
    judged: bool = False
    source: int | None = None  # index into Report.sources
    article_id: int | None = None
    score: float = 0.0


@dataclass
class Source:
    article_id: int
    title: str
    sentences: int = 0

    @property
    def url(self) -> str:
        return f"/a/{self.article_id}.html"


@dataclass
class Report:
    lines: list[list[Sentence]] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)  # most matched sentences first
    judged: int = 0
    matched: int = 0
    chars: int = 0
    # Judged sentences the index was not asked about: past the deadline, or no index yet.
    unchecked: int = 0
    elapsed_ms: float = 0.0

    @property
    def share(self) -> int:
        """Percent of the judged sentences that match library text."""
        return round(100 * self.matched / self.judged) if self.judged else 0

    @property
    def top_sources(self) -> list[Source]:
        return self.sources[:5]

    @property
    def original(self) -> int:
        return 100 - self.share

    @property
    def more_sources(self) -> int:
        return max(0, len(self.sources) - 5)

    def sentences(self) -> list[Sentence]:
        return [sentence for line in self.lines for sentence in line]

    def annotated(self) -> list[list[tuple[Sentence, Source | None]]]:
        """The draft's lines as (sentence, its source or None): what the page marks."""
        return [
            [(s, self.sources[s.source] if s.source is not None else None) for s in line]
            for line in self.lines
        ]

    def to_json(self) -> dict:
        return {
            "lines": [
                [[s.text, s.judged, s.source, round(s.score, 3)] for s in line]
                for line in self.lines
            ],
            "sources": [[s.article_id, s.title, s.sentences] for s in self.sources],
            "judged": self.judged,
            "matched": self.matched,
            "chars": self.chars,
            "unchecked": self.unchecked,
            "elapsed_ms": round(self.elapsed_ms, 1),
        }

    @classmethod
    def from_json(cls, data: dict) -> Report:
        sources = [Source(pk, title, count) for pk, title, count in data["sources"]]
        lines = [
            [
                Sentence(
                    text,
                    judged,
                    source,
                    sources[source].article_id if source is not None else None,
                    score,
                )
                for text, judged, source, score in line
            ]
            for line in data["lines"]
        ]
        return cls(
            lines,
            sources,
            data["judged"],
            data["matched"],
            data["chars"],
            data.get("unchecked", 0),
            data.get("elapsed_ms", 0.0),
        )


def split_sentences(draft: str) -> list[list[str]]:
    """The draft's non-empty lines, each as its sentences (closing marks kept)."""
    lines = []
    for line in draft.splitlines():
        parts = [part for part in _SENTENCE.findall(line.strip()) if part.strip()]
        if parts:
            lines.append(parts)
    return lines


class _Matcher:
    """The articles read so far for one draft, and how many sentences each has matched."""

    def __init__(self, loaded: dict[int, ArticleGrams]) -> None:
        self.loaded = loaded
        self.tally: dict[int, int] = dict.fromkeys(loaded, 0)

    def best(self, keys: np.ndarray, ids) -> tuple[int | None, float]:
        best_id, best = None, 0.0
        for pk in ids:
            grams = self.loaded.get(pk)
            if grams is not None:
                score = grams.containment(keys)
                if score > best:
                    best_id, best = pk, score
        return best_id, best

    def earlier(self) -> list[int]:
        return sorted(self.tally, key=self.tally.__getitem__, reverse=True)[:EARLIER_SOURCES]

    def take(self, sentence: Sentence, pk: int | None, score: float) -> bool:
        if pk is None or score < THRESHOLD:
            return False
        sentence.article_id, sentence.score = pk, score
        self.tally[pk] = self.tally.get(pk, 0) + 1
        return True


def check(draft: str, candidates: IndexCandidates | None = None) -> Report:
    """Compare every sentence of `draft` with the library (see the module)."""
    started = time.monotonic()
    deadline = started + DEADLINE_SECONDS
    report = Report(
        lines=[[Sentence(text) for text in line] for line in split_sentences(draft)],
        chars=len(draft),
    )
    judged: list[tuple[Sentence, np.ndarray]] = []
    for sentence in report.sentences():
        keys, chars = sentence_keys(sentence.text)
        if chars >= MIN_CHARS:
            sentence.judged = True
            judged.append((sentence, keys))
    report.judged = len(judged)
    if not judged:
        return report
    index = candidates if candidates is not None else IndexCandidates()
    matcher = _Matcher(load_articles(band_neighbours(draft)))
    waiting = iter(judged)
    while True:
        # A round: the next sentences the articles read so far do not explain ask the index;
        # their candidates are read together (two queries), then compared.
        batch = []
        for sentence, keys in waiting:
            tried = matcher.earlier()
            if not matcher.take(sentence, *matcher.best(keys, tried)):
                batch.append((sentence, keys, tried))
                if len(batch) == ROUND:
                    break
        if not batch:
            break
        if time.monotonic() > deadline or not getattr(index, "ready", True):
            report.unchecked += len(batch)
            continue
        asked = [
            [pk for pk in index(sentence.text, CANDIDATES_PER_SENTENCE) if pk not in tried]
            for sentence, _, tried in batch
        ]
        new = {pk for ids in asked for pk in ids if pk not in matcher.loaded}
        for pk, grams in load_articles(sorted(new)).items():
            matcher.loaded[pk] = grams
        for (sentence, keys, _), ids in zip(batch, asked, strict=True):
            matcher.take(sentence, *matcher.best(keys, ids))
    counts: dict[int, int] = {}
    for sentence, _ in judged:
        if sentence.article_id is not None:
            counts[sentence.article_id] = counts.get(sentence.article_id, 0) + 1
    # Most sentences first; ties in the order the draft first uses them.
    order = sorted(counts, key=lambda pk: -counts[pk])
    report.sources = [Source(pk, matcher.loaded[pk].title, counts[pk]) for pk in order]
    position = {pk: i for i, pk in enumerate(order)}
    for sentence, _ in judged:
        if sentence.article_id is not None:
            sentence.source = position[sentence.article_id]
    report.matched = sum(counts.values())
    report.elapsed_ms = (time.monotonic() - started) * 1000
    return report
