"""Background work runs at a lower CPU priority than the requests of the same machine."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

from fanwen.lib import priority


def nice_of_this_thread() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def in_a_thread(function):
    result = {}
    thread = threading.Thread(target=lambda: result.update(value=function()))
    thread.start()
    thread.join()
    return result["value"]


def test_only_the_calling_thread_is_lowered_and_never_raised():
    before = nice_of_this_thread()
    lowered = in_a_thread(lambda: (priority.lower_this_thread(before + 3), nice_of_this_thread()))
    assert lowered == (before + 3, before + 3)
    assert nice_of_this_thread() == before  # the caller's other threads keep theirs
    # Asking for a higher priority than the thread has changes nothing (and needs no right).
    assert in_a_thread(lambda: priority.lower_this_thread(before - 1)) == before


def test_the_worker_process_and_a_nodes_font_builder_run_lowered(settings, monkeypatch):
    from fanwen.ops.management.commands.worker import Command

    settings.FANWEN_BACKGROUND_NICE = nice_of_this_thread() + 4
    seen = []
    monkeypatch.setattr(Command, "run", lambda self, **kw: seen.append(nice_of_this_thread()))
    in_a_thread(lambda: Command().handle(once=True, interval=None))
    assert seen == [settings.FANWEN_BACKGROUND_NICE]

    # The font builder thread of a fresh process (a node) takes the configured value.
    code = (
        "import django, os, threading; django.setup();"
        "from fanwen.protection import fonts;"
        "print(fonts._executor.submit("
        "lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())).result())"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "fanwen.settings", "FANWEN_BACKGROUND_NICE": "7"}
    env.pop("DATABASE_URL", None)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert int(out.stdout.split()[-1]) == max(7, os.getpriority(os.PRIO_PROCESS, 0))
