"""Per-day counters: one cache incr per hit, written to DailyCount in batches.

record() is cheap enough for every page view (fanwen.lib.batchcount); the worker's
flush_counters job and the dashboard write what is pending below the threshold.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from fanwen.lib.batchcount import BatchCounter
from fanwen.stats.models import DailyCount, Metric

# The flush job looks this many days back: a counter older than that was lost with its cache.
FLUSH_DAYS = 3

Ident = tuple[str, dt.date]


def counter_key(ident: Ident) -> str:
    metric, day = ident
    return f"fw:d:{metric}:{day.isoformat()}"


def _write(ident: Ident, hits: int) -> None:
    metric, day = ident
    table = connection.ops.quote_name(DailyCount._meta.db_table)
    count = connection.ops.quote_name("count")
    # One statement: concurrent flushers of the same day add up instead of overwriting.
    sql = (
        f"INSERT INTO {table} (day, metric, {count}) VALUES (%s, %s, %s) "
        f"ON CONFLICT (day, metric) DO UPDATE SET {count} = {table}.{count} + excluded.{count}"
    )
    # atomic(): on SQLite the write then queues on the project's write lock like any other.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [day, metric, hits])


daily = BatchCounter(counter_key, _write, lambda: settings.FANWEN_STATS_FLUSH_EVERY)


def record(metric: Metric | str, day: dt.date | None = None) -> None:
    """Count one event of `metric` today (Beijing time)."""
    daily.record((str(metric), day or timezone.localdate()))


def flush_recent(days: int = FLUSH_DAYS) -> tuple[int, int]:
    """Write the pending counts of the last `days` days: (hits written, counters touched)."""
    today = timezone.localdate()
    idents = [(m.value, today - dt.timedelta(days=n)) for n in range(days) for m in Metric]
    return daily.flush_many(idents)


def flush_counters_job() -> Counter:
    hits, counters = flush_recent()
    return Counter({"hits": hits, "counters": counters}) if hits else Counter()
