"""The pieces of a check: sentences, 3-gram containment and its tolerance to light edits."""

from __future__ import annotations

from fanwen.checks import matching
from fanwen.checks.tests.conftest import SAFETY, VOLUNTEER
from fanwen.checks.tests.testset import FRESH_SENTENCES

LIBRARY = "".join(SAFETY) + "\n" + "".join(VOLUNTEER)


def grams(text: str = LIBRARY) -> matching.ArticleGrams:
    return matching.article_grams(1, "示例", [text], (1, None))


def score(sentence: str, text: str = LIBRARY) -> float:
    keys, _ = matching.sentence_keys(sentence)
    return grams(text).containment(keys)


def test_sentences_end_at_stops_and_line_ends_and_keep_their_marks():
    draft = "他说：“好。”我们走吧！\n\n第二行没有句号\n一、基本情况；二是问题？"
    assert matching.split_sentences(draft) == [
        ["他说：“好。”", "我们走吧！"],
        ["第二行没有句号"],
        ["一、基本情况；", "二是问题？"],
    ]


def test_a_library_sentence_matches_itself_and_with_a_few_characters_changed():
    assert score(SAFETY[1]) == 1.0
    edited = SAFETY[1].replace("排查", "检查").replace("一千二百", "一千三百")
    assert matching.THRESHOLD <= score(edited) < 1.0


def test_a_fresh_sentence_shares_only_scattered_3_grams():
    assert all(score(sentence) < matching.THRESHOLD for sentence in FRESH_SENTENCES)


def test_two_library_sentences_joined_into_one_still_match():
    joined = VOLUNTEER[0].rstrip("。") + "，" + VOLUNTEER[1]
    assert score(joined) >= matching.THRESHOLD
    # Each half of a library sentence on its own matches too.
    first, second = SAFETY[0].split("，", 1)
    assert score(first + "。") == 1.0 and score(second) == 1.0


def test_traditional_and_full_width_text_matches_the_simplified_library():
    traditional = "針對老舊廠房電線私拉亂接的問題，組織電工逐棟排查，更換老化線路１２００米。"
    library = "针对老旧厂房电线私拉乱接的问题，组织电工逐栋排查，更换老化线路1200米。"
    assert score(traditional, library) == 1.0


def test_short_sentences_are_shown_but_not_judged(db):
    report = matching.check("一、基本情况\n好的。", candidates=lambda *_: [])
    assert [s.judged for s in report.sentences()] == [False, False]
    assert report.judged == 0 and report.share == 0


def test_a_report_survives_being_kept():
    report = matching.Report(
        lines=[[matching.Sentence("甲。", True, 0, 7, 0.9), matching.Sentence("乙。")]],
        sources=[matching.Source(7, "标题", 1)],
        judged=1,
        matched=1,
        chars=4,
        elapsed_ms=12.5,
    )
    again = matching.Report.from_json(report.to_json())
    assert again.to_json() == report.to_json()
    assert again.annotated()[0][0][1].url == "/a/7.html" and again.share == 100


def test_a_rewritten_piece_is_found_by_its_minhash_bands(db):
    from fanwen.checks.tests.conftest import write_article
    from fanwen.library.importer import dedup
    from fanwen.library.models import Category, Piece

    text = "\n".join(FRESH_SENTENCES[:12])
    article = write_article(Category.objects.create(name="总结", slug="zj"), "某总结", text)
    Piece.objects.filter(article=article).update(**dedup.signature_fields(text))
    # A few characters changed here and there: the draft is still mostly that piece.
    rewritten = text.replace("三号楼", "五号楼").replace("四十二家", "三十六家")
    assert matching.band_neighbours(rewritten) == [article.pk]
    assert matching.band_neighbours("\n".join(FRESH_SENTENCES[40:52])) == []
