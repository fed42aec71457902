"""The worker's records: each job's last run and each worker's heartbeat (ops.models).

Recording never stops the worker: a database that refuses the write is logged and the job
runs anyway (its own work needs the database too, and says so louder).
"""

from __future__ import annotations

import logging
import os
import socket
from collections import Counter
from datetime import datetime

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from fanwen.ops.models import JobState, WorkerHeartbeat

log = logging.getLogger("fanwen.ops.worker")

# Outcomes longer than this (a long traceback) are cut: the page shows the start of it.
OUTCOME_CHARS = 4000


def host_name() -> str:
    return socket.gethostname()[:255]


def outcome_text(counts: Counter) -> str:
    return ", ".join(f"{key} {value}" for key, value in sorted(counts.items())) or "nothing to do"


def _upsert_job(job: str, **fields) -> None:
    if JobState.objects.filter(job=job).update(**fields):
        return
    try:
        # Savepoint: inside a caller's transaction a lost race must not poison it.
        with transaction.atomic():
            JobState.objects.create(job=job, **fields)
    except IntegrityError:
        # Another worker created the row between the update and the insert.
        JobState.objects.filter(job=job).update(**fields)


def job_started(job: str, started_at: datetime) -> None:
    try:
        _upsert_job(job, started_at=started_at, host=host_name(), pid=os.getpid())
        WorkerHeartbeat.objects.filter(host=host_name(), pid=os.getpid()).update(
            current_job=job, seen_at=started_at
        )
    except DatabaseError:
        log.warning("worker: could not record the start of %s", job, exc_info=True)


def job_finished(
    job: str, started_at: datetime, *, ok: bool, outcome: str, duration_ms: int
) -> None:
    finished_at = timezone.now()
    fields = {
        "started_at": started_at,
        "finished_at": finished_at,
        "ok": ok,
        "outcome": outcome[:OUTCOME_CHARS],
        "duration_ms": duration_ms,
        "host": host_name(),
        "pid": os.getpid(),
    }
    if ok:
        fields["last_ok_at"] = finished_at
    try:
        _upsert_job(job, **fields)
    except DatabaseError:
        log.warning("worker: could not record the end of %s", job, exc_info=True)


def beat(started_at: datetime, *, passed: bool = False) -> None:
    """Touch this process's heartbeat; `passed` counts one more finished pass."""
    now = timezone.now()
    host, pid = host_name(), os.getpid()
    try:
        updated = WorkerHeartbeat.objects.filter(host=host, pid=pid).update(
            seen_at=now, current_job="", passes=F("passes") + int(passed)
        )
        if not updated:
            with transaction.atomic():
                WorkerHeartbeat.objects.create(
                    host=host, pid=pid, started_at=started_at, seen_at=now, passes=int(passed)
                )
    except DatabaseError:
        log.warning("worker: could not record the heartbeat", exc_info=True)


def forget() -> None:
    """A worker that stops takes its heartbeat with it: it is gone, not late."""
    try:
        WorkerHeartbeat.objects.filter(host=host_name(), pid=os.getpid()).delete()
    except DatabaseError:
        log.warning("worker: could not remove the heartbeat", exc_info=True)
