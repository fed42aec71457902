"""Queue article URLs for the search engines, and push them from the worker.

record() runs in the transaction of the change (the save signal), so the row commits with
it. push_urls() claims due rows per engine in a short transaction (skip_locked on
PostgreSQL; SQLite has one writer anyway), leases them for LEASE so other workers pass
them over, and posts outside any transaction: a slow engine holds no lock. A row is
deleted once the engine took it, unless a change asked again after the claim.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from fanwen.library.models import Article
from fanwen.seo.engines import EnginePaused, PushError, beijing_today, engines
from fanwen.seo.models import EngineState, UrlPush

log = logging.getLogger("fanwen.seo")
# A claimed batch is another worker's for this long (a crash frees it after that).
LEASE = dt.timedelta(minutes=10)
# A failed row waits 1, 2, 4 … minutes, at most 6 hours, and is never dropped for failing.
RETRY_FIRST = dt.timedelta(minutes=1)
RETRY_MAX = dt.timedelta(hours=6)
# One worker pass pushes for at most this long.
PASS_SECONDS = 30


def push_origin() -> str:
    return settings.FANWEN_PUSH_ORIGIN.rstrip("/")


def record(articles: Iterable[Article]) -> int:
    """Queue the URLs of these (public) articles for every engine; returns the rows written."""
    aliases, origin = list(engines.configured), push_origin()
    if not aliases or not origin:
        return 0
    now = timezone.now()
    rows = [
        UrlPush(
            engine=alias,
            url=origin + article.get_absolute_url(),
            article_id=article.pk,
            requested_at=now,
            next_attempt_at=now,
        )
        for article in articles
        for alias in aliases
    ]
    # A row already waiting (or failing, or leased) keeps its turn; it now covers this change.
    UrlPush.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["engine", "url"],
        update_fields=["requested_at", "article_id"],
    )
    return len(rows)


def retry_delay(attempts: int) -> dt.timedelta:
    return min(RETRY_FIRST * 2 ** max(attempts - 1, 0), RETRY_MAX)


def _claim(alias: str, limit: int, now: dt.datetime) -> list[UrlPush]:
    with transaction.atomic():
        due = UrlPush.objects.filter(engine=alias, next_attempt_at__lte=now).order_by(
            "next_attempt_at", "pk"
        )
        if connection.features.has_select_for_update_skip_locked:
            # Rows another worker is claiming right now are left to it.
            due = due.select_for_update(skip_locked=True)
        rows = list(due[:limit])
        UrlPush.objects.filter(pk__in=[row.pk for row in rows]).update(next_attempt_at=now + LEASE)
    return rows


def _done(rows: list[UrlPush], claimed_at: dt.datetime) -> None:
    """Rows the engine took (or refused for good): gone, unless asked for again meanwhile."""
    pks = [row.pk for row in rows]
    UrlPush.objects.filter(pk__in=pks, requested_at__lte=claimed_at).delete()
    UrlPush.objects.filter(pk__in=pks).update(
        next_attempt_at=timezone.now(), attempts=0, last_error=""
    )


def _release(rows: list[UrlPush], error: str = "") -> None:
    # Not their fault (the quota, the rest of a batch): due again, no attempt counted.
    fields = {"next_attempt_at": timezone.now()}
    if error:
        fields["last_error"] = error[:300]
    UrlPush.objects.filter(pk__in=[row.pk for row in rows]).update(**fields)


def _failed(rows: list[UrlPush], error: str, now: dt.datetime) -> None:
    by_attempts: dict[int, list[int]] = {}
    for row in rows:
        by_attempts.setdefault(row.attempts + 1, []).append(row.pk)
    for attempts, pks in by_attempts.items():
        UrlPush.objects.filter(pk__in=pks).update(
            attempts=F("attempts") + 1,
            last_error=error[:300],
            last_attempt_at=now,
            next_attempt_at=now + retry_delay(attempts),
        )


def _drop_hidden(rows: list[UrlPush], claimed_at: dt.datetime, counts: Counter) -> list[UrlPush]:
    """Only what readers can open is pushed: rows of hidden, draft or deleted articles go."""
    public = set(
        Article.objects.published()
        .filter(pk__in={row.article_id for row in rows})
        .values_list("pk", flat=True)
    )
    gone = [row for row in rows if row.article_id not in public]
    if gone:
        _done(gone, claimed_at)
        counts["not public"] += len(gone)
    return [row for row in rows if row.article_id in public]


def _batch_size(alias: str, state: EngineState) -> int:
    size = engines[alias].batch_size
    if state.remain is not None and state.remain_day == beijing_today():
        # Baidu said how many it still takes today: no more, or the rest would be refused.
        size = min(size, max(state.remain, 1))
    return size


def push_engine(alias: str, counts: Counter, deadline: float) -> None:
    engine = engines[alias]
    state, _ = EngineState.objects.get_or_create(engine=alias)
    while time.monotonic() < deadline:
        now = timezone.now()
        if state.paused_until and state.paused_until > now:
            counts[f"{alias} paused"] += 1
            return
        rows = _claim(alias, _batch_size(alias, state), now)
        if not rows:
            return
        rows = _drop_hidden(rows, now, counts)
        if not rows:
            continue
        try:
            answer = engine.push([row.url for row in rows])
        except EnginePaused as exc:
            log.warning("seo push %s: paused until %s: %s", alias, exc.until, exc)
            _release(rows, str(exc))
            state.paused_until, state.last_error = exc.until, str(exc)[:300]
            state.save()
            counts[f"{alias} paused"] += 1
            return
        except PushError as exc:
            # Down or refusing us: the batch waits its backoff, the next pass tries again.
            log.warning("seo push %s: %d URLs failed: %s", alias, len(rows), exc)
            _failed(rows, str(exc), now)
            state.last_error = str(exc)[:300]
            state.save()
            counts[f"{alias} failed"] += len(rows)
            return
        by_url = {row.url: row for row in rows}
        finished = set(answer.accepted) | set(answer.refused)
        _done([row for url, row in by_url.items() if url in finished], now)
        _release([row for url, row in by_url.items() if url not in finished])
        if answer.refused:
            log.warning("seo push %s: refused %s", alias, answer.refused[:5])
        counts[f"{alias} pushed"] += len(answer.accepted)
        if answer.refused:
            counts[f"{alias} refused"] += len(answer.refused)
        state.pushed_total += len(answer.accepted)
        state.last_error = ""
        if answer.remain is not None:
            state.remain, state.remain_day = answer.remain, beijing_today()
        state.paused_until = answer.pause_until
        state.save()
        if answer.pause_until or len(answer.accepted) < len(rows) - len(answer.refused):
            return


def push_urls() -> Counter:
    """Worker job: push the due URLs to every configured engine."""
    counts: Counter = Counter()
    deadline = time.monotonic() + PASS_SECONDS
    for alias in engines.configured:
        try:
            push_engine(alias, counts, deadline)
        except Exception:
            # One broken engine (a bad setting) must not keep the others from pushing.
            log.exception("seo push %s failed", alias)
            counts[f"{alias} error"] += 1
    return counts
