"""您是不是要找: typos and pinyin lead to the titles of the library (fanwen.search.suggestions)."""

from __future__ import annotations

import pytest

from fanwen import search
from fanwen.library.models import Article
from fanwen.search.suggestions import deletions, edit_distance, index_terms, title_entries

from .conftest import write_article

TEXT = "本人志愿加入中国共产党，拥护党的纲领，遵守党的章程，履行党员义务。"


@pytest.fixture
def library(category):
    write_article(category, "入党申请书", TEXT)
    write_article(category, "大学生入党申请书范文", TEXT)
    write_article(category, "2024年社区工作总结", "今年社区围绕服务群众开展了多项活动。")
    write_article(category, "个人工作总结", "回顾一年来的工作，收获很多。")
    write_article(category, "教师节演讲稿", "老师是辛勤的园丁。")
    search.apply_outbox()


def test_a_same_sounding_character_is_fixed(library) -> None:
    assert search.suggest("入党申清书") == "入党申请书"
    assert search.suggest("工做总结") == "工作总结"


def test_a_different_character_one_edit_away_is_fixed(library) -> None:
    # 诗 (shi) sounds nothing like 请: found by the deletion neighbourhood, not by pinyin.
    assert search.suggest("入党申诗书") == "入党申请书"
    # One character missing.
    assert search.suggest("入党申书") == "入党申请书"


def test_pinyin_with_or_without_spaces_finds_the_title(library) -> None:
    assert search.suggest("rudang shenqingshu") == "入党申请书"
    assert search.suggest("rudangshenqingshu") == "入党申请书"
    assert search.suggest("RuDang ShenQingShu") == "入党申请书"


def test_a_correct_query_gets_no_suggestion(library) -> None:
    assert search.suggest("入党申请书") == ""
    assert search.suggest("工作总结") == ""
    assert search.suggest("教师节") == ""


def test_a_query_with_nothing_plausible_gets_none(library) -> None:
    assert search.suggest("量子纠缠") == ""
    assert search.suggest("hello world") == ""
    assert search.suggest("") == ""


def test_only_the_mistyped_part_of_a_longer_query_changes(library) -> None:
    assert search.suggest("社区 工做总结") == "社区 工作总结"
    assert search.suggest("大学生 入党申清书") == "大学生 入党申请书"


def test_a_new_title_becomes_suggestable_once_the_index_follows_the_log(category) -> None:
    assert search.suggest("竞聘演讲搞") == ""
    write_article(category, "竞聘演讲稿", "尊敬的各位领导。")
    # Written to the log, not applied yet: the index (and so its vocabulary) has not moved.
    assert search.suggest("竞聘演讲搞") == ""
    search.apply_outbox()
    assert search.suggest("竞聘演讲搞") == "竞聘演讲稿"


def test_a_removed_article_no_longer_suggests_its_title(category) -> None:
    article = write_article(category, "竞聘演讲稿", "尊敬的各位领导。")
    search.apply_outbox()
    assert search.suggest("竞聘演讲搞") == "竞聘演讲稿"
    article.status = Article.Status.HIDDEN
    article.save()
    search.apply_outbox()
    assert search.suggest("竞聘演讲搞") == ""


def test_a_forgiving_search_runs_the_suggestion_when_nothing_matches(library) -> None:
    results = search.search("入党申清书", forgive=True)
    assert results.corrected and results.suggestion == "入党申请书"
    assert results.query == "入党申清书"
    assert {hit.title for hit in results.hits} == {"入党申请书", "大学生入党申请书范文"}
    # Not forgiving: nothing, and no suggestion computed.
    plain = search.search("入党申清书")
    assert (plain.total, plain.suggestion, plain.corrected) == (0, "", False)


def test_the_entries_of_a_title_and_their_keys() -> None:
    assert "入党申请书" in title_entries("入党申请书")
    # Words, neighbouring pairs and the run itself.
    assert {"社区", "工作总结", "社区工作总结", "2024年社区工作总结"} <= set(
        title_entries("2024年社区工作总结")
    )
    # Digits alone are never an entry.
    assert "2024" not in title_entries("2024年社区工作总结")
    pinyin, near = index_terms("入党申请书")
    assert "rudangshenqingshu:入党申请书" in pinyin.split()
    assert "入党申书:入党申请书" in near.split()
    assert deletions("工作") == []
    assert edit_distance("入党申清书", "入党申请书") == 1
    assert edit_distance("入党申书", "入党申请书") == 1
    assert edit_distance("工作", "总结") == 2
