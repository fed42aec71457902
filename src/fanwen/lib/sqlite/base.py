"""Django's SQLite backend with write transactions queued on a file lock.

Every transaction here is BEGIN IMMEDIATE, so two writers (gunicorn workers, threads) meet
at SQLite's write lock, and SQLite's busy handler makes the loser sleep and poll in steps
of up to 100 ms: under a burst of payment notifications that sleep is the whole tail
latency. An flock() on a file beside the database queues writers instead and wakes the
next one the moment the lock is free. Readers never take it (WAL lets them read on).

The wait is bounded (settings.FANWEN_SQLITE_LOCK_SECONDS): past it the writer gets
WriteLockTimeout, a retryable OperationalError that views answer with 503 and Retry-After.
A write outside a transaction (an UPDATE in autocommit) skips the file lock and meets
SQLite's busy timeout instead; its "database is locked" becomes WriteLockTimeout too.
"""

from __future__ import annotations

import fcntl
import os
import threading
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


def acquire(path: str, seconds: float) -> int:
    """An fd of `path` holding its exclusive flock(), taken within `seconds`, or WriteLockTimeout.

    Each transaction opens its own file: the lock belongs to that open file, so a wait given
    up can never take or drop the lock of a later transaction. An uncontended writer takes it
    on the first try; a contended one waits in a blocking flock() (woken the moment the lock
    is free, as fairly as the kernel queues) on a helper thread, since a blocking flock()
    cannot be given a deadline. A wait given up leaves that thread to unlock and close its
    file once it gets the lock.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd
    except BlockingIOError:
        pass
    except BaseException:
        os.close(fd)
        raise
    started = time.monotonic()
    guard = threading.Lock()
    state = {"taken": False, "abandoned": False}
    taken = threading.Event()

    def wait() -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            os.close(fd)
            return
        with guard:
            if state["abandoned"]:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
                return
            state["taken"] = True
        taken.set()

    threading.Thread(target=wait, name="sqlite-write-lock", daemon=True).start()
    if taken.wait(max(seconds, 0.0)):
        return fd
    with guard:
        if state["taken"]:  # got it between the timeout and here
            return fd
        state["abandoned"] = True
    raise WriteLockTimeout(time.monotonic() - started)


class DatabaseWrapper(base.DatabaseWrapper):
    # The lock file beside the database; None in memory, where there is no other writer.
    _write_lock_path: str | None = None
    # The open file holding the lock during a write transaction.
    _write_lock_fd: int | None = None

    def create_cursor(self, name=None):
        return self.connection.cursor(factory=BusyAwareCursor)

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        if not self.is_in_memory_db():
            self._write_lock_path = f"{self.settings_dict['NAME']}.writelock"
        return connection

    def _start_transaction_under_autocommit(self) -> None:
        if self._write_lock_path is not None and self._write_lock_fd is None:
            seconds = getattr(settings, "FANWEN_SQLITE_LOCK_SECONDS", DEFAULT_LOCK_SECONDS)
            self._write_lock_fd = acquire(self._write_lock_path, float(seconds))
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

    def _release_write_lock(self) -> None:
        fd, self._write_lock_fd = self._write_lock_fd, None
        if fd is not None:
            # Closing the file drops its lock.
            os.close(fd)
