"""`fanwen worker`: the periodic jobs in a loop until SIGTERM; several workers can run at once."""

from __future__ import annotations

import logging
import signal
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection
from django.utils import timezone

from fanwen.lib import priority
from fanwen.library.actions import publish_scheduled
from fanwen.ops import heartbeat
from fanwen.ops.logs import job_context
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
        # Fonts, imports and indexing are batch work: on a machine it shares with app nodes,
        # the worker takes the CPU they leave (its threads inherit this).
        priority.lower_this_thread()
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
        try:
            while not self.stop.is_set():
                self.run_pass()
                passes += 1
                if once:
                    break
                # wait() returns early on SIGTERM, so a stop never waits out the interval.
                self.stop.wait(interval)
        finally:
            if not once:
                heartbeat.forget()
        return passes

    def run_pass(self) -> None:
        if not hasattr(self, "stop"):
            self.stop = threading.Event()
        # The process's start, kept across passes: the staff page shows how long it has run.
        self.started_at = getattr(self, "started_at", None) or timezone.now()
        _fresh_connection()
        heartbeat.beat(self.started_at)
        for name, job in JOBS.items():
            if self.stop.is_set():
                return
            _fresh_connection()
            with job_context(name):
                self.run_job(name, job)
        _fresh_connection()
        heartbeat.beat(self.started_at, passed=True)

    def run_job(self, name: str, job: Callable[[], Counter]) -> None:
        started_at, started = timezone.now(), time.perf_counter()
        heartbeat.job_started(name, started_at)
        try:
            counts = job()
        except Exception as exc:
            # One failing job must not stop the others, nor the worker.
            log.exception("worker: %s failed", name)
            ok, outcome = False, "".join(traceback.format_exception_only(exc)).strip()
        else:
            report(self, name, counts)
            ok, outcome = True, heartbeat.outcome_text(counts)
        _fresh_connection()
        duration_ms = int((time.perf_counter() - started) * 1000)
        heartbeat.job_finished(name, started_at, ok=ok, outcome=outcome, duration_ms=duration_ms)


def _fresh_connection() -> None:
    # A long-running process must not keep a connection the database already dropped;
    # inside a transaction (a test) the connection is someone else's to manage.
    if not connection.in_atomic_block:
        close_old_connections()
