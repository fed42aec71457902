"""The outbox keeps the index in step with the database, through crashes and rebuilds."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from fanwen import search
from fanwen.library.models import Article
from fanwen.search import follow
from fanwen.search.backends import get_backend
from fanwen.search.backends.base import SearchBusy
from fanwen.search.jobs import apply_outbox_job
from fanwen.search.models import SearchOutbox

from .conftest import write_article


def found(query: str) -> list[int]:
    return [hit.article_id for hit in search.search(query).hits]


def pending() -> list[tuple[int, str]]:
    return list(follow.pending().values_list("article_id", "op"))


def test_a_change_writes_its_outbox_row_in_the_same_transaction(category) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        write_article(category, "乡村振兴工作总结", "乡村振兴")
        assert SearchOutbox.objects.count() == 2  # the article, its piece
        raise RuntimeError("rolled back")
    assert not SearchOutbox.objects.exists()
    article = write_article(category, "乡村振兴工作总结", "乡村振兴")
    assert set(SearchOutbox.objects.values_list("article_id", "op")) == {(article.pk, "index")}
    search.apply_outbox()
    article.status = Article.Status.HIDDEN
    article.save()
    # The log keeps the rows this node applied (other nodes follow it too).
    assert list(pending()) == [(article.pk, "remove")]
    assert SearchOutbox.objects.count() == 3


def test_rows_left_by_a_crash_after_commit_are_applied_later(category) -> None:
    # The commit happened, the after-commit pass never ran (the process died): rows remain.
    article = write_article(category, "禁毒宣传活动总结", "开展禁毒宣传进校园活动。")
    assert SearchOutbox.objects.exists()
    assert found("禁毒宣传") == []
    assert search.apply_outbox() == 2
    assert found("禁毒宣传") == [article.pk]
    assert not pending()


def test_rows_stay_when_the_index_write_fails(category, monkeypatch) -> None:
    search.apply_outbox()  # the node's snapshot: later rows go through the writer
    article = write_article(category, "森林防火工作总结", "森林防火")
    backend = get_backend()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    with monkeypatch.context() as patched:
        patched.setattr(type(backend), "writer", lambda self: _failing_writer(crash))
        with pytest.raises(OSError):
            search.apply_outbox()
    assert len(pending()) == 2
    assert found("森林防火") == []
    assert search.apply_outbox() == 2
    assert found("森林防火") == [article.pk]


class _failing_writer:
    def __init__(self, crash) -> None:
        self.crash = crash

    def __enter__(self):
        self.crash()

    def __exit__(self, *exc) -> None:
        return None


def test_a_busy_index_leaves_the_rows_for_the_next_pass(category) -> None:
    article = write_article(category, "防汛抗旱工作总结", "防汛抗旱")
    with get_backend().writer():
        # Another writer (another process) holds the lock.
        with pytest.raises(SearchBusy):
            with get_backend().writer():
                pass
        assert search.apply_outbox() == 0
    assert len(pending()) == 2
    # Applied, then the rows before this node's cursor (the only node) pruned (on SQLite: on
    # PostgreSQL the ids earlier tests rolled back are gaps that hold the cursor back a while).
    assert apply_outbox_job()["applied"] == 2
    assert found("防汛抗旱") == [article.pk]
    assert apply_outbox_job() == {}


def test_the_index_is_updated_right_after_commit(category, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            article = write_article(category, "交通安全教育总结", "交通安全")
    # One pass per transaction, however many rows it wrote.
    assert len(callbacks) == 1
    assert found("交通安全") == [article.pk]
    assert not pending()
    with django_capture_on_commit_callbacks(execute=True):
        article.pieces.first().delete()
        article.delete()
    assert found("交通安全") == []


def test_editing_the_text_replaces_what_is_found(category) -> None:
    article = write_article(category, "工作总结", "节能减排")
    search.apply_outbox()
    piece = article.pieces.get()
    piece.blocks = [{"kind": "p", "text": "信访维稳"}]
    piece.save()
    search.apply_outbox()
    assert found("节能减排") == []
    assert found("信访维稳") == [article.pk]
    assert len(get_backend().doc_ids()) == 1


def top(query: str) -> tuple[int, set[int]]:
    # Scores differ a little (deleted documents count in term statistics until a merge) and
    # equal scores may come in another order, so compare what is found, not its order.
    results = search.search(query, per_page=50)
    return results.total, {hit.article_id for hit in results.hits}


QUERIES = ["安全", "总结", "志愿服务", '"文明城市"', "乡村振兴 总结", "黨建", "活动方案", "教师"]


def test_a_rebuild_equals_the_incremental_index(category) -> None:
    topics = ["安全生产", "志愿服务", "文明城市", "乡村振兴", "党建", "教师培训"]
    kinds = ["工作总结", "活动方案", "工作计划"]
    for n in range(18):
        topic, kind = topics[n % 6], kinds[n % 3]
        write_article(category, f"{topic}{kind}{n}", f"{topic}是今年的重点。", f"h1:一、{kind}")
    hidden = write_article(category, "安全生产隐藏稿", "安全生产", status=Article.Status.HIDDEN)
    search.apply_outbox()
    hidden.status = Article.Status.PUBLISHED
    hidden.save()
    Article.objects.filter(title__startswith="党建").first().delete()
    search.apply_outbox()
    incremental = get_backend().doc_ids()
    before = {q: top(q) for q in QUERIES}

    out = StringIO()
    call_command("search_reindex", "--no-progress", stdout=out)
    assert "search_reindex: 18 articles" in out.getvalue()
    assert get_backend().doc_ids() == incremental
    assert {q: top(q) for q in QUERIES} == before
    assert all(before[q][1] for q in QUERIES)
