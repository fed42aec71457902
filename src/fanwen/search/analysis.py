"""One segmentation for the index and the query: folding, jieba words and character bigrams.

Text is folded character by character (traditional → simplified, full-width → half-width,
upper → lower case), so folded text has the same length as the original and every offset
found in it is an offset into the text the reader sees. Words come from jieba's precise
mode (rjieba) with the domain user dictionary; bigrams cover words jieba does not know and
make quoted phrases exact: a phrase of bigrams at consecutive positions is a substring.
"""

from __future__ import annotations

import re
import threading
from array import array
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import rjieba
from django.conf import settings

BUNDLED_USER_DICT = Path(__file__).with_name("userdict.txt")
# Everything but letters, digits and CJK ideographs separates runs; in the bigram stream a
# separator becomes "|", so no bigram (and no phrase) reaches across punctuation.
_SEPARATORS = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_QUOTED = re.compile(r'"([^"]*)"|“([^”]*)”|「([^」]*)」')
_STRAY_QUOTES = re.compile(r'["“”「」]')
# Spaces typed inside a quoted Chinese phrase are not part of the text it looks for.
_SPACE_NEAR_CJK = re.compile(r"(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])")
MAX_CLAUSES = 12
_lock = threading.Lock()


_ASCII_LOWER = {code: chr(code + 32) for code in range(ord("A"), ord("Z") + 1)}


def _in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


@lru_cache(maxsize=1)
def _fold_table() -> dict[int, str]:
    from zhconv import zhconv

    zhconv.loaddict()
    table = {
        ord(trad): simp
        for trad, simp in zhconv.zhcdicts["zh2Hans"].items()
        if len(trad) == 1 and len(simp) == 1 and trad != simp and not _in_gb2312(trad)
    }
    # Full-width letters and digits; full-width punctuation separates words either way.
    for first, last in (("０", "９"), ("Ａ", "Ｚ"), ("ａ", "ｚ")):
        for code in range(ord(first), ord(last) + 1):
            table[code] = chr(code - 0xFEE0).lower()
    table[0x3000] = " "
    return table


_WIDE = re.compile("[０-９Ａ-Ｚａ-ｚ\u3000]")


def _needs_table(text: str) -> bool:
    # The table maps no GB2312 character (乾, 著 stay as they are), so text GB2312 encodes has
    # nothing to fold but wide letters, and the codec checks that far faster than translating.
    try:
        text.encode("gb2312")
    except UnicodeEncodeError:
        return True
    return _WIDE.search(text) is not None


def fold(text: str) -> str:
    """Simplified, half-width, lower-case; always the same length as `text`."""
    if _needs_table(text):
        text = text.translate(_fold_table())
    lowered = text.lower()
    # A few letters grow when lowered (İ); then only ASCII is lowered.
    return lowered if len(lowered) == len(text) else text.translate(_ASCII_LOWER)


def _user_dict_path() -> Path:
    configured = getattr(settings, "FANWEN_SEARCH_USER_DICT", "")
    return Path(configured) if configured else BUNDLED_USER_DICT


@lru_cache(maxsize=4)
def _segmenter(path: str) -> rjieba.Jieba:
    jieba = rjieba.Jieba()
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        freq = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else None
        tag = fields[2] if len(fields) > 2 else None
        # The dictionary is folded like the text, so a traditional entry still applies.
        jieba.add_word(fold(fields[0]), freq, tag)
    return jieba


def segmenter() -> rjieba.Jieba:
    with _lock:
        return _segmenter(str(_user_dict_path()))


def words(folded: str) -> list[str]:
    """jieba precise-mode words of folded text, punctuation and spaces dropped."""
    return [word for word in segmenter().cut(folded) if word.isalnum()]


def bigram_stream(folded: str) -> str:
    """Space-separated character bigrams, with "|" where punctuation or spaces were."""
    text = _SEPARATORS.sub("|", folded)
    n = len(text)
    if n < 2:
        return text
    # Interleave text[i], text[i+1] and a space as UTF-32 code units: C speed, no per-bigram
    # string objects (this is half the indexing time otherwise).
    chars = array("I")
    chars.frombytes(text.encode("utf-32-le"))
    out = array("I", [32]) * (3 * (n - 1))
    out[0::3] = chars[:-1]
    out[1::3] = chars[1:]
    return out.tobytes().decode("utf-32-le")[:-1]


def bigrams(run: str) -> list[str]:
    """The bigrams of one run of letters/digits/ideographs (a query clause)."""
    return [run[i : i + 2] for i in range(len(run) - 1)]


@dataclass(frozen=True)
class Analyzed:
    """What the index stores for one text: words and bigrams, each space-separated."""

    words: str
    bigrams: str


# Analyses made ahead (a parse process analyses an imported article's title and text while
# the batch's runner stores earlier files): the next analyze() of that text takes it.
_AHEAD: OrderedDict[str, Analyzed] = OrderedDict()
_AHEAD_SIZE = 1024  # an import batch indexes every 500 articles: a title and a text each
_ahead_lock = threading.Lock()


def remember(analyzed: dict[str, Analyzed]) -> None:
    """Keep analyses computed elsewhere for the coming analyze() of the same texts."""
    with _ahead_lock:
        for text, result in analyzed.items():
            _AHEAD[text] = result
            _AHEAD.move_to_end(text)
        while len(_AHEAD) > _AHEAD_SIZE:
            _AHEAD.popitem(last=False)


def analyze(text: str) -> Analyzed:
    with _ahead_lock:
        ahead = _AHEAD.pop(text, None)
    if ahead is not None:
        return ahead
    folded = fold(text)
    return Analyzed(" ".join(words(folded)), bigram_stream(folded))


def analyze_pair(pair: tuple[str, str]) -> tuple[Analyzed, Analyzed]:
    """(title, text) → analyzed title and text; top-level so a process pool can run it."""
    return analyze(pair[0]), analyze(pair[1])


@dataclass(frozen=True)
class Clause:
    """One run of the query: all of its words, or the run itself as a substring, must match.

    A quoted run (`phrase`) must appear as written.
    """

    text: str
    words: tuple[str, ...]
    bigrams: tuple[str, ...]
    phrase: bool


@dataclass(frozen=True)
class ParsedQuery:
    clauses: tuple[Clause, ...]
    # Folded strings to mark in titles and snippets, longest first.
    highlight: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.clauses)


def _clauses(text: str, phrase: bool) -> list[Clause]:
    found = []
    for run in _SEPARATORS.split(fold(text)):
        if run:
            found.append(Clause(run, tuple(words(run)), tuple(bigrams(run)), phrase))
    return found


def parse_query(query: str) -> ParsedQuery:
    """Quoted parts ("…", “…”, 「…」) are phrases; the rest is words, split like the index."""
    clauses: list[Clause] = []
    rest = []
    position = 0
    for match in _QUOTED.finditer(query):
        rest.append(query[position : match.start()])
        quoted = next(group for group in match.groups() if group is not None)
        clauses += _clauses(_SPACE_NEAR_CJK.sub("", quoted), phrase=True)
        position = match.end()
    rest.append(query[position:])
    clauses += _clauses(_STRAY_QUOTES.sub(" ", " ".join(rest)), phrase=False)
    unique = list(dict.fromkeys(clauses))[:MAX_CLAUSES]
    marks: list[str] = []
    for clause in unique:
        marks.append(clause.text)
        if not clause.phrase:
            # Single characters would light up half the text; they count as part of a run.
            marks += [word for word in clause.words if len(word) > 1]
    highlight = sorted(dict.fromkeys(marks), key=len, reverse=True)
    return ParsedQuery(tuple(unique), tuple(highlight))


def related_terms(text: str, limit: int = 24) -> list[str]:
    """The distinct words (two characters or more) of a text, in order: a related-articles query."""
    seen = dict.fromkeys(word for word in words(fold(text)) if len(word) > 1)
    return list(seen)[:limit]
