"""The /search page forgives: typos, pinyin, long queries; titles as the article page shows
them; a total that is estimated (约 N 篇) past what could be counted cheaply."""

from __future__ import annotations

import html as htmllib
import re

from django.test import Client

from fanwen import search
from fanwen.search.backends import tantivy as tantivy_backend

from .conftest import write_article

APPLICATION = "本人志愿加入中国共产党，拥护党的纲领。"


def text_of(response) -> str:
    return htmllib.unescape(re.sub(r"<[^>]+>", "", response.content.decode()))


def test_a_query_that_finds_nothing_shows_what_it_likely_meant(client: Client, category):
    article = write_article(category, "入党申请书", APPLICATION)
    search.apply_outbox()
    response = client.get("/search", {"q": "入党申清书"})
    page = response.content.decode()
    assert "没有找到「入党申清书」，以下是「入党申请书」的结果。" in text_of(response)
    assert f'href="/a/{article.pk}.html"' in page
    # A way back to the query exactly as typed.
    assert 'href="?q=%E5%85%A5%E5%85%9A%E7%94%B3%E6%B8%85%E4%B9%A6&amp;exact=1"' in page
    # The box keeps what the reader typed.
    assert 'value="入党申清书"' in page


def test_the_exact_query_finds_nothing_and_offers_the_suggestion(client: Client, category):
    write_article(category, "入党申请书", APPLICATION)
    search.apply_outbox()
    response = client.get("/search", {"q": "入党申清书", "exact": "1"})
    assert "没有找到与“入党申清书”相关的范文" in text_of(response)
    assert "您是不是要找：入党申请书" in text_of(response)
    assert 'href="?q=%E5%85%A5%E5%85%9A%E7%94%B3%E8%AF%B7%E4%B9%A6"' in response.content.decode()


def test_pinyin_finds_the_title(client: Client, category):
    write_article(category, "入党申请书", APPLICATION)
    search.apply_outbox()
    text = text_of(client.get("/search", {"q": "rudang shenqingshu"}))
    assert "以下是「入党申请书」的结果" in text
    assert "找到 1 篇" in text


def test_a_query_with_few_matches_gets_a_suggestion_beside_them(client: Client, category):
    for org in ("社区", "学校", "医院", "街道", "车间"):
        write_article(category, f"{org}工作总结", "回顾一年来的工作。")
    write_article(category, "随笔", "我把工做总结写完了。")
    search.apply_outbox()
    response = client.get("/search", {"q": "工做总结"})
    text = text_of(response)
    # The one article with the typo is found as typed, and the likely words are offered.
    assert "找到 1 篇" in text
    assert "您是不是要找：工作总结" in text
    assert "没有找到「" not in text


def test_a_correct_query_gets_no_suggestion(client: Client, category):
    write_article(category, "入党申请书", APPLICATION)
    search.apply_outbox()
    text = text_of(client.get("/search", {"q": "入党申请书"}))
    assert "您是不是要找" not in text and "以下是「" not in text


def test_titles_show_the_piece_count_as_the_article_page_does(client: Client, category):
    article = write_article(category, "入党申请书", APPLICATION)
    article.piece_count = 3
    article.save()
    search.apply_outbox()
    assert (
        "<mark>入党申请书</mark>(优秀3篇)"
        in client.get("/search", {"q": "入党申请书"}).content.decode()
    )
    # A re-import counts again: the index follows the write.
    article.piece_count = 2
    article.save(update_fields=["piece_count"])
    search.apply_outbox()
    page = client.get("/search", {"q": "入党申请书"}).content.decode()
    assert "<mark>入党申请书</mark>(优秀2篇)" in page and "优秀3篇" not in page
    assert article.display_title == "入党申请书(优秀2篇)"


def test_a_long_query_is_cut_and_the_page_says_so(client: Client, category):
    write_article(category, "入党申请书", APPLICATION)
    search.apply_outbox()
    typed = "入党申请书" + "的" * 70
    text = text_of(client.get("/search", {"q": typed}))
    assert (
        "搜索词最多 60 个字，你输入了 75 个字，只搜索了前 60 个字：「" + typed[:60] + "」" in text
    )
    # A query within the limit gets no such notice.
    assert "搜索词最多" not in text_of(client.get("/search", {"q": "入党申请书"}))


def test_past_what_is_counted_the_total_is_an_estimate_and_pages_still_work(
    client: Client, category, monkeypatch
):
    for n in range(15):
        write_article(category, f"第{n}篇工作计划", "工作有序推进。")
    search.apply_outbox()
    # As if the library were large: nothing is counted past the page.
    monkeypatch.setattr(tantivy_backend, "EXACT_COUNT_MAX", 0)
    first = client.get("/search", {"q": "工作计划"})
    assert "约 15 篇" in text_of(first)
    assert first.content.decode().count('<li>\n      <h2><a href="/a/') == 10
    assert 'rel="next"' in first.content.decode()
    # The last page holds fewer than a page: it knows the total exactly.
    second = text_of(client.get("/search", {"q": "工作计划", "page": "2"}))
    assert "找到 15 篇" in second
    # Past the end: no hits, the real total and a way back.
    third = client.get("/search", {"q": "工作计划", "page": "3"})
    assert "找到 15 篇" in text_of(third) and "这一页之后没有结果了" in text_of(third)
    assert "page=2" in third.content.decode()


def test_an_estimate_never_falls_below_the_hits_already_shown(category, monkeypatch):
    for n in range(25):
        write_article(category, f"第{n}篇工作计划", "工作有序推进。")
    search.apply_outbox()
    monkeypatch.setattr(tantivy_backend, "EXACT_COUNT_MAX", 0)
    results = search.search("工作计划", page=2, per_page=10)
    assert not results.total_exact
    assert results.total >= 21
    assert len(results.hits) == 10
    exact = search.search("工作计划", page=3, per_page=10)
    assert (exact.total, exact.total_exact, len(exact.hits)) == (25, True, 5)
