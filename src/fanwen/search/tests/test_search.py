"""search(): phrases, highlighting, snippets, categories, pages and what is never found."""

from __future__ import annotations

import datetime as dt
import html
import re

from django.utils import timezone

from fanwen import search
from fanwen.library.models import Article, Category, Piece
from fanwen.search.analysis import parse_query
from fanwen.search.backends import get_backend
from fanwen.search.documents import FreeParts, load
from fanwen.search.highlight import SNIPPET_CHARS, hit_spans, snippet

from .conftest import write_article

FILLER = "坚持每月召开一次例会，通报工作进度，研究解决办法。" * 6


def titles(query: str, **kwargs) -> list[str]:
    return [hit.title for hit in search.search(query, **kwargs).hits]


def visible(snippet_html: str) -> str:
    return html.unescape(re.sub(r"</?mark>", "", snippet_html))


def test_a_quoted_phrase_needs_the_words_side_by_side(category) -> None:
    write_article(category, "创建工作总结", f"我市争创全国文明城市，{FILLER}")
    write_article(category, "城市管理总结", f"倡导文明新风。{FILLER}城市面貌焕然一新。")
    search.apply_outbox()
    assert sorted(titles("文明 城市")) == ["创建工作总结", "城市管理总结"]
    assert titles('"文明城市"') == ["创建工作总结"]
    assert titles("“文明城市”") == ["创建工作总结"]
    # Without quotes the run as written still ranks first.
    assert titles("文明城市")[0] == "创建工作总结"


def test_a_phrase_skips_common_bigrams_yet_stays_exact(category) -> None:
    # 工作 is in every article, so the phrase checks 一线, 线工 and 作法 and not 工作.
    write_article(category, "一线工作法经验", "推行一线工作法，问题解决在基层。")
    write_article(category, "一线工人", "深入一线工地，总结工作方法，总结做法。")
    write_article(category, "线工作法", "第二线工作法和一线工作。")
    for n in range(3):
        write_article(category, f"例会纪要{n}", "通报工作进度。")
    search.apply_outbox()
    assert get_backend()._phrase_terms(("一线", "线工", "工作", "作法")) == [
        (0, "一线"),
        (1, "线工"),
        (3, "作法"),
    ]
    assert titles('"一线工作法"') == ["一线工作法经验"]


def test_every_query_word_must_match(category) -> None:
    write_article(category, "垃圾分类工作总结", "社区开展垃圾分类宣传。")
    write_article(category, "消防安全工作总结", "社区开展消防安全检查。")
    search.apply_outbox()
    assert titles("垃圾分类 总结") == ["垃圾分类工作总结"]
    assert titles("垃圾分类 总结 消防") == []


def test_hit_offsets_are_exact_character_offsets() -> None:
    text = "一、加强领导\n我市争创全国文明城市，文明城市创建成效明显。"
    spans = hit_spans(text, ("文明城市", "文明"))
    assert spans == [(13, 17), (18, 22)]
    assert [text[start:end] for start, end in spans] == ["文明城市", "文明城市"]
    # Traditional text in the stored copy is found by the folded term at the same offsets.
    assert hit_spans("創建文明城市", ("文明城市",)) == [(2, 6)]


def test_a_snippet_is_short_escaped_and_cut_around_the_hit(category) -> None:
    intro = FILLER * 3 + "我们把<垃圾分类>工作列入重要议事日程。" + FILLER * 3
    write_article(category, "垃圾分类工作总结", "垃圾分类", intro=intro)
    search.apply_outbox()
    hit = search.search("垃圾分类").hits[0]
    shown = visible(hit.snippet_html)
    assert len(shown) <= SNIPPET_CHARS
    assert "<mark>垃圾分类</mark>" in hit.snippet_html
    assert "&lt;<mark>垃圾分类</mark>&gt;" in hit.snippet_html
    # Cut from the stored text: nothing added between words, only the ellipses at the ends.
    assert shown.startswith("…") and shown.endswith("…")
    assert shown.strip("…") in intro
    assert " " not in shown


def test_a_snippet_comes_from_the_free_parts_never_from_the_body(category) -> None:
    body = "今年我们组织志愿者深入小区开展垃圾分类入户宣传，发放资料三千份。"
    write_article(
        category,
        "社区工作总结",
        "h1:一、主要做法",
        body,
        "h2:（一）垃圾分类进小区",
        "h2:（二）文明劝导",
        intro="本文介绍社区一年来的工作。",
    )
    write_article(category, "街道工作总结", "h1:一、志愿者队伍建设", body, "h1:二、下一步打算")
    search.apply_outbox()
    by_title = {hit.title: hit.snippet_html for hit in search.search("志愿者 垃圾分类").hits}
    # Found by the body; shown by the heading that holds a hit, else the intro.
    assert by_title == {
        "社区工作总结": "（一）<mark>垃圾分类</mark>进小区",
        "街道工作总结": "一、<mark>志愿者</mark>队伍建设",
    }
    by_title = {hit.title: hit.snippet_html for hit in search.search('"发放资料三千份"').hits}
    # No heading or intro holds the hit: the intro, else the first headings.
    assert by_title == {
        "社区工作总结": "本文介绍社区一年来的工作。",
        "街道工作总结": "一、志愿者队伍建设 二、下一步打算",
    }


def test_the_index_stores_the_free_parts_and_no_body(category) -> None:
    article = write_article(
        category, "党建工作计划", "h1:一、总体要求", "坚持党建引领。", intro="  导语。 "
    )
    Piece.objects.create(
        article=article,
        position=2,
        title="党建工作计划篇二",
        blocks=[{"kind": "h3", "text": "1、学习教育"}, {"kind": "p", "text": "每月学习一次。"}],
    )
    (doc,) = load([article.pk])
    assert doc.free == FreeParts("导语。", ("一、总体要求", "党建工作计划篇二", "1、学习教育"))
    assert FreeParts.loads(doc.free.dumps()) == doc.free
    # The body is searched but nowhere in the stored document.
    search.apply_outbox()
    backend = get_backend()
    searcher = backend.searcher()
    (address,) = [a for _, a in searcher.search(backend.query_for(parse_query("每月学习")), 5).hits]
    stored = [
        value.decode() if isinstance(value, bytes) else str(value)
        for values in searcher.doc(address).to_dict().values()
        for value in values
    ]
    assert any("学习教育" in value for value in stored)
    assert not any("每月学习" in value or "坚持党建引领" in value for value in stored)


def test_a_snippet_joins_blocks_without_spaces_after_full_stops() -> None:
    text = "一、主要做法\n成立工作小组。\n把垃圾分类落到实处。"
    shown = visible(snippet(text, ("垃圾分类",)))
    assert shown == "一、主要做法 成立工作小组。把垃圾分类落到实处。"
    long_text = "甲" * 300 + "垃圾分类" + "乙" * 300
    cut = snippet(long_text, ("垃圾分类",))
    assert len(visible(cut)) == SNIPPET_CHARS
    assert "<mark>垃圾分类</mark>" in cut


def test_a_category_finds_its_descendants(db) -> None:
    summaries = Category.objects.create(name="总结", slug="zongjie")
    year_end = Category.objects.create(name="年终总结", slug="nianzhong", parent=summaries)
    plans = Category.objects.create(name="计划", slug="jihua")
    write_article(summaries, "安全生产工作总结", "安全生产月活动。")
    write_article(year_end, "安全生产年终总结", "安全生产全年无事故。")
    write_article(plans, "安全生产工作计划", "安全生产检查安排。")
    search.apply_outbox()
    assert sorted(titles("安全生产", category_id=summaries.pk)) == [
        "安全生产工作总结",
        "安全生产年终总结",
    ]
    assert titles("安全生产", category_id=year_end.pk) == ["安全生产年终总结"]
    assert titles("安全生产", category_id=plans.pk) == ["安全生产工作计划"]
    # Moving a category moves its articles in the index too.
    year_end.parent = plans
    year_end.save()
    search.apply_outbox()
    assert sorted(titles("安全生产", category_id=plans.pk)) == [
        "安全生产工作计划",
        "安全生产年终总结",
    ]


def test_pages_split_the_results_without_overlap(category) -> None:
    for n in range(7):
        write_article(category, f"志愿服务总结{n}", "志愿服务" * (n + 1))
    search.apply_outbox()
    first = search.search("志愿服务", per_page=3)
    second = search.search("志愿服务", page=2, per_page=3)
    third = search.search("志愿服务", page=3, per_page=3)
    past = search.search("志愿服务", page=4, per_page=3)
    assert first.total == second.total == past.total == 7
    assert [len(first.hits), len(second.hits), len(third.hits), len(past.hits)] == [3, 3, 1, 0]
    ids = [hit.article_id for page in (first, second, third) for hit in page.hits]
    assert len(set(ids)) == 7
    scores = [hit.score for page in (first, second, third) for hit in page.hits]
    assert scores == sorted(scores, reverse=True)
    assert (first.page, first.per_page, second.page) == (1, 3, 2)


def test_only_public_articles_are_found(category) -> None:
    shown = write_article(category, "防溺水安全教育总结", "防溺水")
    write_article(category, "防溺水草稿", "防溺水", status=Article.Status.DRAFT)
    write_article(
        category,
        "防溺水定时发布",
        "防溺水",
        published_at=timezone.now() + dt.timedelta(days=1),
    )
    hidden = write_article(category, "防溺水已隐藏", "防溺水")
    deleted = write_article(category, "防溺水已删除", "防溺水")
    search.apply_outbox()
    hidden.status = Article.Status.HIDDEN
    hidden.save()
    deleted.delete()
    search.apply_outbox()
    results = search.search("防溺水")
    assert [hit.article_id for hit in results.hits] == [shown.pk]
    assert results.total == 1


def test_an_empty_query_finds_nothing_quietly(category) -> None:
    write_article(category, "工作总结", "内容")
    search.apply_outbox()
    for query in ("", "   ", "，。！", '""'):
        results = search.search(query)
        assert (results.total, results.hits, results.query) == (0, [], query)


def test_a_hit_carries_what_the_results_page_shows(category) -> None:
    article = write_article(
        category,
        "社区<志愿服务>活动总结",
        "开展志愿服务活动十二次。",
        intro="本文介绍社区志愿服务情况。",
    )
    search.apply_outbox()
    results = search.search("志愿服务")
    hit = results.hits[0]
    assert hit.article_id == article.pk
    assert hit.title == "社区<志愿服务>活动总结"
    assert hit.title_html == "社区&lt;<mark>志愿服务</mark>&gt;活动总结"
    assert hit.category_id == category.pk
    assert abs((hit.published_at - article.published_at).total_seconds()) < 1
    assert hit.snippet_html == "本文介绍社区<mark>志愿服务</mark>情况。"
    assert hit.score > 0 and results.elapsed_ms > 0


def test_related_articles_share_words_and_exclude_the_article(category) -> None:
    base = write_article(category, "垃圾分类工作总结", "社区推进垃圾分类，设置分类投放点。")
    near = write_article(category, "垃圾分类宣传方案", "开展垃圾分类进社区宣传。")
    write_article(category, "教师节发言稿", "老师们辛苦了。")
    hidden = write_article(category, "垃圾分类隐藏稿", "垃圾分类", status=Article.Status.HIDDEN)
    search.apply_outbox()
    related = search.related(base, limit=5)
    assert related[0] == near.pk
    assert base.pk not in related and hidden.pk not in related
    assert len(search.related(base, limit=1)) == 1


def test_a_query_that_may_match_many_pages_through_the_newest_articles_first(
    category, monkeypatch
) -> None:
    from fanwen.search.backends import tantivy as backend_module

    # A small library in buckets of 4 ids, rings of 4 articles: 30 matches make four rings.
    monkeypatch.setattr(backend_module, "TIER_IDS", 4)
    monkeypatch.setattr(backend_module, "RING_DOCS", 4)
    monkeypatch.setattr(backend_module, "FEW_DOCS", 2)
    # Ids far past the count, as after deletions (or a PostgreSQL sequence that moved on).
    gone = Article.objects.bulk_create(
        [Article(category=category, title=f"已删除{n}", slug=f"gone-{n}") for n in range(100)]
    )
    Article.objects.filter(pk__in=[a.pk for a in gone]).delete()
    made = [
        write_article(category, f"消防演练总结{n}", f"组织消防演练，{FILLER}") for n in range(30)
    ]
    for n in range(5):
        write_article(category, f"例会纪要{n}", FILLER)
    search.apply_outbox()
    backend = get_backend()
    rings = backend._rings(backend.searcher())
    assert len(rings) >= 3 and rings[0][0] == Article.objects.latest("pk").pk // 4
    assert rings[0][0] - 35 // 4 > 8
    seen: list[int] = []
    for page in range(1, 5):
        results = search.search("消防演练", page=page, per_page=10)
        seen += [hit.article_id for hit in results.hits]
    # Every match once, across pages; the newest ring's come first.
    assert sorted(seen) == sorted(a.pk for a in made)
    newest = {a.pk for a in made if a.pk // 4 in rings[0]}
    assert set(seen[: len(newest)]) == newest
    first = search.search("消防演练", page=1, per_page=10)
    # Estimated from the rings read: their matches scaled to the library's 35 articles.
    assert not first.total_exact and 11 <= first.total <= 35
    last = search.search("消防演练", page=3, per_page=10)
    assert (last.total, last.total_exact) == (30, True)
    past_the_end = search.search("消防演练", page=5, per_page=10)
    assert past_the_end.hits == [] and past_the_end.total == 30
