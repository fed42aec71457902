"""Search results must not rebuild articles: the phrase walker recovers under 10% of any body.

The walker (phrase_walker.py) reads only the /search page, 100 searches per article, on the
demo library and on generated articles; the results page itself must hold no body paragraph.
"""

from __future__ import annotations

import html
import re

import pytest
from django.core.management import call_command
from django.test import Client

from bench.gen_corpus import fill
from fanwen import search
from fanwen.library.models import Article
from fanwen.library.tests.factories import empty_cache  # noqa: F401  (fixture)
from fanwen.search.analysis import parse_query
from fanwen.search.highlight import hit_spans, snippet

from .phrase_walker import (
    MIN_CHARS,
    body_paragraphs,
    free_text,
    page_fetcher,
    recovered,
    walk,
)

BUDGET = 100
GOAL_SHARE = 0.10
# Demo articles walked: the longest bodies of different categories, so one run stays short.
DEMO_ARTICLES = 5
GENERATED_ARTICLES = 3


def longest_per_category(articles: list[Article], count: int) -> list[Article]:
    by_category: dict[int, Article] = {}
    for article in sorted(articles, key=lambda a: -len(body_paragraphs(a))):
        by_category.setdefault(article.category_id, article)
    return list(by_category.values())[:count]


@pytest.fixture
def demo_library(db) -> list[Article]:
    call_command("demo", "--no-serve", verbosity=0)
    search.apply_outbox(limit=10_000)
    return list(Article.objects.published().select_related("category"))


@pytest.fixture
def generated_library(db) -> list[Article]:
    fill(40, seed=11)
    # Generated articles are bulk-inserted past the outbox: one rebuild indexes them.
    call_command("search_reindex", "--no-progress", verbosity=0)
    return list(Article.objects.published().select_related("category"))


def test_the_measure_counts_a_paragraph_once_a_twelve_character_run_of_it_is_known() -> None:
    paragraphs = ["一二三四五六七八九十甲乙丙丁", "子丑寅卯辰巳午未申酉戌亥天地"]
    assert recovered(paragraphs, ["前文一二三四五六七八九十甲乙后文"]) == [paragraphs[0]]
    # Eleven characters in a row, or twelve split over two fragments, are not enough.
    assert recovered(paragraphs, ["子丑寅卯辰巳午未申酉戌", "亥天地"]) == []
    assert recovered(paragraphs, ["二三四五六", "七八九十甲乙丙"]) == []
    # A run the free parts show anyway (the title repeated in the text) gives nothing away.
    assert (
        recovered(paragraphs, ["一二三四五六七八九十甲乙"], public="一二三四五六七八九十甲乙") == []
    )
    assert MIN_CHARS == 12


def test_the_walker_rebuilds_an_article_when_snippets_are_cut_from_its_body(category) -> None:
    # A search that shows snippets of the body (as search once did): the walker must rebuild
    # most of it, else its low figures against the real results page would prove nothing.
    from .conftest import write_article

    sentences = [f"第{n}项工作由第{n}小组负责落实，按期完成第{n}阶段任务。" for n in range(40)]
    article = write_article(category, "年度重点工作安排", *sentences)
    body = "\n".join(sentences)

    def body_snippets(query: str, _category: str, page: int) -> list[tuple[int, str]]:
        terms = parse_query(query).highlight
        if page > 1 or not hit_spans(body, terms):
            return []
        return [(article.pk, re.sub(r"</?mark>", "", html.unescape(snippet(body, terms))))]

    leaky = walk(Article.objects.select_related("category").get(pk=article.pk), body_snippets)
    assert leaky.searches <= BUDGET
    assert leaky.share > 0.5, f"{len(leaky.found)}/{len(leaky.paragraphs)}"


@pytest.mark.usefixtures("empty_cache")
def test_the_walker_recovers_under_a_tenth_of_any_demo_article(
    client: Client, demo_library
) -> None:
    fetch = page_fetcher(client)
    walks = [walk(a, fetch, BUDGET) for a in longest_per_category(demo_library, DEMO_ARTICLES)]
    report = [f"{w.title}: {len(w.found)}/{len(w.paragraphs)} in {w.searches}" for w in walks]
    assert len(walks) == DEMO_ARTICLES
    assert all(w.paragraphs and w.searches > 10 for w in walks), report
    assert max(w.share for w in walks) < GOAL_SHARE, report


@pytest.mark.usefixtures("empty_cache")
def test_the_walker_recovers_under_a_tenth_of_any_generated_article(
    client: Client, generated_library
) -> None:
    fetch = page_fetcher(client)
    targets = longest_per_category(generated_library, GENERATED_ARTICLES)
    walks = [walk(a, fetch, BUDGET) for a in targets]
    report = [f"{w.title}: {len(w.found)}/{len(w.paragraphs)} in {w.searches}" for w in walks]
    assert all(w.paragraphs and w.searches > 10 for w in walks), report
    assert max(w.share for w in walks) < GOAL_SHARE, report


@pytest.mark.usefixtures("empty_cache")
def test_the_results_page_holds_no_body_paragraph(client: Client, demo_library) -> None:
    paragraphs = [p for article in demo_library for p in body_paragraphs(article)]
    public = "\x00".join(free_text(article) for article in demo_library)
    queries = ["工作", "我们", "学生", "安全", "总结", "申请", '"文明城市"', "妈妈", "心得"]
    pages = []
    for query in queries:
        page = client.get("/search", {"q": query}).content.decode()
        assert "找到" in page, query
        pages.append(html.unescape(re.sub(r"<[^>]+>", "", page)))
    leaked = recovered(paragraphs, pages, public)
    assert leaked == [], leaked[:3]
