"""do_import_article and friends: create, update in place, publish, categories."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fanwen.library.actions import (
    do_get_or_create_category,
    do_get_or_create_category_path,
    do_hide_article,
    do_import_article,
    do_publish_article,
)
from fanwen.library.importer import ParsedArticle, ParsedPiece, parse_file
from fanwen.library.models import Article, Category, Piece

pytestmark = pytest.mark.django_db

TEXT_A = "今年我们深入开展了安全生产大检查，共排查各类隐患八十余处，已经全部整改到位，全年未发生一起安全事故。"
TEXT_B = "下一步我们将继续加强安全教育培训，完善应急预案，定期组织演练，切实提高全员的安全意识和应急处置能力。"
TEXT_C = "在节能降耗方面，我们更换了老旧设备，推行无纸化办公，全年用电量比上年下降了百分之十二，成效明显。"


def parsed(*texts: str, title: str = "安全生产工作总结", editor: str = "") -> ParsedArticle:
    return ParsedArticle(
        title=title,
        source_format="txt",
        intro="安全工作无小事，下面几篇总结供参考。",
        editor_name=editor,
        pieces=[
            ParsedPiece(
                title=f"{title}篇{n}", blocks=[{"kind": "p", "text": text}], placeholders=[]
            )
            for n, text in enumerate(texts, 1)
        ],
    )


@pytest.fixture
def category() -> Category:
    return do_get_or_create_category("总结")


def test_it_creates_a_draft_article_with_its_pieces(category):
    article, created = do_import_article(
        parsed(TEXT_A, TEXT_B, editor="青禾"), category=category, publish=False, source_key="a.txt"
    )
    assert created
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT and article.published_at is None
    assert (article.title, article.editor_name, article.source_format) == (
        "安全生产工作总结",
        "青禾",
        "txt",
    )
    assert article.intro == "安全工作无小事，下面几篇总结供参考。"
    assert article.source_key == "a.txt"
    assert article.piece_count == 2
    pieces = list(article.pieces.order_by("position"))
    assert [(p.position, p.text) for p in pieces] == [(1, TEXT_A), (2, TEXT_B)]
    assert pieces[0].blocks == [{"kind": "p", "text": TEXT_A}]
    assert pieces[0].simhash != 0 and pieces[0].dup_band_0 is not None


def test_the_editor_name_argument_wins_over_the_parsed_one(category):
    article, _ = do_import_article(
        parsed(TEXT_A, editor="青禾"),
        category=category,
        publish=False,
        source_key="a",
        editor_name="值班编辑",
    )
    assert article.editor_name == "值班编辑"


def test_publishing_sets_the_published_time(category):
    article, _ = do_import_article(parsed(TEXT_A), category=category, publish=True, source_key="a")
    assert article.status == Article.Status.PUBLISHED
    assert article.published_at is not None and article.is_public


def test_reimporting_the_same_source_updates_instead_of_duplicating(category):
    first, _ = do_import_article(
        parsed(TEXT_A, TEXT_B, TEXT_C), category=category, publish=True, source_key="a"
    )
    published_at = first.published_at - dt.timedelta(days=3)
    Article.objects.filter(pk=first.pk).update(published_at=published_at)
    old_ids = list(first.pieces.order_by("position").values_list("pk", flat=True))

    again, created = do_import_article(
        parsed(TEXT_C, TEXT_A, title="安全生产工作总结（修订）"),
        category=category,
        publish=True,
        source_key="a",
    )
    assert not created and again.pk == first.pk
    assert Article.objects.count() == 1
    again.refresh_from_db()
    assert again.title == "安全生产工作总结（修订）"
    assert again.content_version == 2
    # An article already out keeps its first publication time.
    assert again.published_at == published_at
    pieces = list(again.pieces.order_by("position"))
    assert [p.text for p in pieces] == [TEXT_C, TEXT_A]
    # Rows are reused by position; the third piece is gone.
    assert [p.pk for p in pieces] == old_ids[:2]
    assert Piece.objects.count() == 2
    assert again.piece_count == 2


def test_reimporting_without_publish_leaves_the_status_alone(category):
    article, _ = do_import_article(parsed(TEXT_A), category=category, publish=True, source_key="a")
    again, _ = do_import_article(parsed(TEXT_B), category=category, publish=False, source_key="a")
    assert again.status == Article.Status.PUBLISHED


def test_it_falls_back_to_the_same_title_in_the_same_category(category):
    handmade = Article.objects.create(category=category, title="安全生产工作总结")
    article, created = do_import_article(
        parsed(TEXT_A), category=category, publish=False, source_key="new.txt"
    )
    assert not created and article.pk == handmade.pk
    assert article.source_key == "new.txt"


def test_a_same_titled_article_from_another_file_is_left_alone(category):
    other, _ = do_import_article(
        parsed(TEXT_A), category=category, publish=False, source_key="one.txt"
    )
    article, created = do_import_article(
        parsed(TEXT_B), category=category, publish=False, source_key="two.txt"
    )
    assert created and article.pk != other.pk
    assert other.pieces.get().text == TEXT_A


def test_a_same_title_in_another_category_is_a_different_article(category):
    Article.objects.create(category=do_get_or_create_category("计划"), title="安全生产工作总结")
    _, created = do_import_article(parsed(TEXT_A), category=category, publish=False, source_key="")
    assert created


def test_a_failing_import_stores_nothing(category, monkeypatch):
    from fanwen.library.importer import dedup

    def explode(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(dedup, "find_in_library", explode)
    with pytest.raises(RuntimeError):
        do_import_article(parsed(TEXT_A), category=category, publish=True, source_key="a")
    assert Article.objects.count() == 0 and Piece.objects.count() == 0


def test_it_stores_the_parsed_placeholders_and_blocks(category, import_fixture):
    article, _ = do_import_article(
        parse_file(import_fixture("volunteer-summary.txt")),
        category=category,
        publish=False,
        source_key="v",
    )
    first = article.pieces.get(position=1)
    assert {"kind": "h2", "text": "(一)完善招募机制"} in first.blocks
    assert first.text == "\n".join(block["text"] for block in first.blocks)
    for ph in first.placeholders:
        assert first.text[ph["start"] : ph["end"]] == ph["text"]
    assert {"year", "name", "number", "unit", "date"} <= {ph["kind"] for ph in first.placeholders}


def test_publish_and_hide_actions(category):
    article, _ = do_import_article(parsed(TEXT_A), category=category, publish=False, source_key="a")
    when = timezone.now() - dt.timedelta(hours=1)
    article = do_publish_article(article, when)
    assert article.is_public and article.published_at == when
    article = do_hide_article(article)
    article.refresh_from_db()
    assert article.status == Article.Status.HIDDEN and not article.is_public
    # Publishing again keeps the first publication time.
    assert do_publish_article(article).published_at == when


def test_categories_are_found_by_slug_or_name_and_created_when_missing():
    existing = Category.objects.create(name="工作总结", slug="zongjie")
    assert do_get_or_create_category("zongjie") == existing
    assert do_get_or_create_category("工作总结") == existing
    created = do_get_or_create_category("演讲稿")
    assert created.name == "演讲稿" and created.slug and created.slug != "zongjie"
    assert do_get_or_create_category("演讲稿") == created
    assert do_get_or_create_category("jihua").slug == "jihua"


def test_a_breadcrumb_path_creates_the_category_tree():
    leaf = do_get_or_create_category_path(["作文", "初中作文"])
    assert leaf.name == "初中作文" and leaf.parent.name == "作文"
    assert do_get_or_create_category_path(["作文", "初中作文"]) == leaf
    assert Category.objects.filter(name="作文").count() == 1
