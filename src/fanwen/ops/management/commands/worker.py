"""`fanwen worker`: the periodic jobs in a loop until SIGTERM; several workers can run at once."""

from __future__ import annotations

import logging
import signal
import threading
from collections import Counter
from collections.abc import Callable

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection

from fanwen.library.actions import publish_scheduled
from fanwen.ops.management.commands._jobs import report
from fanwen.payments import jobs as payment_jobs
from fanwen.protection.jobs import build_fonts_job
from fanwen.search.jobs import apply_outbox_job
from fanwen.seo.outbox import push_urls
from fanwen.staff.importing import import_batches_job
from fanwen.stats.counters import flush_counters_job

log = logging.getLogger("fanwen.payments.jobs")

# Every pass runs these in this order. A job takes no arguments, returns a Counter of what it
# did, and must be safe with several workers running (claim rows; a daily job claims its day
# with payments.jobs.claim_run, as daily_compare_bill does). A new job is one more line here.
JOBS: dict[str, Callable[[], Counter]] = {
    # Reconcile first: a pending order found paid is settled rather than closed.
    "reconcile_payments": payment_jobs.reconcile_payments,
    "expire_orders": payment_jobs.expire_orders,
    "retry_refunds": payment_jobs.retry_refunds,
    # Once a day after FANWEN_BILL_COMPARE_HOUR (Beijing time), yesterday's bill.
    "compare_bill": payment_jobs.daily_compare_bill,
    "publish_scheduled": publish_scheduled,  # 定时发布 articles now due; before their fonts
    # Protection fonts of new or edited articles, and the next rotation's ahead of time.
    "build_fonts": lambda: Counter(build_fonts_job()),
    # Search outbox rows the after-commit pass left (a crash, a busy index).
    "search_outbox": apply_outbox_job,
    # New and changed article URLs to Baidu and IndexNow, once they are published and indexed.
    "push_urls": push_urls,
    # Upload batches nobody runs: queued, or a runner that went quiet (crashed) for 60 s.
    "import_batches": import_batches_job,
    # The per-day counters (views, paywall opened) still in the cache; the dashboard reads them.
    "flush_counters": flush_counters_job,
}


class Command(BaseCommand):
    help = "Run the periodic jobs every --interval seconds (or --once) until SIGTERM/SIGINT."

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
        for name, job in JOBS.items():
            if self.stop.is_set():
                return
            _fresh_connection()
            try:
                report(self, name, job())
            except Exception:
                # One failing job must not stop the others, nor the worker.
                log.exception("worker: %s failed", name)
        _fresh_connection()


def _fresh_connection() -> None:
    # A long-running process must not keep a connection the database already dropped;
    # inside a transaction (a test) the connection is someone else's to manage.
    if not connection.in_atomic_block:
        close_old_connections()
