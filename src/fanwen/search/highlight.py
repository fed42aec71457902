"""Hit offsets and snippets, by character offsets into the stored text (never re-joined tokens)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from django.utils.html import escape

from fanwen.search.analysis import fold

SNIPPET_CHARS = 120
ELLIPSIS = "…"
# Text before the first hit, so the snippet starts a little before what was found.
LEAD_CHARS = 16
# Enough hits to pick a good window; a text full of hits does not need them all.
MAX_SPANS = 400
# Texts are scanned for hits this many characters at a time, stopping at the first with any.
SCAN_CHARS = 1500
_SENTENCE_END = "。！？；：!?;:"
_BREAK = re.compile(r"\s*\n\s*")


@lru_cache(maxsize=256)
def _pattern(terms: tuple[str, ...]) -> re.Pattern | None:
    # Longest first: at one position the longer term wins ("文明城市" over "文明").
    ordered = sorted((t for t in terms if t), key=len, reverse=True)
    return re.compile("|".join(map(re.escape, ordered))) if ordered else None


def hit_spans(text: str, terms: tuple[str, ...]) -> list[tuple[int, int]]:
    """[start, end) character offsets in `text` of the folded `terms`, left to right."""
    pattern = _pattern(terms)
    if pattern is None or not text:
        return []
    spans = []
    for match in pattern.finditer(fold(text)):
        spans.append(match.span())
        if len(spans) >= MAX_SPANS:
            break
    return spans


def mark(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` HTML-escaped on one line, each span wrapped in <mark>."""
    out, position = [], 0
    for start, end in spans:
        out.append(escape(_one_line(text[position:start])))
        out.append(f"<mark>{escape(text[start:end])}</mark>")
        position = end
    out.append(escape(_one_line(text[position:])))
    return "".join(out)


def highlight(text: str, terms: tuple[str, ...]) -> str:
    return mark(text, hit_spans(text, terms))


def _best_window(text: str, spans: list[tuple[int, int]], width: int) -> int:
    """Where a window of `width` characters covering the most distinct terms starts."""
    best_start, best_key = spans[0][0], (-1, -1)
    right = 0
    for left, (start, _) in enumerate(spans):
        right = max(right, left)
        while right + 1 < len(spans) and spans[right + 1][1] - start <= width:
            right += 1
        window = spans[left : right + 1]
        key = (len({text[s:e] for s, e in window}), len(window))
        if key > best_key:
            best_start, best_key = start, key
    return best_start


def _one_line(text: str) -> str:
    # A block break after a full stop needs nothing; after a heading a space keeps it apart.
    if "\n" not in text:
        return text
    return _BREAK.sub(
        lambda m: "" if text[m.start() - 1 : m.start()] in _SENTENCE_END else " ", text
    )


def _first_hits(text: str, terms: tuple[str, ...]) -> list[tuple[int, int]]:
    """Hits of the first stretch of `text` that has any: long texts are not scanned to the end."""
    overlap = max(map(len, terms), default=1) - 1
    for position in range(0, len(text), SCAN_CHARS):
        part = text[position : position + SCAN_CHARS + overlap]
        spans = hit_spans(part, terms)
        if spans:
            return [(start + position, end + position) for start, end in spans]
    return []


def snippet(text: str, terms: tuple[str, ...], width: int = SNIPPET_CHARS) -> str:
    """At most `width` visible characters of `text` around its best hits, escaped, hits marked.

    Cut by character offsets of the stored text, so nothing is added between words; a block
    break inside the window becomes nothing (after a full stop) or one space.
    """
    if len(text) <= width:
        return mark(text, hit_spans(text, terms))
    spans = _first_hits(text, terms)
    if not spans:
        return mark(text[: width - 1], []) + ELLIPSIS
    first = _best_window(text, spans, width - 2)
    start = max(0, first - LEAD_CHARS)
    # Start just after a sentence end or a block break when one is close before the hit.
    for i in range(first - 1, start - 1, -1):
        if text[i] in _SENTENCE_END or text[i] == "\n":
            start = i + 1
            break
    lead = ELLIPSIS if start > 0 else ""
    end = min(len(text), start + width - len(lead))
    tail = ""
    if end < len(text):
        end -= 1
        tail = ELLIPSIS
    window = text[start:end]
    return lead + mark(window, hit_spans(window, terms)) + tail


def _distinct_hits(text: str, terms: tuple[str, ...]) -> tuple[int, int]:
    spans = hit_spans(text, terms)
    return len({text[start:end] for start, end in spans}), len(spans)


def free_snippet(
    intro: str, headings: Sequence[str], terms: tuple[str, ...], width: int = SNIPPET_CHARS
) -> str:
    """A result's snippet, from the free parts only: never from the body paragraphs.

    The heading with the most distinct terms says where in the article the hit is; without
    one, the intro says what the article is; without an intro, its first headings. Hits are
    marked wherever they occur; the rules of `snippet()` (width, escaping) hold.
    """
    best, best_key = "", (0, 0)
    for heading in headings:
        key = _distinct_hits(heading, terms)
        if key > best_key:
            best, best_key = heading, key
    if best:
        return snippet(best, terms, width)
    if intro:
        return snippet(intro, terms, width)
    return snippet(" ".join(headings), terms, width)
