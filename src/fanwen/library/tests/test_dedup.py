"""Near-duplicate pieces: signatures, and flagging inside an article and across the library."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fanwen.library.actions import do_get_or_create_category, do_import_article
from fanwen.library.importer import ParsedArticle, ParsedPiece, dedup, parse_file
from fanwen.library.models import Piece

ESSAY = (
    "今年以来，我校以创建文明校园为抓手，把立德树人贯穿教育教学全过程。学校成立了由校长任组长的工作领导小组，"
    "制定了详细的实施方案，明确了每个处室、每个年级的工作任务。我们坚持每月开展一次主题班会，引导学生养成"
    "文明礼貌、勤俭节约、爱护环境的好习惯。在校园环境建设方面，新建了文化长廊和读书角，种植花草树木，"
    "让每一面墙壁都会说话，每一处角落都能育人。经过一年的努力，学校面貌焕然一新，师生的文明素养明显提高。"
)
# The same essay with a few words changed: a typical re-published copy.
ESSAY_EDITED = (
    ESSAY.replace("今年以来", "本年度以来")
    .replace("每月开展一次", "每月举办一次")
    .replace("一年", "一年多")
)
OTHER = (
    "春天来了，公园里的桃花开得正艳，粉红色的花瓣在微风中轻轻摇曳。小朋友们在草地上放风筝，"
    "老人们坐在长椅上晒太阳、聊家常。湖面上，几只小船慢悠悠地划过，留下一道道波纹。我和妈妈沿着湖边散步，"
    "看见柳树垂下长长的枝条，像姑娘的辫子一样。傍晚，夕阳把天空染成了橘红色，我们才依依不舍地回家。"
)


def article_of(*texts: str, title: str = "文明校园创建总结") -> ParsedArticle:
    return ParsedArticle(
        title=title,
        source_format="txt",
        pieces=[
            ParsedPiece(title=f"篇{i}", blocks=[{"kind": "p", "text": t}])
            for i, t in enumerate(texts, 1)
        ],
    )


@pytest.fixture
def category(db):
    return do_get_or_create_category("总结")


# --- signatures ------------------------------------------------------------------------


def test_simhash_is_a_stable_signed_64_bit_integer():
    value = dedup.simhash(ESSAY)
    assert -(2**63) <= value < 2**63
    assert value == dedup.simhash(ESSAY)
    # Fixed for good: stored values must not change between runs or Python versions.
    assert dedup.simhash("工作总结") == dedup.simhash("工作总结")
    assert dedup.simhash("") == 0


def test_simhash_of_near_copies_is_close_and_of_different_texts_is_far():
    near = dedup.hamming(dedup.simhash(ESSAY), dedup.simhash(ESSAY_EDITED))
    far = dedup.hamming(dedup.simhash(ESSAY), dedup.simhash(OTHER))
    assert near <= 12 < 20 <= far


def test_similarity_ignores_punctuation_spacing_and_the_form_of_blanks():
    assert dedup.similarity("由xx同志负责，20__年完成。", "由 __ 同志负责 20xx年完成") == 1.0
    assert dedup.similarity(ESSAY, ESSAY_EDITED) >= dedup.SIMILARITY
    assert dedup.similarity(ESSAY, OTHER) < 0.2


def test_short_pieces_are_never_looked_up():
    assert dedup.signature("此致敬礼").bands is None
    assert dedup.signature(ESSAY).bands is not None


def test_signature_fields_fill_the_simhash_and_band_columns():
    fields = dedup.signature_fields(ESSAY)
    assert set(fields) == {"simhash", *dedup.BAND_FIELDS}
    assert all(isinstance(fields[name], int) for name in dedup.BAND_FIELDS)


# --- within one article ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_near_copy_of_an_earlier_piece_of_the_same_article_is_flagged_and_not_counted(category):
    article, _ = do_import_article(
        article_of(ESSAY, OTHER, ESSAY_EDITED), category=category, publish=False, source_key="k1"
    )
    first, second, third = article.pieces.order_by("position")
    assert third.duplicate_of_id == first.pk
    assert first.duplicate_of_id is None and second.duplicate_of_id is None
    assert article.piece_count == 2
    assert article.count_distinct_pieces() == 2


@pytest.mark.django_db
def test_the_fixture_pair_of_pieces_is_flagged(category, import_fixture):
    article, _ = do_import_article(
        parse_file(import_fixture("volunteer-summary.txt")),
        category=category,
        publish=False,
        source_key="fixture",
    )
    pieces = list(article.pieces.order_by("position"))
    assert pieces[3].duplicate_of_id == pieces[2].pk
    assert article.piece_count == 3
    assert article.display_title == "社区志愿服务工作总结(优秀3篇)"


# --- across the library ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_piece_copied_from_another_article_is_flagged_and_not_counted(category):
    original, _ = do_import_article(
        article_of(ESSAY), category=category, publish=True, source_key="a"
    )
    copy, _ = do_import_article(
        article_of(OTHER, ESSAY_EDITED, title="另一篇总结"),
        category=category,
        publish=False,
        source_key="b",
    )
    source_piece = original.pieces.get()
    copied = copy.pieces.get(position=2)
    assert copied.duplicate_of_id == source_piece.pk
    assert copy.pieces.get(position=1).duplicate_of_id is None
    # A copy, of this article's piece or another's, is shown but not counted in "(优秀N篇)".
    assert copy.piece_count == 1


@pytest.mark.django_db
def test_unrelated_pieces_are_not_flagged(category):
    do_import_article(article_of(ESSAY), category=category, publish=False, source_key="a")
    other, _ = do_import_article(
        article_of(OTHER, title="春游"), category=category, publish=False, source_key="b"
    )
    assert other.pieces.get().duplicate_of_id is None


@pytest.mark.django_db
def test_reimporting_an_article_never_matches_its_own_old_pieces(category):
    article, _ = do_import_article(
        article_of(ESSAY, OTHER), category=category, publish=False, source_key="a"
    )
    again, created = do_import_article(
        article_of(ESSAY_EDITED, OTHER), category=category, publish=False, source_key="a"
    )
    assert not created and again.pk == article.pk
    assert [p.duplicate_of_id for p in again.pieces.order_by("position")] == [None, None]
    assert again.piece_count == 2


@pytest.mark.django_db
def test_the_library_lookup_uses_indexed_bands_not_a_scan(category):
    for n in range(30):
        do_import_article(
            article_of(
                OTHER + f"第{n}次补充说明：今天又去了一趟公园，看到了新开的月季花。",
                title=f"春游{n}",
            ),
            category=category,
            publish=False,
            source_key=f"bulk-{n}",
        )
    do_import_article(article_of(ESSAY), category=category, publish=False, source_key="orig")
    signature = dedup.signature(ESSAY_EDITED)
    with CaptureQueriesContext(connection) as queries:
        [match] = dedup.find_in_library([signature])
    assert match is not None and match.similarity >= dedup.SIMILARITY
    # One probe of the band columns, one read of the few candidate texts.
    assert len(queries) == 2
    assert "dup_band_0" in queries[0]["sql"]
    # Texts are read only for the candidates that passed the screens, not the 30 others.
    ids = re.search(r"IN \(([^)]*)\)", queries[1]["sql"]).group(1).split(",")
    assert len(ids) == 1
    assert Piece.objects.count() == 31
