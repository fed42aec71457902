"""A burst of payments with the server killed (kill -9) mid-way: after restart and reconcile,
every paid order is settled exactly once.

The reconcile step is `fanwen reconcile_payments` (the worker's job), run once after restart.

Runs a real gunicorn on 127.0.0.1 with a scratch SQLite database and sandbox keys; the
Django work of each step runs in its own process (tests/crash/scenario.py). Every process
and request is bounded in time.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SCENARIO = Path(__file__).with_name("scenario.py")
ORDERS = 90
KILL_AFTER_PAID = ORDERS // 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Site:
    """A scratch fanwen: its environment, its gunicorn, and its scenario steps."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.db = root / "crash.sqlite3"
        self.env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="fanwen.settings",
            FANWEN_VAR_DIR=str(root),
            DATABASE_URL=f"sqlite:///{self.db}",
            FANWEN_SANDBOX="1",
            FANWEN_SANDBOX_AUTO_NOTIFY="0",
            FANWEN_SANDBOX_ORIGIN=f"http://127.0.0.1:{self.port}",
            PAYMENT_WECHAT_BACKEND="sandbox",
            # The orders are seconds old; the worker normally waits for the notification first.
            FANWEN_RECONCILE_AFTER_MINUTES="0",
            FANWEN_LOG_LEVEL="INFO",
            PYTHONPATH=str(ROOT / "src"),
        )
        self.env.pop("REDIS_URL", None)
        self.server: subprocess.Popen | None = None
        self.starts = 0

    def step(self, *args: str, timeout: float = 120) -> dict:
        done = subprocess.run(
            [sys.executable, str(SCENARIO), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    def start_step(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, str(SCENARIO), *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=(self.root / f"step-{args[0]}.log").open("w"),
            text=True,
        )

    def reconcile(self) -> str:
        """`fanwen reconcile_payments`: the worker's job, asking the emulator about pending orders."""
        done = subprocess.run(
            [str(BIN / "fanwen"), "reconcile_payments", "--limit", str(ORDERS * 2)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def start_server(self) -> None:
        self.starts += 1
        log = (self.root / f"gunicorn-{self.starts}.log").open("w")
        # Own process group, so kill -9 takes the master and its workers at once.
        self.server = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "fanwen.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--timeout",
                "20",
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.server.poll() is None, "gunicorn exited on start"
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("gunicorn did not start within 30 s")

    def kill_server(self) -> None:
        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGKILL)
            self.server.wait(timeout=10)

    def stop_server(self) -> None:
        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill_server()

    def paid_orders(self) -> int:
        # Read straight from the file, as a bystander: no Django in the test process.
        with sqlite3.connect(self.db, timeout=5) as conn:
            return conn.execute(
                "SELECT COUNT(*) FROM orders_order WHERE status = 'paid'"
            ).fetchone()[0]


@pytest.fixture
def site(tmp_path):
    site = Site(tmp_path)
    yield site
    site.stop_server()


def test_every_paid_order_is_settled_exactly_once_after_a_kill_9_mid_burst(site):
    site.step("migrate")
    site.start_server()
    assert site.step("pay", str(ORDERS)) == {"orders": ORDERS, "sandbox_paid": ORDERS}

    sender = site.start_step("deliver", "4")
    deadline = time.monotonic() + 60
    while site.paid_orders() < KILL_AFTER_PAID:
        assert time.monotonic() < deadline, "the notifications did not arrive"
        assert sender.poll() is None, "every notification arrived before the kill"
        time.sleep(0.005)
    site.kill_server()
    stdout, _ = sender.communicate(timeout=60)
    delivery = json.loads(stdout.strip().splitlines()[-1])
    paid_at_crash = site.paid_orders()

    # The crash cost notifications: some were refused or cut off and are not paid locally.
    assert delivery["failed"] > 0
    assert KILL_AFTER_PAID <= paid_at_crash < ORDERS

    site.start_server()
    lost = ORDERS - paid_at_crash
    assert re.search(r"\bsettled (\d+)\b", site.reconcile())[1] == str(lost)

    # WeChat retries what it sent before the crash: all acknowledged, nothing granted twice.
    redelivery = site.step("deliver", "4")
    assert redelivery == {"sent": ORDERS, "ok": ORDERS, "failed": 0}

    result = site.step("check")
    assert result["orders"] == result["paid"] == result["paid_once"] == ORDERS
    assert result["entitlements"] == ORDERS
    assert sum(result["settled_by"].values()) == ORDERS
    assert result["settled_by"].get("query", 0) == ORDERS - paid_at_crash
