"""Bulk imports (fanwen.library.bulk): one outbox row and one page purge per imported article,
the index written every few hundred rows and at the end of a batch, no font build per
article — and the same search results in the end."""

from __future__ import annotations

import pytest
from django.db import transaction

from fanwen import search
from fanwen.lib import gather
from fanwen.library import bulk, pagecache
from fanwen.library.actions import do_import_article
from fanwen.library.importer import ParsedArticle, ParsedPiece
from fanwen.search import follow

from .conftest import write_article

BODY = (
    "今年以来，我们坚持安全第一、预防为主的方针，层层签订安全生产责任书，把责任落实到每个岗位。",
    "全年共开展隐患排查十二次，发现并整改隐患三十余处，组织应急演练四次，职工安全意识明显增强。",
    "下一步，我们将继续加强安全教育培训，完善应急预案，确保全年不发生重大安全事故。",
)


def parsed(title: str, *texts: str) -> ParsedArticle:
    return ParsedArticle(
        title=title,
        source_format="txt",
        pieces=[
            ParsedPiece(title=f"{title}篇{i}", blocks=[{"kind": "p", "text": text}])
            for i, text in enumerate(texts, 1)
        ],
    )


def found(query: str) -> list[int]:
    return [hit.article_id for hit in search.search(query).hits]


def rows() -> list[tuple[int, str]]:
    # The log rows this node's index has not applied yet.
    return list(follow.pending().values_list("article_id", "op"))


def test_an_imported_article_writes_one_outbox_row_and_one_purge_however_many_pieces(
    category, monkeypatch, django_capture_on_commit_callbacks
):
    bumps = []
    monkeypatch.setattr(pagecache, "_bump", lambda: bumps.append(1))
    with django_capture_on_commit_callbacks() as callbacks:
        article, created = do_import_article(
            parsed("安全生产工作总结", *BODY), category=category, publish=True, source_key="a.txt"
        )
    assert created and article.pieces.count() == 3
    assert rows() == [(article.pk, "index")]
    assert len(bumps) == 1  # and one more after the commit
    for callback in callbacks:
        callback()
    assert len(bumps) == 2
    assert not rows() and found("隐患排查") == [article.pk]

    # Re-imported with one piece fewer: two kept rows saved, one deleted, still one row.
    bumps.clear()
    with django_capture_on_commit_callbacks() as callbacks:
        again, created = do_import_article(
            parsed("安全生产工作总结", BODY[2], BODY[0]),
            category=category,
            publish=True,
            source_key="a.txt",
        )
    assert (again.pk, created) == (article.pk, False)
    assert rows() == [(article.pk, "index")]
    assert len(bumps) == 1
    for callback in callbacks:
        callback()
    assert list(again.pieces.values_list("position", "text")) == [(1, BODY[2]), (2, BODY[0])]
    assert found("隐患排查") == []  # the piece that said it is gone from the index too
    assert found("应急预案") == [article.pk]


def test_a_copy_of_an_earlier_piece_points_at_it_once_both_rows_exist(category):
    article, _ = do_import_article(
        parsed(
            "安全生产工作总结",
            BODY[0] + BODY[1],
            BODY[2],
            BODY[0] + BODY[1].replace("十二", "十三"),
        ),
        category=category,
        publish=False,
        source_key="b.txt",
    )
    first, second, third = article.pieces.order_by("position")
    assert (first.duplicate_of_id, second.duplicate_of_id) == (None, None)
    assert third.duplicate_of_id == first.pk
    assert article.piece_count == 2


def test_what_a_failed_block_gathered_is_dropped_with_the_rollback(category):
    with pytest.raises(RuntimeError), transaction.atomic(), bulk.coalesced():
        write_article(category, "乡村振兴工作总结", "乡村振兴")
        assert not rows()  # gathered, not written yet
        raise RuntimeError("rolled back")
    assert not rows()
    # Nothing is gathered any more: a later save writes its rows at once.
    article = write_article(category, "乡村振兴工作总结", "乡村振兴")
    assert set(rows()) == {(article.pk, "index")} and len(rows()) == 2


def test_inside_a_bulk_import_the_index_is_written_every_n_rows_and_at_the_end(
    category, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(gather, "APPLY_EVERY", 3)
    topics = ["消防安全", "食品安全", "交通安全", "防溺水"]
    made = []
    batch = bulk.bulk_import()
    batch.__enter__()
    for number, topic in enumerate(topics, 1):
        with django_capture_on_commit_callbacks(execute=True):
            article, _ = do_import_article(
                parsed(f"{topic}工作总结", f"{topic}：{BODY[0]}"),
                category=category,
                publish=True,
                source_key=f"{number}.txt",
            )
        made.append(article.pk)
        # No index write per commit: the rows wait for the third one.
        assert len(rows()) == (0 if number == 3 else number % 3)
    assert found("消防安全") == [made[0]] and found("防溺水") == []
    with django_capture_on_commit_callbacks(execute=True):
        batch.__exit__(None, None, None)
    assert not rows()
    assert found("防溺水") == [made[3]]
    assert not gather.importing()


def test_a_bulk_import_starts_no_font_build_per_published_article(
    settings, category, monkeypatch, django_capture_on_commit_callbacks
):
    settings.FANWEN_PROTECTION = "font"
    started = []
    monkeypatch.setattr(
        "fanwen.protection.fonts.schedule_build", lambda article, **kw: started.append(article.pk)
    )
    with django_capture_on_commit_callbacks(execute=True):
        one, _ = do_import_article(
            parsed("消防安全工作总结", BODY[0]), category=category, publish=True, source_key="1"
        )
    assert started == [one.pk]
    with bulk.bulk_import(), django_capture_on_commit_callbacks(execute=True):
        do_import_article(
            parsed("食品安全工作总结", BODY[1]), category=category, publish=True, source_key="2"
        )
    assert started == [one.pk]
