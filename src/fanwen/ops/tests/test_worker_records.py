"""The worker records each job's last run and its own heartbeat; staff see them at /staff/worker/."""

from __future__ import annotations

import os
from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from fanwen.ops.management.commands import worker as worker_module
from fanwen.ops.management.commands.worker import JOBS, Command
from fanwen.ops.models import JobState, WorkerHeartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_user("desk", password="pw-123456-long", is_staff=True)
    client.force_login(user)
    return client


def test_a_pass_records_every_job_and_a_heartbeat(settings):
    # No emulator is served here to hand out yesterday's bill: the compare is not due yet.
    settings.FANWEN_BILL_COMPARE_HOUR = 24
    call_command("worker", "--once", stdout=open(os.devnull, "w"))

    states = {state.job: state for state in JobState.objects.all()}
    assert set(states) == set(JOBS)
    for state in states.values():
        assert state.ok is True, (state.job, state.outcome)
        assert state.finished_at >= state.started_at
        assert state.duration_ms is not None and state.pid == os.getpid() and state.host
        assert state.outcome  # the Counter as text, or "nothing to do"
    beat = WorkerHeartbeat.objects.get()
    assert beat.pid == os.getpid() and beat.passes == 1 and beat.current_job == ""


def test_a_failing_job_records_its_error_and_the_next_jobs_still_run(monkeypatch):
    def explode() -> Counter:
        raise RuntimeError("账单下载失败 bill endpoint 502")

    jobs = {"first": lambda: Counter(done=2), "explode": explode, "after": lambda: Counter()}
    monkeypatch.setattr(worker_module, "JOBS", jobs)
    command = Command(stdout=open(os.devnull, "w"))

    command.run_pass()

    first, failed, after = (JobState.objects.get(job=name) for name in jobs)
    assert first.ok is True and first.outcome == "done 2" and first.last_ok_at is not None
    assert failed.ok is False and failed.last_ok_at is None
    assert failed.outcome == "RuntimeError: 账单下载失败 bill endpoint 502"
    assert after.ok is True and after.outcome == "nothing to do"


def test_a_second_pass_updates_the_rows_in_place(monkeypatch):
    monkeypatch.setattr(worker_module, "JOBS", {"only": lambda: Counter(sent=1)})
    command = Command(stdout=open(os.devnull, "w"))
    command.run_pass()
    first_start = JobState.objects.get().started_at

    command.run_pass()

    state = JobState.objects.get()
    assert state.started_at > first_start
    assert WorkerHeartbeat.objects.get().passes == 2


def test_the_staff_page_lists_jobs_outcomes_and_workers_and_marks_failures_red(
    staff_client, monkeypatch
):
    def explode() -> Counter:
        raise ValueError("商户证书过期")

    monkeypatch.setattr(
        worker_module,
        "JOBS",
        {"reconcile_payments": lambda: Counter(paid=3), "compare_bill": explode},
    )
    Command(stdout=open(os.devnull, "w")).run_pass()

    html = staff_client.get("/staff/worker/").content.decode()

    assert "后台任务" in html and "reconcile_payments" in html and "paid 3" in html
    assert "ValueError: 商户证书过期" in html and "✗ 失败" in html
    assert f">{os.getpid()}<" in html  # the live worker's pid
    assert html.count('data-alert="1"') == 1  # only the failed job


def test_a_job_not_run_for_too_long_and_a_silent_worker_are_overdue(staff_client, settings):
    settings.FANWEN_WORKER_INTERVAL_SECONDS = 60  # stale after 3 × 60 + 60 s
    long_ago = timezone.now() - timedelta(minutes=10)
    name = next(iter(JOBS))
    JobState.objects.create(
        job=name, started_at=long_ago, finished_at=long_ago, ok=True, outcome="nothing to do"
    )
    WorkerHeartbeat.objects.create(host="web-2", pid=4242, started_at=long_ago, seen_at=long_ago)

    html = staff_client.get("/staff/worker/").content.decode()

    assert "✗ 逾期" in html and "✗ 无心跳" in html and "web-2" in html
    # Every job: the one run long ago, and the ones never run at all.
    assert html.count('class="wk-job" data-job=') == len(JOBS)
    assert html.count('data-alert="1"') == len(JOBS) + 1


def test_the_desk_links_to_the_page(staff_client):
    html = staff_client.get("/staff/").content.decode()
    assert 'href="/staff/worker/"' in html
