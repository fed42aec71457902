"""The importer on pages of ten site families it was not written against (tests/sites/).

Each page is parsed as an upload batch would parse it (parse_file, then strip_repeated over
the whole batch) and checked against tests/sites/expectations.json: title, piece titles and
count, intro, category, the genre's own lines kept, and no site chrome left anywhere.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fanwen.library.importer import parse_file
from fanwen.library.importer.boilerplate import strip_repeated
from fanwen.library.importer.structure import strip_title_noise

SITES = Path(__file__).parent / "sites"
EXPECTED: dict[str, dict] = json.loads((SITES / "expectations.json").read_text("utf-8"))
RESULTS: dict[str, bool] = {}


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def parsed():
    names = sorted(EXPECTED)
    articles = [parse_file(SITES / name) for name in names]
    strip_repeated(articles)
    return dict(zip(names, articles, strict=True))


def family(name: str) -> str:
    """'fanwen-3.html' -> 'fanwen'; each hand-written page is a site shape of its own."""
    parts = name.split(".")[0].split("-")
    return "-".join(parts[:2]) if parts[0] == "hand" else parts[0]


def summary_line() -> str | None:
    """'site corpus: 42/42 pages passed (10 site families)', once pages have run (printed by
    conftest.pytest_terminal_summary, also under -qq)."""
    if not RESULTS:
        return None
    families = {family(name) for name in EXPECTED}
    return (
        f"site corpus: {sum(RESULTS.values())}/{len(EXPECTED)} pages passed"
        f" ({len(RESULTS)} run, {len(families)} site families)"
    )


def check(article, expected: dict) -> None:
    texts = [block["text"] for piece in article.pieces for block in piece.blocks]
    assert article.title == expected["title"]
    assert [piece.title for piece in article.pieces] == expected["piece_titles"]
    assert len(article.pieces) == expected["pieces"]
    assert article.intro == expected["intro"]
    if expected["category"]:
        assert article.category_path and article.category_path[-1] == expected["category"]
    # The real title never stays behind as the text's first paragraph (or the intro's).
    first = (article.intro or (texts[0] if texts else "")).split("\n")[0]
    assert _norm(strip_title_noise(first)) != _norm(expected["title"])
    everything = "\n".join(
        [article.title, article.intro] + [piece.title for piece in article.pieces] + texts
    )
    left = [junk for junk in expected["no_chrome"] if junk in everything]
    assert not left, f"chrome left: {left}"
    body = "\n".join(texts)
    missing = [line for line in expected["keep"] if line not in body]
    assert not missing, f"text lost: {missing}"


@pytest.mark.parametrize("name", sorted(EXPECTED), ids=str)
def test_page(parsed, name):
    RESULTS[name] = False
    check(parsed[name], EXPECTED[name])
    RESULTS[name] = True


def test_the_corpus_is_large_and_varied():
    families = {family(name) for name in EXPECTED}
    assert len(EXPECTED) >= 40 and len(families) >= 8
    assert all(entry["no_chrome"] for entry in EXPECTED.values())
