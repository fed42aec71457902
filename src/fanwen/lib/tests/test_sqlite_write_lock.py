"""Writers on one SQLite file wait for each other on the file lock, not on SQLite's busy loop."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import OperationalError, connection

from fanwen.lib.sqlite.base import DatabaseWrapper, WriteLockTimeout

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the write lock belongs to the SQLite backend"
)


@pytest.fixture(autouse=True)
def own_database_files(django_db_blocker):
    # These connections go to throwaway files of their own, not to the test database.
    with django_db_blocker.unblock():
        yield


def wrapper_for(path, alias: str) -> DatabaseWrapper:
    settings_dict = {
        **connection.settings_dict,
        "NAME": str(path),
        # No busy waiting at all: without the file lock a second writer fails at once.
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 0},
        "TEST": {},
    }
    return DatabaseWrapper(settings_dict, alias=alias)


def begin(db: DatabaseWrapper) -> None:
    db.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)


def finish(db: DatabaseWrapper) -> None:
    db.commit()
    db.set_autocommit(True)


def test_a_second_writer_waits_for_the_first_instead_of_failing(tmp_path):
    path = tmp_path / "shared.sqlite3"
    first = wrapper_for(path, "first")
    first.cursor().execute("CREATE TABLE t (n INTEGER)")
    begin(first)
    first.cursor().execute("INSERT INTO t VALUES (1)")

    began, errors = threading.Event(), []

    def second_writer() -> None:
        second = wrapper_for(path, "second")
        try:
            begin(second)
            began.set()
            second.cursor().execute("INSERT INTO t VALUES (2)")
            finish(second)
        except Exception as exc:  # noqa: BLE001 - reported to the test thread below
            errors.append(exc)
        finally:
            second.close()

    thread = threading.Thread(target=second_writer)
    thread.start()
    assert not began.wait(0.5), "the second writer must queue while the first one writes"
    finish(first)
    thread.join(10)
    assert errors == []
    assert began.is_set()
    rows = [row[0] for row in first.cursor().execute("SELECT n FROM t ORDER BY n").fetchall()]
    first.close()
    assert rows == [1, 2]


def test_a_rolled_back_transaction_frees_the_lock(tmp_path):
    path = tmp_path / "shared.sqlite3"
    first = wrapper_for(path, "first")
    first.cursor().execute("CREATE TABLE t (n INTEGER)")
    begin(first)
    first.rollback()
    first.set_autocommit(True)
    second = wrapper_for(path, "second")
    begin(second)
    second.cursor().execute("INSERT INTO t VALUES (3)")
    finish(second)
    second.close()
    first.close()


def test_a_writer_gives_up_after_the_bound_with_a_retryable_error(tmp_path, settings):
    settings.FANWEN_SQLITE_LOCK_SECONDS = 1
    path = tmp_path / "shared.sqlite3"
    first = wrapper_for(path, "first")
    first.cursor().execute("CREATE TABLE t (n INTEGER)")
    begin(first)
    first.cursor().execute("INSERT INTO t VALUES (1)")
    second = wrapper_for(path, "second")
    second.ensure_connection()

    start = time.monotonic()
    with pytest.raises(WriteLockTimeout) as raised:
        begin(second)
    waited = time.monotonic() - start

    assert isinstance(raised.value, OperationalError)
    assert "retry" in str(raised.value)
    assert 1.0 <= waited < 1.5
    assert second.get_autocommit(), "a failed begin leaves the connection as it was"
    finish(first)
    # Once the first writer is done the same connection writes normally.
    begin(second)
    second.cursor().execute("INSERT INTO t VALUES (2)")
    finish(second)
    rows = [row[0] for row in second.cursor().execute("SELECT n FROM t ORDER BY n").fetchall()]
    second.close()
    first.close()
    assert rows == [1, 2]


def test_a_waiting_writer_gets_the_lock_soon_after_it_is_freed(tmp_path, settings):
    settings.FANWEN_SQLITE_LOCK_SECONDS = 10
    path = tmp_path / "shared.sqlite3"
    first = wrapper_for(path, "first")
    first.cursor().execute("CREATE TABLE t (n INTEGER)")
    begin(first)
    got: list[float] = []

    def second_writer() -> None:
        second = wrapper_for(path, "second")
        begin(second)
        got.append(time.monotonic())
        finish(second)
        second.close()

    thread = threading.Thread(target=second_writer)
    thread.start()
    time.sleep(0.5)
    freed = time.monotonic()
    finish(first)
    thread.join(10)
    first.close()
    assert got and got[0] - freed < 0.05


def test_a_write_outside_a_transaction_that_meets_the_lock_gets_the_same_error(tmp_path):
    path = tmp_path / "shared.sqlite3"
    first = wrapper_for(path, "first")
    first.cursor().execute("CREATE TABLE t (n INTEGER)")
    begin(first)
    first.cursor().execute("INSERT INTO t VALUES (1)")
    second = wrapper_for(path, "second")

    # Autocommit: no file lock, SQLite's busy timeout (0 here) and then "database is locked".
    with pytest.raises(WriteLockTimeout):
        second.cursor().execute("INSERT INTO t VALUES (2)")

    finish(first)
    second.cursor().execute("INSERT INTO t VALUES (2)")
    rows = [row[0] for row in second.cursor().execute("SELECT n FROM t ORDER BY n").fetchall()]
    second.close()
    first.close()
    assert rows == [1, 2]


def test_a_wait_given_up_does_not_keep_the_lock_once_it_comes_free(tmp_path, settings):
    settings.FANWEN_SQLITE_LOCK_SECONDS = 0.3
    path = tmp_path / "shared.sqlite3"
    first = wrapper_for(path, "first")
    first.cursor().execute("CREATE TABLE t (n INTEGER)")
    begin(first)
    second = wrapper_for(path, "second")
    second.ensure_connection()
    with pytest.raises(WriteLockTimeout):
        begin(second)

    finish(first)

    # The abandoned waiter takes the lock as it comes free and lets it go at once.
    third = wrapper_for(path, "third")
    started = time.monotonic()
    begin(third)
    assert time.monotonic() - started < 0.2
    third.cursor().execute("INSERT INTO t VALUES (3)")
    finish(third)
    begin(second)
    second.cursor().execute("INSERT INTO t VALUES (2)")
    finish(second)
    rows = [row[0] for row in second.cursor().execute("SELECT n FROM t ORDER BY n").fetchall()]
    for db in (first, second, third):
        db.close()
    assert rows == [2, 3]
