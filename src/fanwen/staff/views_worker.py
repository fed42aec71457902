"""后台任务 (/staff/worker/): each worker job's last run and the workers alive now."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from fanwen.ops.models import JobState, WorkerHeartbeat, stale_seconds
from fanwen.staff.access import staff_required


@staff_required
def worker(request: HttpRequest) -> HttpResponse:
    # Imported here: the command module imports every app's jobs, which the desk need not load.
    from fanwen.ops.management.commands.worker import JOBS

    now = timezone.now()
    states = {state.job: state for state in JobState.objects.all()}
    jobs = []
    # The worker's order first (a job it never ran is listed too), then rows of retired jobs.
    for name in [*JOBS, *sorted(set(states) - set(JOBS))]:
        state = states.get(name)
        failed = state is not None and state.ok is False
        overdue = name in JOBS and (state is None or state.overdue(now))
        jobs.append(
            {
                "name": name,
                "state": state,
                "failed": failed,
                "overdue": overdue,
                "retired": name not in JOBS,
            }
        )
    workers = [
        {"beat": beat, "stale": beat.stale(now)} for beat in WorkerHeartbeat.objects.all()[:50]
    ]
    return render(
        request,
        "staff/worker.html",
        {
            "jobs": jobs,
            "workers": workers,
            "alive": sum(1 for w in workers if not w["stale"]),
            "stale_seconds": stale_seconds(),
            "now": now,
        },
    )
