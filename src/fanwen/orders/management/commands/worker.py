"""`fanwen worker`: reconcile, expire and refund in a loop until SIGTERM; several can run at once."""

from __future__ import annotations

import logging
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection

from fanwen.orders.management.commands._jobs import report
from fanwen.payments.jobs import JOBS

log = logging.getLogger("fanwen.payments.jobs")

# Reconcile first: a pending order found paid is settled rather than closed.
ORDER = ("reconcile_payments", "expire_orders", "retry_refunds")


class Command(BaseCommand):
    help = "Run the payment jobs every --interval seconds (or --once) until SIGTERM/SIGINT."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help="seconds between passes (default FANWEN_WORKER_INTERVAL_SECONDS)",
        )

    def handle(self, *args, once: bool, interval: float | None, **options) -> None:
        self.stop = threading.Event()
        if not once:
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, self.request_stop)
        interval = settings.FANWEN_WORKER_INTERVAL_SECONDS if interval is None else interval
        self.run(once=once, interval=interval)

    def request_stop(self, signum: int | None = None, frame: object = None) -> None:
        log.info("worker: stop requested (signal %s), finishing the current job", signum)
        self.stop.set()

    def run(self, *, once: bool, interval: float) -> int:
        passes = 0
        while not self.stop.is_set():
            self.run_pass()
            passes += 1
            if once:
                break
            # wait() returns early on SIGTERM, so a stop never waits out the interval.
            self.stop.wait(interval)
        return passes

    def run_pass(self) -> None:
        for name in ORDER:
            if self.stop.is_set():
                return
            _fresh_connection()
            try:
                report(self, name, JOBS[name]())
            except Exception:
                # One failing job must not stop the others, nor the worker.
                log.exception("worker: %s failed", name)
        _fresh_connection()


def _fresh_connection() -> None:
    # A long-running process must not keep a connection the database already dropped;
    # inside a transaction (a test) the connection is someone else's to manage.
    if not connection.in_atomic_block:
        close_old_connections()
