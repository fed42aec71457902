"""Background work yields the CPU to requests: a nice value for the calling thread.

On Linux the nice value belongs to a thread, and threads started later inherit it: called
first thing in a process (the worker), it lowers the whole process; in a thread pool's
initializer (the nodes' font builder), that pool only.
"""

from __future__ import annotations

import logging
import os
import threading

from django.conf import settings

log = logging.getLogger(__name__)


def lower_this_thread(nice: int | None = None) -> int:
    """Raise this thread's nice value to `nice` (default FANWEN_BACKGROUND_NICE); never lowers
    it. Returns the value in force afterwards."""
    target = settings.FANWEN_BACKGROUND_NICE if nice is None else nice
    tid = threading.get_native_id()
    current = os.getpriority(os.PRIO_PROCESS, tid)
    if target <= current:
        return current
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(target, 19))
    except OSError as exc:  # a container without the right: run at the usual priority
        log.warning("could not lower the priority of thread %s: %s", tid, exc)
        return current
    return os.getpriority(os.PRIO_PROCESS, tid)
