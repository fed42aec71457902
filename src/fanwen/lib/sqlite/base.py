"""Django's SQLite backend with write transactions queued on a file lock.

Every transaction here is BEGIN IMMEDIATE, so two writers (gunicorn workers, threads) meet
at SQLite's write lock, and SQLite's busy handler makes the loser sleep and poll in steps
of up to 100 ms: under a burst of payment notifications that sleep is the whole tail
latency. An flock() on a file beside the database queues writers instead and wakes the
next one the moment the lock is free. Readers never take it (WAL lets them read on).
"""

from __future__ import annotations

import fcntl
import os

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    _write_lock_fd: int | None = None
    _write_lock_held = False

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        if not self.is_in_memory_db():
            # One open file per connection: flock() then also queues threads of one process.
            path = f"{self.settings_dict['NAME']}.writelock"
            self._write_lock_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        return connection

    def _start_transaction_under_autocommit(self) -> None:
        if self._write_lock_fd is not None and not self._write_lock_held:
            fcntl.flock(self._write_lock_fd, fcntl.LOCK_EX)
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
