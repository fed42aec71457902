"""Several nodes, each with its own index, follow one search log (fanwen.search.follow).

Two indexes in two folders stand for two machines: node A is this process's default backend,
node B another backend that only ever talks to the database.
"""

from __future__ import annotations

import datetime as dt
import threading
from datetime import UTC, datetime

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from fanwen import search
from fanwen.library.actions import do_edit_piece, do_hide_article, do_publish_article
from fanwen.library.models import Article
from fanwen.search import documents, follow
from fanwen.search.analysis import parse_query
from fanwen.search.backends import get_backend
from fanwen.search.backends.base import SearchBusy
from fanwen.search.backends.tantivy import TantivyBackend
from fanwen.search.follow import Cursor
from fanwen.search.jobs import apply_outbox_job
from fanwen.search.models import SearchNode, SearchOutbox

from .conftest import write_article


@pytest.fixture(autouse=True)
def checks_on(settings):
    # Every search checks the log (the default checks at most once a second).
    settings.FANWEN_SEARCH_SYNC_SECONDS = 0.000001


def node(tmp_path, name: str) -> TantivyBackend:
    return TantivyBackend(name, {"path": str(tmp_path / name), "node": name})


def found_on(backend, query: str) -> list[int]:
    """What a search on that node finds: the facade's check, then the node's index."""
    follow.before_search(backend)
    page = backend.search(
        parse_query(query), category_id=None, offset=0, limit=10, now=datetime.now(UTC)
    )
    return [hit.article_id for hit in page.found]


def found(query: str) -> list[int]:
    return [hit.article_id for hit in search.search(query).hits]


def draft(category, title: str, *paragraphs: str) -> Article:
    return write_article(category, title, *paragraphs, status=Article.Status.DRAFT)


def test_a_publish_reaches_another_node_by_its_own_cursor(category, tmp_path) -> None:
    b = node(tmp_path, "b")
    assert found("禁毒") == [] and found_on(b, "禁毒") == []  # both start from a snapshot
    article = draft(category, "禁毒宣传活动总结", "开展禁毒宣传进校园活动。")
    do_publish_article(article)
    # Node A's after-commit pass never ran (the test's transaction): B catches up by itself.
    assert found_on(b, "进校园") == [article.pk]
    assert found("进校园") == [article.pk]

    do_edit_piece(article.pieces.get(), title="", text="组织森林防火演练。")
    assert found_on(b, "森林防火") == [article.pk] and found_on(b, "进校园") == []
    do_hide_article(article)
    assert found_on(b, "森林防火") == []
    assert found("森林防火") == []
    # Append-only: the rows stay for nodes that have not read them yet.
    assert SearchOutbox.objects.filter(article_id=article.pk).count() >= 3
    assert not follow.pending(b).exists() and not follow.pending().exists()
    nodes = SearchNode.objects.in_bulk(["b", follow.node_name(get_backend())], field_name="name")
    assert {n.applied for n in nodes.values()} == {SearchOutbox.objects.latest("pk").pk}


def test_a_node_started_later_catches_up_from_a_snapshot(category, tmp_path, monkeypatch):
    a = get_backend()
    follow.sync(backend=a)
    first = [write_article(category, f"安全生产工作总结{n}", "安全生产月活动。") for n in range(3)]
    follow.sync(backend=a)
    pruned = follow.prune()  # A is the only node: the rows it applied go
    # (On PostgreSQL the ids earlier tests rolled back are gaps that hold A's cursor back.)
    assert pruned > 0 or connection.vendor != "sqlite"
    late = []

    def read_while_writing(batch):
        # A publish while the new node reads the articles: after its snapshot's head, so
        # the catch-up applies it.
        late.append(write_article(category, "安全生产隐患排查方案", "安全生产隐患。"))
        yield from real_iter_all(batch)

    real_iter_all = documents.iter_all
    monkeypatch.setattr(documents, "iter_all", read_while_writing)
    c = node(tmp_path, "c")
    found_now = set(found_on(c, "安全生产"))
    assert {article.pk for article in first} <= found_now
    assert set(found_on(c, "安全生产")) == {article.pk for article in first + late}
    assert follow.cursor_of(c).applied == SearchOutbox.objects.latest("pk").pk
    assert SearchNode.objects.get(name="c").cursor == follow.cursor_of(c).low


def test_pruning_keeps_what_a_lagging_node_needs(category, tmp_path) -> None:
    a, b = get_backend(), node(tmp_path, "b")
    follow.sync(backend=a)
    follow.sync(backend=b)
    articles = [write_article(category, f"志愿服务活动总结{n}", "志愿服务。") for n in range(3)]
    follow.sync(backend=a)
    follow.prune()
    # B has not read them: they all stay.
    assert set(SearchOutbox.objects.values_list("article_id", flat=True)) >= {
        article.pk for article in articles
    }
    assert set(found_on(b, "志愿服务")) == {article.pk for article in articles}
    follow.prune()
    # Both passed them: the rows below the lowest cursor go; the row at it stays (the log's
    # head stays known).
    lowest = min(follow.cursor_of(a).low, follow.cursor_of(b).low)
    assert not SearchOutbox.objects.filter(pk__lt=lowest).exists()
    assert SearchOutbox.objects.count() == 1 or connection.vendor != "sqlite"

    # B goes away for longer than FANWEN_SEARCH_NODE_TTL_DAYS; A goes on.
    SearchNode.objects.filter(name="b").update(last_seen=timezone.now() - dt.timedelta(days=8))
    more = write_article(category, "志愿服务工作计划", "志愿服务。")
    follow.sync(backend=a)
    follow.prune()
    assert not SearchNode.objects.filter(name="b").exists()
    if connection.vendor == "sqlite":
        # The first row B would need next is gone.
        assert not SearchOutbox.objects.filter(pk=follow.cursor_of(b).applied + 1).exists()
    # Back, B finds its row gone (rows it needed may be too): it rebuilds from a snapshot.
    last = write_article(category, "志愿服务心得体会", "志愿服务。")
    assert set(found_on(b, "志愿服务")) == {x.pk for x in articles} | {more.pk, last.pk}
    assert SearchNode.objects.filter(name="b").exists()


def test_a_crash_between_the_index_commit_and_the_cursor_replays_without_duplicates(
    category, tmp_path, monkeypatch
) -> None:
    b = node(tmp_path, "b")
    follow.sync(backend=b)
    before = follow.cursor_of(b)
    article = write_article(category, "防汛抗旱工作总结", "防汛抗旱。")

    def crash(state):
        raise OSError("killed after the index commit")

    with monkeypatch.context() as patched:
        patched.setattr(b, "save_cursor", crash)
        with pytest.raises(OSError):
            follow.sync(backend=b)
    b.reload()
    assert b.doc_ids() == {article.pk}  # committed to the index…
    assert follow.cursor_of(b) == before  # …the cursor not: the rows come again
    assert follow.sync(backend=b) == 2
    assert b.doc_ids() == {article.pk}
    assert b.searcher().num_docs == 1
    assert found_on(b, "防汛抗旱") == [article.pk]


def test_a_busy_node_searches_its_index_as_it_is(category, tmp_path) -> None:
    b = node(tmp_path, "b")
    follow.sync(backend=b)
    article = write_article(category, "交通安全教育总结", "交通安全。")
    with b.writer():  # another process of node B is writing
        assert found_on(b, "交通安全") == []
    assert found_on(b, "交通安全") == [article.pk]


def test_the_check_runs_at_most_every_interval(category, tmp_path, settings, monkeypatch):
    settings.FANWEN_SEARCH_SYNC_SECONDS = 60
    clock = [1000.0]
    monkeypatch.setattr(follow.time, "monotonic", lambda: clock[0])
    b = node(tmp_path, "b")
    assert found_on(b, "消防") == []
    article = write_article(category, "消防安全工作总结", "消防安全。")
    clock[0] += 30
    assert found_on(b, "消防安全") == []
    clock[0] += 31
    assert found_on(b, "消防安全") == [article.pk]


def test_the_worker_job_catches_its_node_up_and_prunes(category) -> None:
    apply_outbox_job()
    article = write_article(category, "乡村振兴工作总结", "乡村振兴。")
    counts = apply_outbox_job()
    assert counts["applied"] == 2
    assert found("乡村振兴") == [article.pk]
    with get_backend().writer():  # a second worker on this node finds the index busy
        write_article(category, "乡村振兴工作计划", "乡村振兴。")
        assert apply_outbox_job()["applied"] == 0


def test_a_cursor_keeps_the_ids_it_passed_unseen_until_they_come_or_expire() -> None:
    cursor = Cursor(10).advance([11, 14], now=100.0, gap_seconds=600)
    assert cursor == Cursor(14, {12: 100.0, 13: 100.0}) and cursor.low == 11
    cursor = cursor.advance([13, 15], now=200.0, gap_seconds=600)
    assert cursor == Cursor(15, {12: 100.0})
    assert cursor.advance([], now=701.0, gap_seconds=600) == Cursor(15, {})
    assert Cursor.from_json(cursor.to_json()) == cursor


def _commit_late(category_id: int, inserted: threading.Event, go: threading.Event, out: list):
    try:
        with transaction.atomic():
            article = Article.objects.create(
                category_id=category_id,
                title="森林防火工作总结",
                status=Article.Status.PUBLISHED,
                published_at=timezone.now() - dt.timedelta(hours=1),
                piece_count=0,
            )
            out.append(article.pk)
            inserted.set()  # its log row has an id, not yet visible to anyone
            go.wait(10)
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_a_lower_id_committed_after_a_higher_one_is_not_skipped(tmp_path) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: ids commit in order")
    from fanwen.library.models import Category

    category = Category.objects.create(name="工作总结", slug="zongjie")
    b = node(tmp_path, "b")
    follow.sync(backend=b)
    inserted, go, late = threading.Event(), threading.Event(), []
    slow = threading.Thread(target=_commit_late, args=(category.pk, inserted, go, late))
    slow.start()
    try:
        assert inserted.wait(10)
        early = write_article(category, "森林防火应急预案", "森林防火。")
        # B sees the higher ids first: the slow transaction's id is a gap, not passed over.
        assert found_on(b, "森林防火") == [early.pk]
        assert follow.cursor_of(b).gaps
    finally:
        go.set()
        slow.join(10)
    assert set(found_on(b, "森林防火")) == {early.pk, late[0]}
    assert late[0] in b.doc_ids()
    assert not follow.pending(b).exists()


def test_several_busy_writers_never_raise_from_a_search(category, tmp_path) -> None:
    b = node(tmp_path, "b")
    follow.sync(backend=b)
    with b.writer():
        with pytest.raises(SearchBusy):
            follow.snapshot(b)
        write_article(category, "节能减排工作总结", "节能减排。")
        assert found_on(b, "节能减排") == []
    assert SearchNode.objects.get(name="b").applied == follow.cursor_of(b).applied


def test_a_node_the_database_no_longer_knows_rebuilds(category, tmp_path) -> None:
    # A restored database: a new log (low ids), no row for the node, an index that followed
    # the old log far beyond.
    b = node(tmp_path, "b")
    follow.sync(backend=b)
    b.save_cursor(Cursor(10**9).to_json())
    SearchNode.objects.all().delete()
    article = write_article(category, "食品安全工作总结", "食品安全。")
    restarted = node(tmp_path, "b")
    assert found_on(restarted, "食品安全") == [article.pk]
    assert follow.cursor_of(restarted).applied == SearchOutbox.objects.latest("pk").pk
    # The worker's pass notices it too.
    SearchNode.objects.all().delete()
    apply_outbox_job()
    assert SearchNode.objects.filter(name=follow.node_name(get_backend())).exists()


def test_a_new_title_becomes_suggestable_on_another_node_by_its_own_cursor(category, tmp_path):
    from fanwen.search.suggestions import suggest

    b = node(tmp_path, "b")
    follow.before_search(b)
    assert suggest("禁毒宣传活动总洁", b) == ""
    article = draft(category, "禁毒宣传活动总结", "开展禁毒宣传进校园活动。")
    do_publish_article(article)
    # B's vocabulary is its index: it learns the title when it applies the log, like the rest.
    follow.before_search(b)
    assert suggest("禁毒宣传活动总洁", b) == "禁毒宣传活动总结"
    assert search.suggest("jindu xuanchuan") == "禁毒宣传"
    do_hide_article(article)
    follow.before_search(b)
    assert suggest("禁毒宣传活动总洁", b) == ""
