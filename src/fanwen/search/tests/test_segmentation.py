"""Segmentation: two-character words, words jieba does not know, traditional characters."""

from __future__ import annotations

from fanwen import search
from fanwen.search.analysis import analyze, bigram_stream, fold, parse_query, segmenter, words

from .conftest import write_article


def titles(query: str, **kwargs) -> list[str]:
    return [hit.title for hit in search.search(query, **kwargs).hits]


def test_folding_keeps_every_offset() -> None:
    text = "黨員幹部ＡＢＣ工作總結　2024年"
    folded = fold(text)
    assert folded == "党员干部abc工作总结 2024年"
    assert len(folded) == len(text)


def test_index_and_query_use_the_same_words() -> None:
    text = "创建文明城市工作总结"
    assert analyze(text).words.split() == words(fold(text)) == ["创建", "文明城市", "工作总结"]
    assert parse_query(text).clauses[0].words == ("创建", "文明城市", "工作总结")


def test_the_user_dictionary_keeps_domain_terms_whole(settings, tmp_path) -> None:
    assert words("我的入党申请书和述职报告") == ["我", "的", "入党申请书", "和", "述职报告"]
    custom = tmp_path / "dict.txt"
    custom.write_text("# 自定义\n我的入党 5000 n\n", encoding="utf-8")
    settings.FANWEN_SEARCH_USER_DICT = str(custom)
    assert words("我的入党")[0] == "我的入党"


def test_bigrams_stop_at_punctuation() -> None:
    assert bigram_stream("文明，城市") == "文明 明| |城 城市"


def test_two_character_words_are_found_inside_longer_words(category) -> None:
    # FTS5's trigram tokenizer finds nothing for a query of two characters.
    write_article(category, "支部半年小结", "全体共产党员参加了学习。", "h1:一、年度工作总结")
    write_article(category, "社区活动方案", "组织居民参加义务植树活动。")
    search.apply_outbox()
    assert words("全体共产党员") == ["全体", "共产党员"]
    assert titles("党员") == ["支部半年小结"]
    assert titles("总结") == ["支部半年小结"]
    assert titles("活动") == ["社区活动方案"]


def test_a_name_jieba_does_not_know_is_found_through_bigrams(category) -> None:
    name = "鄢翊珩"
    assert not segmenter().has_word(name)
    write_article(category, "优秀志愿者事迹材料", f"志愿者{name}同志连续三年坚守在服务一线。")
    write_article(category, "志愿者表彰决定", "表彰志愿者翊珩小组和鄢家村服务队。")
    search.apply_outbox()
    # The second article has every character, but never the name as written.
    assert titles(name) == ["优秀志愿者事迹材料"]
    assert titles(f"{name}同志") == ["优秀志愿者事迹材料"]


def test_a_traditional_query_finds_simplified_text(category) -> None:
    write_article(category, "党支部学习总结", "本支部党员认真学习，发挥先锋模范作用。")
    search.apply_outbox()
    assert titles("黨員") == ["党支部学习总结"]
    assert titles("先鋒模範") == ["党支部学习总结"]
    hit = search.search("學習總結").hits[0]
    assert hit.title_html == "党支部<mark>学习总结</mark>"
