"""The worker's daily bill compare: after the hour, yesterday's bill, once however many workers run."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from fanwen.ops.management.commands import worker
from fanwen.orders.actions import do_close_order
from fanwen.orders.models import Entitlement, Order
from fanwen.payments import jobs
from fanwen.payments.backends.wechat import BEIJING
from fanwen.payments.errors import GatewayError
from fanwen.payments.models import JobRun
from fanwen.payments.tests.fixtures import LIVE_DB, sandbox_order
from fanwen.payments.tests.test_jobs import opened, pay_at_wechat, run
from fanwen.sandbox.models import SandboxTransaction


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def beijing(hour: int, minute: int = 0, day: int = 15) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=BEIJING)


@pytest.fixture
def compares(monkeypatch) -> list[dt.date]:
    """compare_bill stood in for: records the days asked for (and takes a moment, like the download)."""
    days: list[dt.date] = []

    def fake_compare(bill_date: dt.date, *, alias: str | None = None) -> Counter:
        days.append(bill_date)
        time.sleep(0.05)
        return Counter(matched=3, settled=0, mismatched=0, missing=0)

    monkeypatch.setattr(jobs, "compare_bill", fake_compare)
    return days


@pytest.mark.django_db
def test_nothing_runs_before_the_hour_then_yesterday_is_compared_once(
    sandbox_keys, compares, settings
):
    settings.FANWEN_BILL_COMPARE_HOUR = 10

    assert jobs.daily_compare_bill(now=beijing(9, 59)) == Counter()
    assert compares == [] and not JobRun.objects.exists()

    counts = jobs.daily_compare_bill(now=beijing(10, 0))
    assert counts["matched"] == 3
    assert compares == [dt.date(2026, 11, 14)]
    # Later passes that day, by this worker or another, leave it alone.
    assert jobs.daily_compare_bill(now=beijing(10, 1)) == Counter()
    assert jobs.daily_compare_bill(now=beijing(23, 59)) == Counter()
    assert compares == [dt.date(2026, 11, 14)]
    run_row = JobRun.objects.get()
    assert (run_row.job, run_row.period, run_row.attempts) == ("compare_bill", "2026-11-14", 1)
    assert run_row.finished_at is not None and "matched 3" in run_row.outcome

    # The next day, after the hour: the day before it.
    jobs.daily_compare_bill(now=beijing(10, 0, day=16))
    assert compares == [dt.date(2026, 11, 14), dt.date(2026, 11, 15)]


@pytest.mark.django_db
def test_days_missed_while_no_worker_ran_are_caught_up_oldest_first(
    sandbox_keys, compares, settings, xiaoming, article
):
    settings.FANWEN_BILL_COMPARE_HOUR = 10
    settings.FANWEN_BILL_CATCH_UP_DAYS = 7
    # The first order came on the 10th (Beijing); then no worker ran until the 15th.
    order = sandbox_order(xiaoming, article, sandbox_keys)
    Order.objects.filter(pk=order.pk).update(created_at=beijing(23, 30, day=10))

    counts = jobs.daily_compare_bill(now=beijing(10, 0))
    assert compares == [dt.date(2026, 11, day) for day in (10, 11, 12, 13, 14)]
    assert counts["matched"] == 15
    assert jobs.daily_compare_bill(now=beijing(11, 0)) == Counter()

    # Down again for three weeks: only the last FANWEN_BILL_CATCH_UP_DAYS days are looked at.
    compares.clear()
    jobs.daily_compare_bill(now=beijing(10, 0, day=29))
    assert compares == [dt.date(2026, 11, day) for day in range(22, 29)]


@pytest.mark.django_db
def test_the_hour_is_beijing_time(sandbox_keys, compares, settings):
    settings.FANWEN_BILL_COMPARE_HOUR = 10
    # 01:30 UTC is 09:30 in Beijing: not yet; 02:00 UTC is 10:00 there.
    assert jobs.daily_compare_bill(now=dt.datetime(2026, 11, 15, 1, 30, tzinfo=dt.UTC)) == Counter()
    jobs.daily_compare_bill(now=dt.datetime(2026, 11, 15, 2, 0, tzinfo=dt.UTC))

    assert compares == [dt.date(2026, 11, 14)]


@pytest.mark.django_db
def test_a_failed_compare_is_tried_again_after_the_retry_window(
    sandbox_keys, monkeypatch, settings
):
    settings.FANWEN_BILL_COMPARE_HOUR = 10
    answers: list[Exception | Counter] = [GatewayError("wechat trade_bill: 500 SYSTEM_ERROR")]

    def flaky_compare(bill_date: dt.date, *, alias: str | None = None) -> Counter:
        answer = answers.pop(0) if answers else Counter(matched=1)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(jobs, "compare_bill", flaky_compare)

    with pytest.raises(GatewayError):
        jobs.daily_compare_bill(now=beijing(10, 0))
    failed = JobRun.objects.get()
    assert failed.finished_at is None and "SYSTEM_ERROR" in failed.outcome

    assert jobs.daily_compare_bill(now=beijing(10, 10)) == Counter()
    assert jobs.daily_compare_bill(now=beijing(10, 31)) == Counter(matched=1)

    done = JobRun.objects.get()
    assert done.attempts == 2 and done.finished_at is not None


@pytest.mark.django_db
def test_without_wechat_pay_configured_there_is_nothing_to_compare(compares, settings):
    settings.FANWEN_BILL_COMPARE_HOUR = 0
    settings.FANWEN_SANDBOX = False  # the default alias is the sandbox, which is then off

    assert jobs.daily_compare_bill(now=beijing(12)) == Counter()
    assert compares == [] and not JobRun.objects.exists()


@LIVE_DB
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent writers need PostgreSQL; run with DATABASE_URL=postgres://...",
)
def test_several_workers_at_once_compare_the_day_once(sandbox_keys, compares, settings):
    settings.FANWEN_BILL_COMPARE_HOUR = 10
    workers = 6
    start = threading.Barrier(workers)
    results: list[Counter] = []

    def one_worker() -> None:
        start.wait()
        try:
            results.append(jobs.daily_compare_bill(now=beijing(11)))
        finally:
            connection.close()

    threads = [threading.Thread(target=one_worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(results) == workers
    assert compares == [dt.date(2026, 11, 14)]
    assert sum(1 for counts in results if counts) == 1
    assert JobRun.objects.count() == 1


@LIVE_DB
def test_the_worker_settles_from_yesterdays_bill_a_payment_everyone_else_missed(
    live_backend, xiaoming, article, sandbox_keys, settings
):
    settings.FANWEN_BILL_COMPARE_HOUR = 0
    order = opened(live_backend, xiaoming, article, sandbox_keys, minutes_ago=60 * 26)
    pay_at_wechat(order)
    yesterday = timezone.now() - dt.timedelta(days=1)
    SandboxTransaction.objects.filter(out_trade_no=order.out_trade_no).update(
        success_time=yesterday
    )
    # Closed here long ago, so the reconcile pass no longer asks about it; the bill still has it.
    do_close_order(order, reason="expired")
    Order.objects.filter(pk=order.pk).update(closed_at=yesterday)

    first = run("worker", "--once")
    second = run("worker", "--once")

    assert "reconcile_payments: nothing to do" in first
    assert "compare_bill: matched 0, mismatched 0, missing 0, settled 1" in first
    assert "compare_bill: nothing to do" in second
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert Entitlement.objects.filter(order=order).count() == 1
    bill_day = yesterday.astimezone(BEIJING).date().isoformat()
    # The order opened 26 hours ago: near Beijing midnight that is the day before too, which
    # the catch-up compares as well; the newest day compared is always yesterday.
    periods = set(JobRun.objects.filter(job="compare_bill").values_list("period", flat=True))
    assert bill_day in periods and max(periods) == bill_day


@pytest.mark.django_db
def test_the_worker_runs_every_registered_job_in_order(monkeypatch):
    ran: list[str] = []
    for name in list(worker.JOBS):
        monkeypatch.setitem(worker.JOBS, name, lambda name=name: ran.append(name) or Counter())
    command = worker.Command()
    command.stop = threading.Event()

    command.run_pass()

    assert ran == [
        "reconcile_payments",
        "expire_orders",
        "retry_refunds",
        "compare_bill",
        # Scheduled articles go live before fonts are built and the index is fed, so a
        # pass publishes, protects and indexes them together; uploads import last.
        "publish_scheduled",
        "build_fonts",
        "search_outbox",
        "push_urls",
        "import_batches",
        "flush_counters",
    ]
