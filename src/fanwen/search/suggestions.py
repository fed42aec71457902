"""您是不是要找: the words a reader likely meant when a query finds little or nothing.

The vocabulary comes from the index itself, so it follows the search log on every node like
the rest of the index: each article's title gives entries (its words of two characters or
more, each pair of neighbouring words, and each run of the title up to MAX_ENTRY characters),
indexed twice (fanwen.search.backends: `suggest_pinyin`, `suggest_near`):

- by pinyin without tones (入党申请书 → rudangshenqingshu): a same-sounding character, the
  commonest Chinese typo (申清书, 工做), and a query typed in pinyin find the entry directly;
- by its one-character deletions (SymSpell): a query and an entry one edit apart share a key.

A span of the query is replaced only when it is rare in the index (in at most OWN_RARE
articles) and a candidate is common:
candidates rank by pinyin equality, then edit distance, then how many articles have them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Protocol

from pypinyin import lazy_pinyin

from fanwen.search.analysis import fold, words

# Longest title run (in characters) kept as an entry of its own.
MAX_ENTRY = 16
# Entries one title gives at most (a long title adds little after these).
MAX_ENTRIES = 40
# A query span up to this many characters, or jieba words, is looked up as one.
MAX_SPAN = 16
MAX_WINDOW = 4
# A span in more articles than this is taken as meant (政治 is not a typo of 整治, however
# common that is); a rarer one may be replaced by a candidate RATIO times as common.
OWN_RARE = 2
RATIO = 5
# How far a span's own occurrences are counted.
OWN_CAP = 20
# At most this many runs of a query are corrected (a 60-character query has few).
MAX_RUNS = 8
SEPARATOR = ":"

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_ALL_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LETTERS = re.compile(r"[a-z]+")
_RUNS = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


class Vocabulary(Protocol):
    """What the index answers about its entries (fanwen.search.backends.base)."""

    def entries_by_pinyin(self, key: str) -> dict[str, int]: ...

    def entries_near(self, keys: Iterable[str]) -> dict[str, int]: ...

    def text_frequency(self, text: str, cap: int) -> int: ...


# --- the index side ---------------------------------------------------------------------------


@lru_cache(maxsize=100_000)
def pinyin_key(text: str) -> str:
    """Toneless pinyin run together: 入党申请书 → rudangshenqingshu (ü as v, like the keyboard)."""
    return "".join(lazy_pinyin(text))


def deletions(text: str) -> list[str]:
    """The text with one character left out, each way (none for one or two characters: one
    character left would match far too much)."""
    if len(text) < 3:
        return []
    return list(dict.fromkeys(text[:i] + text[i + 1 :] for i in range(len(text))))


def title_entries(title: str) -> list[str]:
    """The entries a title gives: words (2+ characters), neighbouring word pairs, short runs."""
    entries: list[str] = []
    for match in _RUNS.finditer(fold(title)):
        run = match.group()
        found = [word for word in words(run) if word.isalnum()]
        entries += [word for word in found if len(word) > 1]
        entries += [a + b for a, b in zip(found, found[1:], strict=False)]
        if 1 < len(run) <= MAX_ENTRY:
            entries.append(run)
    # Only entries with Chinese in them: a typo in "2024" or "ppt" is not for us to fix.
    kept = [entry for entry in dict.fromkeys(entries) if _CJK.search(entry)]
    return kept[:MAX_ENTRIES]


def index_terms(title: str) -> tuple[str, str]:
    """The whitespace-separated terms of a title for the (pinyin, near) fields."""
    pinyin: list[str] = []
    near: list[str] = []
    for entry in title_entries(title):
        if _ALL_CJK.fullmatch(entry):
            pinyin.append(f"{pinyin_key(entry)}{SEPARATOR}{entry}")
        near += [f"{key}{SEPARATOR}{entry}" for key in (entry, *deletions(entry))]
    return " ".join(dict.fromkeys(pinyin)), " ".join(dict.fromkeys(near))


# --- the query side ---------------------------------------------------------------------------


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (short strings only: a query span against an entry)."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def _best(
    span: str, vocabulary: Vocabulary, *, by_edit: bool, pinyin: str | None = None
) -> str | None:
    """The entry most likely meant by `span`, or None when the span looks right as it is."""
    key = pinyin if pinyin is not None else pinyin_key(span)
    # (sounds the same: 0, else 1; edit distance; more articles first; the entry)
    ranked = [
        (0, edit_distance(span, entry), -count, entry)
        for entry, count in vocabulary.entries_by_pinyin(key).items()
        if entry != span
    ]
    if by_edit and len(span) >= 3:
        ranked += [
            (1, 1, -count, entry)
            for entry, count in vocabulary.entries_near([span, *deletions(span)]).items()
            if entry != span and edit_distance(span, entry) == 1
        ]
    if not ranked:
        return None
    # Only now how common the span itself is: the term lookups above cost far less.
    own = vocabulary.text_frequency(span, OWN_CAP)
    if own > OWN_RARE:
        return None
    # A span that is in the index as written is not a typo of a different-sounding word.
    ranked = [r for r in ranked if -r[2] >= max(1, RATIO * own) and (r[0] == 0 or own == 0)]
    return min(ranked)[3] if ranked else None


def _correct_run(run: str, vocabulary: Vocabulary) -> str:
    """The run with its likely typos fixed (the run itself when nothing is better)."""
    if _LETTERS.fullmatch(run):
        # Pinyin typed for Chinese (rudang): the letters are the key.
        if len(run) < 2:
            return run
        return _best(run, vocabulary, by_edit=False, pinyin=run) or run
    if not _CJK.search(run) or len(run) < 2:
        return run
    if len(run) <= MAX_SPAN:
        whole = _best(run, vocabulary, by_edit=True)
        if whole is not None:
            return whole
    segments = words(run)
    out: list[str] = []
    i = 0
    while i < len(segments):
        for j in range(min(len(segments), i + MAX_WINDOW), i, -1):
            span = "".join(segments[i:j])
            if j - i == len(segments) or not 2 <= len(span) <= MAX_SPAN:
                continue  # the whole run was tried above
            if j - i == 1:
                if len(span) < 2:
                    continue
                found = _best(span, vocabulary, by_edit=True)
            elif any(len(s) == 1 for s in segments[i:j]):
                # jieba leaves a typo as loose characters: only a same-sounding word joins them.
                found = _best(span, vocabulary, by_edit=False)
            else:
                continue
            if found is not None:
                out.append(found)
                i = j
                break
        else:
            out.append(segments[i])
            i += 1
    return "".join(out)


def suggest(query: str, vocabulary: Vocabulary) -> str:
    """The query as the reader likely meant it, or "" when it looks right (or nothing fits).

    Only the mistyped runs change; quotes, spaces and the rest stay as typed.
    """
    folded = fold(query)
    runs = list(_RUNS.finditer(folded))[:MAX_RUNS]
    if not runs:
        return ""
    # Pinyin split by spaces (rudang shenqingshu) is one word's pinyin more often than two.
    if len(runs) > 1 and all(_LETTERS.fullmatch(m.group()) for m in runs):
        joined = "".join(m.group() for m in runs)
        found = _best(joined, vocabulary, by_edit=False, pinyin=joined)
        if found is not None:
            return found
    pieces: list[str] = []
    position = 0
    changed = False
    for match in runs:
        fixed = _correct_run(match.group(), vocabulary)
        pieces.append(query[position : match.start()])
        if fixed != match.group():
            changed = True
            pieces.append(fixed)
        else:
            pieces.append(query[match.start() : match.end()])
        position = match.end()
    pieces.append(query[position:])
    return "".join(pieces).strip() if changed else ""
