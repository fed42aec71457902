"""Every node's index follows the search log (SearchOutbox) through a cursor of its own.

The log is append-only: each change writes a row (article id, op) in its own transaction,
and its id orders the log. A node's cursor is saved with its index, after the index commit
that applied the rows (a crash between the two replays rows, never skips them; applying
reads the article as it is now, so a replay is harmless). A node catches up after its own
commits (outbox), before a search (before_search, at most every FANWEN_SEARCH_SYNC_SECONDS)
and in the worker (jobs). One process per node writes the index (tantivy's write lock);
the others search the index as it is meanwhile.

On PostgreSQL ids are taken at insert and become visible at commit, so a lower id can show
up after a higher one was applied: the ids the cursor passed without seeing are kept as
gaps and read again until they appear or FANWEN_SEARCH_GAP_SECONDS have passed (a rolled
back write never appears).

A new node, or one whose rows were pruned while it was away, starts from a snapshot: the
log head read before the articles, and the index rebuilt from them. Each node keeps a
SearchNode row with its cursor; prune() drops the rows every node seen lately has passed.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, connections
from django.db.models import Max, Min, Q, QuerySet
from django.utils import timezone

from fanwen.search import documents
from fanwen.search.backends import get_backend
from fanwen.search.backends.base import SearchBackend, SearchBusy
from fanwen.search.models import SearchNode, SearchOutbox

log = logging.getLogger("fanwen.search")

# Ids passed unseen that a cursor keeps asking for; a burst of rollbacks beyond this is old news.
MAX_GAPS = 1000
# A snapshot takes the ids just below the head that are not there yet as gaps.
SNAPSHOT_WINDOW = 100
# A node's row is touched at least this often while it searches (seconds), so pruning counts it.
HEARTBEAT_SECONDS = 60
# A search or a commit that finds no index rebuilds a library this small at once; a larger one
# in a thread of its own while searches go on with what there is.
INLINE_SNAPSHOT_MAX = 2000
# Rows a search applies before it goes on; the rest wait for the next check.
SEARCH_SYNC_LIMIT = 500


@dataclass(frozen=True)
class Cursor:
    applied: int = 0  # the highest log id applied
    # Ids below `applied` not seen yet (a transaction still open, or rolled back): when first missed.
    gaps: dict[int, float] = field(default_factory=dict)

    @property
    def low(self) -> int:
        """Every id up to here is applied or will never come: the rows below may be pruned."""
        return min(self.gaps) - 1 if self.gaps else self.applied

    def pending(self) -> Q:
        return Q(pk__gt=self.applied) | Q(pk__in=sorted(self.gaps))

    def advance(self, ids: Sequence[int], now: float, gap_seconds: float) -> Cursor:
        """The cursor once the rows `ids` (read in id order, pending ones only) are applied."""
        seen = set(ids)
        gaps = {
            pk: since
            for pk, since in self.gaps.items()
            if pk not in seen and now - since < gap_seconds
        }
        top = max(seen, default=self.applied)
        for pk in range(max(self.applied + 1, top - MAX_GAPS), top):
            if pk not in seen:
                gaps[pk] = now
        if len(gaps) > MAX_GAPS:
            gaps = dict(sorted(gaps.items())[-MAX_GAPS:])
        return Cursor(max(self.applied, top), gaps)

    def to_json(self) -> dict:
        return {"applied": self.applied, "gaps": {str(pk): t for pk, t in self.gaps.items()}}

    @classmethod
    def from_json(cls, data: dict) -> Cursor:
        return cls(int(data["applied"]), {int(pk): float(t) for pk, t in data["gaps"].items()})


def node_name(backend: SearchBackend) -> str:
    name = backend.options.get("node") or settings.FANWEN_NODE_NAME
    if name:
        return name
    digest = hashlib.sha1(backend.location().encode("utf-8")).hexdigest()[:8]
    return f"{socket.gethostname()}-{digest}"


def cursor_of(backend: SearchBackend) -> Cursor | None:
    state = backend.load_cursor()
    return Cursor.from_json(state) if state is not None else None


def has_pending(cursor: Cursor) -> bool:
    """Whether the log holds a row the cursor has not applied: the check before a search, so
    one indexed query in plain SQL (the ORM would cost more than the query)."""
    gaps = sorted(cursor.gaps)
    where = "id > %s"
    if gaps:
        where += f" OR id IN ({', '.join(['%s'] * len(gaps))})"
    table = connection.ops.quote_name(SearchOutbox._meta.db_table)
    with connection.cursor() as db:
        db.execute(f"SELECT 1 FROM {table} WHERE {where} LIMIT 1", [cursor.applied, *gaps])
        return db.fetchone() is not None


def pending(backend: SearchBackend | None = None) -> QuerySet:
    """The log rows this node's index has not applied yet (all of them without a cursor)."""
    cursor = cursor_of(backend or get_backend())
    rows = SearchOutbox.objects.order_by("pk")
    return rows.filter(cursor.pending()) if cursor is not None else rows


def _save_node(backend: SearchBackend, cursor: Cursor, *, create: bool) -> bool:
    """Record the node's cursor and that it is alive; False when its row is gone (and not created)."""
    name = node_name(backend)
    values = {"cursor": cursor.low, "applied": cursor.applied, "last_seen": timezone.now()}
    if SearchNode.objects.filter(name=name).update(**values):
        return True
    if not create:
        return False
    # Another process of the node may create it at the same moment.
    SearchNode.objects.bulk_create(
        [SearchNode(name=name, path=backend.location()[:500], **values)], ignore_conflicts=True
    )
    SearchNode.objects.filter(name=name).update(**values)
    return True


def _live_cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=settings.FANWEN_SEARCH_NODE_TTL_DAYS)


# --- catching up -----------------------------------------------------------------------------


def sync(
    limit: int = 500, *, backend: SearchBackend | None = None, snapshot: str = "inline"
) -> int:
    """Apply up to `limit` log rows this node has not applied; returns how many.

    Without a cursor (a new index), or when this node's rows were pruned while it was away,
    it starts from a snapshot: `snapshot` is "inline" (now), "auto" (now for a small library,
    else in a thread) or "never". A busy index (another process writing it) returns 0.
    """
    backend = backend or get_backend()
    cursor = cursor_of(backend)
    if cursor is None:
        return _snapshot_as(backend, snapshot)
    if not has_pending(cursor):
        return 0
    if not _save_node(backend, cursor, create=False):
        log.warning("search: node %s was away past pruning; rebuilding", node_name(backend))
        return _snapshot_as(backend, snapshot)
    try:
        # The write lock first: the cursor and rows read after it are ours to apply.
        with backend.writer() as writer:
            cursor = cursor_of(backend) or cursor  # another process may have moved it
            rows = list(
                SearchOutbox.objects.filter(cursor.pending())
                .order_by("pk")
                .values_list("pk", "article_id")[:limit]
            )
            if not rows:
                return 0
            article_ids = list(dict.fromkeys(article_id for _, article_id in rows))
            writer.replace(documents.load(article_ids), remove_ids=article_ids)
            after = cursor.advance(
                [pk for pk, _ in rows], time.time(), settings.FANWEN_SEARCH_GAP_SECONDS
            )
            writer.after_commit = lambda: backend.save_cursor(after.to_json())
    except SearchBusy:
        log.info("search: the index is being written by another process; rows wait")
        return 0
    _save_node(backend, after, create=True)
    return len(rows)


def snapshot(
    backend: SearchBackend | None = None,
    *,
    batch: int = 500,
    jobs: int = 1,
    progress: Callable[[int], object] | None = None,
) -> tuple[int, int]:
    """Rebuild the index from the database, its cursor the log head read before the articles.

    Returns (articles indexed, log rows the snapshot covers that the old cursor had not).
    """
    backend = backend or get_backend()
    old = cursor_of(backend)
    head = SearchOutbox.objects.aggregate(head=Max("pk"))["head"] or 0
    # Ids up to a live node's cursor are settled; the ones just below the head that are
    # missing may be transactions still open: they come in as gaps.
    settled = (
        SearchNode.objects.filter(last_seen__gte=_live_cutoff()).aggregate(m=Max("cursor"))["m"]
        or 0
    )
    floor = max(head - SNAPSHOT_WINDOW, min(settled, head), 0)
    present = set(
        SearchOutbox.objects.filter(pk__gt=floor, pk__lte=head).values_list("pk", flat=True)
    )
    now = time.time()
    cursor = Cursor(head, {pk: now for pk in range(floor + 1, head + 1) if pk not in present})
    covered = SearchOutbox.objects.filter(pk__lte=head, pk__gt=old.applied if old else 0).count()
    name = node_name(backend)
    before = SearchNode.objects.filter(name=name).values("cursor", "applied").first()
    # Registered before the long read, so pruning keeps the rows after `head` for us.
    _save_node(backend, cursor, create=True)
    try:
        count = backend.rebuild(
            documents.iter_all(batch),
            jobs=jobs,
            progress=progress,
            after_commit=lambda: backend.save_cursor(cursor.to_json()),
        )
    except BaseException:
        # The index still follows its old cursor, if any: the row must not claim more.
        nodes = SearchNode.objects.filter(name=name)
        if before:
            nodes.update(**before)
        else:
            nodes.delete()
        raise
    _save_node(backend, cursor, create=True)
    return count, covered


_background: dict[str, threading.Thread] = {}
_background_lock = threading.Lock()


def _snapshot_as(backend: SearchBackend, mode: str) -> int:
    if mode == "never":
        return 0
    running = _background.get(backend.location())
    if running is not None and running.is_alive():
        return 0
    if mode == "auto" and documents.count_all() > INLINE_SNAPSHOT_MAX:
        _snapshot_in_background(backend)
        return 0
    try:
        return snapshot(backend)[1]
    except SearchBusy:
        log.info("search: the index is being written by another process; no snapshot now")
        return 0


def _snapshot_in_background(backend: SearchBackend) -> None:
    where = backend.location()
    with _background_lock:
        running = _background.get(where)
        if running is not None and running.is_alive():
            return
        thread = threading.Thread(
            target=_background_snapshot, args=(backend,), name="search-snapshot", daemon=True
        )
        _background[where] = thread
    log.info("search: no index at %s yet; rebuilding it in the background", where)
    thread.start()


def _background_snapshot(backend: SearchBackend) -> None:
    try:
        snapshot(backend)
        while sync(SEARCH_SYNC_LIMIT, backend=backend, snapshot="never") >= SEARCH_SYNC_LIMIT:
            pass
    except SearchBusy:
        pass
    except Exception:
        log.exception("search: the background rebuild failed; the worker will try again")
    finally:
        # This thread's connections only.
        connections.close_all()


def heartbeat(backend: SearchBackend | None = None, *, snapshot: str = "inline") -> int:
    """Tell pruning this node is alive; a node whose row is gone (away past pruning, or a
    restored database) rebuilds from a snapshot. Returns the rows a snapshot covered."""
    backend = backend or get_backend()
    cursor = cursor_of(backend)
    if cursor is None or _save_node(backend, cursor, create=False):
        return 0
    log.warning("search: node %s is unknown to the database; rebuilding", node_name(backend))
    return _snapshot_as(backend, snapshot)


# --- before a search -------------------------------------------------------------------------


@dataclass
class _Checks:
    """One process's checks of one index (kept on the backend object)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    next_check: float = 0.0
    next_heartbeat: float = 0.0
    version: object = None
    cursor: Cursor | None = None  # as saved at `version`


def before_search(backend: SearchBackend) -> None:
    """Catch up with the log when it has moved, at most every FANWEN_SEARCH_SYNC_SECONDS.

    Between checks this costs a clock read. A thread that finds another one checking, or a
    process that finds another one writing, searches the index as it is.
    """
    interval = settings.FANWEN_SEARCH_SYNC_SECONDS
    if interval <= 0:
        return
    checks: _Checks | None = getattr(backend, "_follow_checks", None)
    if checks is None:
        checks = backend._follow_checks = _Checks()
    now = time.monotonic()
    if now < checks.next_check or not checks.lock.acquire(blocking=False):
        return
    try:
        checks.next_check = now + interval
        check(backend, checks, now)
    except Exception:
        # A search must not fail because the database is slow or away: it sees the index as is.
        log.exception("search: checking the log failed; searching the index as it is")
    finally:
        checks.lock.release()


def check(backend: SearchBackend, checks: _Checks, now: float) -> None:
    version = backend.cursor_version()
    if version != checks.version or checks.cursor is None:
        # Another process of this node wrote the index: search what it wrote.
        checks.version, checks.cursor = version, cursor_of(backend)
        backend.reload()
    cursor = checks.cursor
    if cursor is None:
        _snapshot_as(backend, "auto")
    elif has_pending(cursor):
        sync(SEARCH_SYNC_LIMIT, backend=backend, snapshot="auto")
    elif now >= checks.next_heartbeat:
        heartbeat(backend, snapshot="auto")
    else:
        return
    checks.next_heartbeat = now + HEARTBEAT_SECONDS
    checks.version, checks.cursor = backend.cursor_version(), cursor_of(backend)


# --- pruning ---------------------------------------------------------------------------------


def prune(now: datetime | None = None) -> int:
    """Drop log rows every node seen within FANWEN_SEARCH_NODE_TTL_DAYS has passed; returns how many.

    Nodes not seen for longer lose their row first: back, they find it gone and rebuild.
    """
    SearchNode.objects.filter(last_seen__lt=_live_cutoff(now)).delete()
    floor = SearchNode.objects.aggregate(floor=Min("cursor"))["floor"]
    if floor is None:
        return 0
    # Below, not up to: the row at the floor stays, so the log's head is known after any prune.
    deleted, _ = SearchOutbox.objects.filter(pk__lt=floor).delete()
    return deleted
