"""The phrase walker: rebuilding an article's body from search snippets, as a scraper would.

Start from what everyone sees (the title, the intro), search for phrases taken from the end
(and the start) of what has been recovered so far, quoted and unquoted, plus common words;
read the snippet of every hit on every result page; keep the target article's snippets and
walk on from their ends. The measure is the share of the article's body paragraphs (blocks
of kind "p", at least MIN_CHARS long) of which a MIN_CHARS-character run was recovered; a
run that is also in the free parts (a paragraph repeating the title) is public, not a leak.

Used by test_snippet_leak.py and bench/search_leak.py; it reads only what the /search page
shows, through `page_fetcher` (a Django test client).
"""

from __future__ import annotations

import html
import re
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from fanwen.library.models import Article

# Short paragraphs ("同志们：") say nothing; longer ones are what a scraper is after.
MIN_CHARS = 12
# The walker's phrases: long enough to be unique in an article, short enough to fit a snippet.
PHRASE_CHARS = 8
# Result pages read per query before giving up on finding the target there.
PAGES_PER_QUERY = 3
# Words in nearly every model essay: a start when the free parts give nothing to walk from.
COMMON_WORDS = (
    "我们",
    "工作",
    "加强",
    "开展",
    "提高",
    "坚持",
    "同志们",
    "进一步",
    "认真",
    "学习",
    "发展",
    "问题",
    "学生",
    "老师",
    "安全",
    "今年",
    "一是",
    "二是",
    "三是",
)
_HIT = re.compile(r'<h2><a href="/a/(\d+)\.html">.*?</a></h2>\s*<p class="snippet">(.*?)</p>', re.S)
_TAG = re.compile(r"<[^>]+>")
# Runs of text a phrase can be taken from: punctuation ends a phrase in the index too.
_RUN = re.compile(r"[0-9A-Za-z\u3400-\u9fff]+")

# (query, category slug or "", page) → [(article id, visible snippet text)]
Fetch = Callable[[str, str, int], list[tuple[int, str]]]


def page_fetcher(client) -> Fetch:
    """Searches through the /search page and reads every hit's snippet off the HTML."""

    def fetch(query: str, category: str, page: int) -> list[tuple[int, str]]:
        params = {"q": query, "page": str(page)}
        if category:
            params["c"] = category
        response = client.get("/search", params)
        if response.status_code != 200:
            return []
        return [
            (int(pk), html.unescape(_TAG.sub("", snippet)))
            for pk, snippet in _HIT.findall(response.content.decode())
        ]

    return fetch


def body_paragraphs(article: Article) -> list[str]:
    """The texts of the article's body paragraphs worth stealing (kind "p", ≥ MIN_CHARS)."""
    return [text for text in article.body_paragraphs() if len(text) >= MIN_CHARS]


def free_text(article: Article) -> str:
    """Everything every reader sees clean: the title, the intro, piece titles and headings."""
    parts = [article.title, article.intro]
    for piece in article.pieces.order_by("position"):
        parts.append(piece.title)
        parts += [b.get("text", "") for b in piece.blocks if b.get("kind") in ("h1", "h2", "h3")]
    return "\x00".join(parts)


def recovered(paragraphs: list[str], fragments: list[str], public: str = "") -> list[str]:
    """The paragraphs of which some MIN_CHARS-character run, not in `public`, was recovered."""
    haystack = "\x00".join(fragments)
    found = []
    for text in paragraphs:
        runs = (text[i : i + MIN_CHARS] for i in range(len(text) - MIN_CHARS + 1))
        if any(run in haystack and run not in public for run in runs):
            found.append(text)
    return found


@dataclass
class Walk:
    article_id: int
    title: str
    searches: int = 0
    fragments: list[str] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)

    @property
    def share(self) -> float:
        return len(self.found) / len(self.paragraphs) if self.paragraphs else 0.0


def _phrases(fragment: str) -> list[str]:
    """Queries that walk on from a fragment: its end first (forward), then its start."""
    runs = [run for run in _RUN.findall(fragment) if len(run) >= 4]
    if not runs:
        return []
    last, first = runs[-1], runs[0]
    queries = [f'"{last[-PHRASE_CHARS:]}"', last[-4:]]
    if len(runs) > 1 or len(first) > PHRASE_CHARS:
        queries += [f'"{first[:PHRASE_CHARS]}"', first[:4]]
    # A long fragment's middle: a second way in when an end is not unique in the article.
    middle = max(runs, key=len)
    if len(middle) >= 2 * PHRASE_CHARS:
        half = len(middle) // 2
        queries.append(f'"{middle[half : half + PHRASE_CHARS]}"')
    return queries


def _spare_queries(fragments: list[str]) -> Iterator[str]:
    """Quoted four-character runs of every fragment, as the list of fragments grows."""
    done = 0
    while done < len(fragments):
        for run in _RUN.findall(fragments[done]):
            for start in range(0, len(run) - 3, 4):
                yield f'"{run[start : start + 4]}"'
        done += 1


def walk(article: Article, fetch: Fetch, budget: int = 100) -> Walk:
    """Spend up to `budget` searches rebuilding `article`'s body paragraphs from snippets."""
    result = Walk(article.pk, article.title, paragraphs=body_paragraphs(article))
    category = article.category.slug
    queue: deque[str] = deque()
    asked: set[str] = set()
    known: set[str] = set()

    def learn(text: str) -> None:
        for fragment in re.split(r"…+|\s+", text):
            if len(fragment) >= 4 and fragment not in known:
                known.add(fragment)
                result.fragments.append(fragment)
                # Newest fragments first: walking on from the latest end is what rebuilds text.
                queue.extendleft(reversed(_phrases(fragment)))

    queue.extend([f'"{article.title}"', article.title])
    queue.extend(_phrases(article.intro))
    queue.extend(COMMON_WORDS)
    spare = _spare_queries(result.fragments)
    while result.searches < budget:
        # Nothing left to walk from: any short run of what is known may open a new way in.
        query = queue.popleft() if queue else next(spare, None)
        if query is None:
            break
        if query in asked:
            continue
        asked.add(query)
        for page in range(1, PAGES_PER_QUERY + 1):
            if result.searches >= budget:
                break
            hits = fetch(query, category, page)
            result.searches += 1
            ours = [snippet for pk, snippet in hits if pk == article.pk]
            for snippet in ours:
                learn(snippet)
            # Found it, or nothing more to page through: the next query.
            if ours or len(hits) < 10:
                break
    result.found = recovered(result.paragraphs, result.fragments, free_text(article))
    return result
