"""The fuzz bench, 40 of its cases: no malformed file crashes, stalls or half-stores an import.

Runs bench/import_fuzz.py in its own process (each case in a forked child with a scratch
SQLite site, then the whole folder as one `fanwen import` batch) and reads its JSON summary.
The time bound is looser than the bench's 5 s goal: CI machines are shared.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_forty_malformed_files_are_refused_cleanly_or_imported():
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    env.pop("DJANGO_SETTINGS_MODULE", None)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "import_fuzz.py"), "--quick", "--cases", "40",
         "--json", "--max-seconds", "12", "--max-mb", "300"],
        env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["cases"] == 40
    assert summary["crashes"] == []
    assert summary["half_stored"] == []
    assert summary["over_seconds"] == [] and summary["over_mb"] == []
    assert summary["messages_not_chinese"] == []
    assert summary["refused"] >= 12 and summary["imported"] >= 5
    batch = summary["batch"]
    assert batch["differ"] == [] and batch["missing"] == [] and not batch["traceback"]
    assert proc.returncode == 0, proc.stderr[-2000:]
