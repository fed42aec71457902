"""The desk's writes (library/actions.py): edit a piece as text, drop, merge, and the
publishing rules — 定时发布 and the worker job that publishes it."""

from __future__ import annotations

import datetime as dt
import io
import threading

import pytest
from django.core.management import call_command
from django.utils import timezone

from fanwen.library.actions import (
    EditRefused,
    do_drop_piece,
    do_edit_piece,
    do_merge_pieces,
    do_publish_article,
    publish_scheduled,
)
from fanwen.library.importer import dedup
from fanwen.library.models import Article, Category
from fanwen.ops.management.commands.worker import JOBS
from fanwen.search.models import SearchOutbox
from fanwen.staff.tests.article_data import (
    READING,
    SAFETY,
    SAFETY_COPY,
    VOLUNTEER,
    blocks_of,
    store_article,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def category() -> Category:
    return Category.objects.create(name="工作总结", slug="zongjie")


def piece_at(article: Article, position: int):
    return article.pieces.get(position=position)


def test_editing_a_piece_rereads_headings_placeholders_and_signature(category):
    article = store_article(category, "年度总结", SAFETY, VOLUNTEER)
    version = article.content_version

    text = "一、总体情况\nxx社区今年新建志愿服务站三个，服务__人次，群众满意度明显提高了很多。"
    piece = do_edit_piece(piece_at(article, 2), title="新的篇名", text=text)

    assert piece.title == "新的篇名"
    assert piece.blocks == [
        {"kind": "h1", "text": "一、总体情况"},
        {"kind": "p", "text": text.splitlines()[1]},
    ]
    assert piece.text == text
    assert [(p["text"], p["kind"]) for p in piece.placeholders] == [
        ("xx", "unit"),
        ("__", "number"),
    ]
    fields = dedup.signature_fields(text)
    assert piece.simhash == fields["simhash"] and piece.dup_band_0 == fields["dup_band_0"]
    article.refresh_from_db()
    assert article.content_version == version + 1


def test_an_edit_that_copies_another_piece_is_flagged_and_not_counted(category):
    article = store_article(category, "年度总结", SAFETY, VOLUNTEER, READING)
    assert article.piece_count == 3

    do_edit_piece(piece_at(article, 3), title="篇三", text=f"一、基本情况\n{SAFETY_COPY}")
    article.refresh_from_db()
    assert piece_at(article, 3).duplicate_of_id == piece_at(article, 1).pk
    assert article.piece_count == 2 and article.display_title == "年度总结(优秀2篇)"

    # Written back to its own words, it counts again.
    do_edit_piece(piece_at(article, 3), title="篇三", text=f"一、基本情况\n{READING}")
    article.refresh_from_db()
    assert piece_at(article, 3).duplicate_of_id is None and article.piece_count == 3


def test_an_edit_that_copies_a_piece_of_another_article_is_flagged(category):
    other = store_article(category, "安全生产总结", SAFETY, publish=True)
    article = store_article(category, "年度总结", VOLUNTEER, READING)

    do_edit_piece(piece_at(article, 2), title="篇二", text=f"一、基本情况\n{SAFETY_COPY}")

    assert piece_at(article, 2).duplicate_of_id == piece_at(other, 1).pk
    # Another article's copy is flagged for the editor and no longer counted in (优秀N篇).
    article.refresh_from_db()
    assert article.piece_count == 1


def test_an_edit_away_from_the_original_clears_copies_in_other_articles(category):
    original = store_article(category, "安全生产总结", SAFETY, publish=True)
    copy = store_article(category, "年度总结", SAFETY_COPY)
    assert piece_at(copy, 1).duplicate_of_id == piece_at(original, 1).pk

    do_edit_piece(piece_at(original, 1), title="篇一", text=READING)

    assert piece_at(copy, 1).duplicate_of_id is None
    copy.refresh_from_db()
    assert copy.piece_count == 1  # counted again once it is no longer a copy


def test_an_edit_leaves_search_outbox_rows_in_its_transaction(
    category, django_capture_on_commit_callbacks
):
    article = store_article(category, "年度总结", SAFETY, publish=True)
    SearchOutbox.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=False):
        do_edit_piece(piece_at(article, 1), title="篇一", text=VOLUNTEER)
        assert set(SearchOutbox.objects.values_list("article_id", "op")) == {(article.pk, "index")}


def test_an_edit_of_a_published_article_rebuilds_its_font(
    category, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from fanwen.protection import fonts

    settings.FANWEN_PROTECTION = "font"
    article = store_article(category, "年度总结", SAFETY, publish=True)
    built = []
    monkeypatch.setattr(
        fonts, "schedule_build", lambda a, **kw: built.append((a.pk, a.content_version))
    )
    with django_capture_on_commit_callbacks(execute=True):
        do_edit_piece(piece_at(article, 1), title="篇一", text=VOLUNTEER)
    assert built == [(article.pk, article.content_version + 1)]
    # The font's key carries the version: the old font is not served for the new text.
    article.refresh_from_db()
    assert fonts._key(article, {"字"}, 1).version == article.content_version


def test_an_empty_text_is_refused_and_nothing_changes(category):
    article = store_article(category, "年度总结", SAFETY)
    with pytest.raises(EditRefused):
        do_edit_piece(piece_at(article, 1), title="篇一", text="\n  \n")
    assert piece_at(article, 1).blocks == blocks_of(SAFETY)


def test_dropping_a_piece_renumbers_the_rest_and_recounts(category):
    article = store_article(category, "年度总结", SAFETY, SAFETY_COPY, VOLUNTEER)
    assert article.piece_count == 2  # the copy is not counted
    version = article.content_version

    do_drop_piece(piece_at(article, 1))

    article.refresh_from_db()
    pieces = list(article.pieces.order_by("position"))
    assert [p.position for p in pieces] == [1, 2]
    assert [p.text.splitlines()[1] for p in pieces] == [SAFETY_COPY, VOLUNTEER]
    # Its original gone, the copy is a piece of its own and counts.
    assert pieces[0].duplicate_of_id is None and article.piece_count == 2
    assert article.content_version == version + 1


def test_the_only_piece_cannot_be_dropped(category):
    article = store_article(category, "只有一篇", READING)
    with pytest.raises(EditRefused):
        do_drop_piece(piece_at(article, 1))
    assert article.pieces.count() == 1


def test_merging_appends_the_second_piece_to_the_first(category):
    article = store_article(category, "年度总结", SAFETY, VOLUNTEER, READING)

    merged = do_merge_pieces(piece_at(article, 1), piece_at(article, 2))

    article.refresh_from_db()
    assert merged.blocks == [
        *blocks_of(SAFETY),
        {"kind": "h1", "text": "年度总结篇2"},
        *blocks_of(VOLUNTEER),
    ]
    assert merged.text == "\n".join(b["text"] for b in merged.blocks)
    assert [p["text"] for p in merged.placeholders] == ["20__"]
    assert list(article.pieces.values_list("position", "title")) == [
        (1, "年度总结篇1"),
        (2, "年度总结篇3"),
    ]
    assert article.piece_count == 2
    with pytest.raises(EditRefused):
        do_merge_pieces(piece_at(article, 1), piece_at(article, 1))


# --- publishing rules -------------------------------------------------------------------------


def test_a_time_to_come_is_scheduled_and_shows_nowhere_until_the_job_publishes_it(
    category, django_capture_on_commit_callbacks
):
    article = store_article(category, "定时的总结", SAFETY)
    when = timezone.now() + dt.timedelta(hours=2)

    article = do_publish_article(article, when)

    assert article.status == Article.Status.SCHEDULED and article.published_at == when
    assert not article.is_public and not Article.objects.published().filter(pk=article.pk).exists()
    assert publish_scheduled() == {}  # not due yet

    Article.objects.filter(pk=article.pk).update(
        published_at=timezone.now() - dt.timedelta(seconds=1)
    )
    SearchOutbox.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=False):
        assert publish_scheduled() == {"published": 1}
        # The index learns of it at that moment, in the same transaction.
        assert SearchOutbox.objects.filter(article_id=article.pk, op="index").exists()
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED and article.is_public


def test_publish_now_brings_a_scheduled_article_forward(category):
    article = do_publish_article(
        store_article(category, "定时的总结", SAFETY), timezone.now() + dt.timedelta(days=1)
    )
    before = timezone.now()
    article = do_publish_article(article)
    assert article.status == Article.Status.PUBLISHED
    assert before <= article.published_at <= timezone.now()


def test_the_model_keeps_status_and_time_in_step(category):
    article = store_article(category, "总结", SAFETY)
    article.status = Article.Status.PUBLISHED
    article.published_at = timezone.now() + dt.timedelta(days=1)
    article.save()
    assert article.status == Article.Status.SCHEDULED
    article.published_at = timezone.now() - dt.timedelta(minutes=1)
    article.save(update_fields=["published_at"])
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED


def test_the_worker_runs_the_job_before_building_fonts(category):
    names = list(JOBS)
    assert names.index("publish_scheduled") < names.index("build_fonts")
    article = do_publish_article(
        store_article(category, "定时的总结", SAFETY), timezone.now() + dt.timedelta(days=1)
    )
    Article.objects.filter(pk=article.pk).update(
        published_at=timezone.now() - dt.timedelta(seconds=5)
    )

    call_command("worker", "--once", stdout=io.StringIO())

    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED


@pytest.mark.django_db(transaction=True)
def test_a_scheduled_row_another_worker_holds_is_left_to_it():
    from django.db import connection, connections, transaction

    if not connection.features.has_select_for_update_skip_locked:
        pytest.skip("SKIP LOCKED is a PostgreSQL matter (SQLite has no row locks)")
    category = Category.objects.create(name="工作总结", slug="zongjie")
    article = do_publish_article(
        store_article(category, "定时的总结", SAFETY), timezone.now() + dt.timedelta(days=1)
    )
    Article.objects.filter(pk=article.pk).update(
        published_at=timezone.now() - dt.timedelta(seconds=5)
    )
    holding, release = threading.Event(), threading.Event()

    def other_worker() -> None:
        try:
            with transaction.atomic():
                Article.objects.select_for_update().get(pk=article.pk)
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert holding.wait(10)
        assert publish_scheduled() == {"skipped": 1}
    finally:
        release.set()
        thread.join()
    assert publish_scheduled() == {"published": 1}


def test_an_edit_past_the_paragraph_limit_is_refused(category, settings):
    settings.FANWEN_IMPORT_MAX_PARAGRAPHS = 3
    article = store_article(category, "总结", SAFETY)
    with pytest.raises(EditRefused, match="段落过多"):
        do_edit_piece(piece_at(article, 1), title="", text="一\n二\n三\n四")
    do_edit_piece(piece_at(article, 1), title="", text="第一段。\n第二段。\n第三段。")
    assert len(piece_at(article, 1).blocks) == 3
