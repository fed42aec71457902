"""Django's SQLite backend with write transactions queued on a file lock.

Every transaction here is BEGIN IMMEDIATE, so two writers (gunicorn workers, threads) meet
at SQLite's write lock, and SQLite's busy handler makes the loser sleep and poll in steps
of up to 100 ms: under a burst of payment notifications that sleep is the whole tail
latency. An flock() on a file beside the database queues writers instead, and the next one
takes it within 10 ms of it coming free. Readers never take it (WAL lets them read on).

The wait is bounded (settings.FANWEN_SQLITE_LOCK_SECONDS): past it the writer gets
WriteLockTimeout, a retryable OperationalError that views answer with 503 and Retry-After.
A write outside a transaction (an UPDATE in autocommit) skips the file lock and meets
SQLite's busy timeout instead; its "database is locked" becomes WriteLockTimeout too.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time

from django.conf import settings
from django.db import OperationalError
from django.db.backends.sqlite3 import base

# Used when the setting is absent (a wrapper built outside a configured project).
DEFAULT_LOCK_SECONDS = 10.0


class WriteLockTimeout(OperationalError):
    """Another writer held the database past the bound: nothing was written, try again later."""

    retry_after = 5

    def __init__(self, waited: float) -> None:
        super().__init__(
            f"the SQLite write lock stayed taken for {waited:.1f} s; "
            "nothing was written, retry the request"
        )
        self.waited = waited


class BusyAwareCursor(base.SQLiteCursorWrapper):
    """SQLite's "database is locked" (its busy timeout ran out) as the same retryable error."""

    def execute(self, query, params=None):
        try:
            return super().execute(query, params)
        except base.Database.OperationalError as exc:
            raise _busy(exc) from exc

    def executemany(self, query, param_list):
        try:
            return super().executemany(query, param_list)
        except base.Database.OperationalError as exc:
            raise _busy(exc) from exc


def _busy(exc: Exception) -> Exception:
    if "database is locked" not in str(exc):
        return exc
    seconds = getattr(settings, "FANWEN_SQLITE_LOCK_SECONDS", DEFAULT_LOCK_SECONDS)
    return WriteLockTimeout(float(seconds))


def acquire(fd: int, seconds: float) -> None:
    """flock(fd) exclusively within `seconds`, or raise WriteLockTimeout.

    A blocking flock() cannot be given a deadline from a thread, so the wait polls a
    non-blocking one in steps growing from 1 ms to 10 ms (SQLite's own handler sleeps
    up to 100 ms); an uncontended writer takes the lock on the first try.
    """
    start = time.monotonic()
    deadline = start + max(seconds, 0.0)
    step = 0.001
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
        now = time.monotonic()
        if now >= deadline:
            raise WriteLockTimeout(now - start)
        time.sleep(min(step, deadline - now))
        step = min(step * 2, 0.01)


class DatabaseWrapper(base.DatabaseWrapper):
    _write_lock_fd: int | None = None
    _write_lock_held = False

    def create_cursor(self, name=None):
        return self.connection.cursor(factory=BusyAwareCursor)

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        if not self.is_in_memory_db():
            # One open file per connection: flock() then also queues threads of one process.
            path = f"{self.settings_dict['NAME']}.writelock"
            self._write_lock_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        return connection

    def _start_transaction_under_autocommit(self) -> None:
        if self._write_lock_fd is not None and not self._write_lock_held:
            seconds = getattr(settings, "FANWEN_SQLITE_LOCK_SECONDS", DEFAULT_LOCK_SECONDS)
            acquire(self._write_lock_fd, float(seconds))
            self._write_lock_held = True
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_write_lock()
            raise

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._release_write_lock()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_write_lock()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._release_write_lock()
            if self._write_lock_fd is not None:
                os.close(self._write_lock_fd)
                self._write_lock_fd = None

    def _release_write_lock(self) -> None:
        if self._write_lock_held and self._write_lock_fd is not None:
            fcntl.flock(self._write_lock_fd, fcntl.LOCK_UN)
        self._write_lock_held = False
