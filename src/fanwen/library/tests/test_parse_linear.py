"""Every parsing step is linear: four times the input takes about four times as long.

The pathological lines are the fuzz bench's (one per regex shape of the importer); each is
timed at n and 4n characters against an ordinary essay of the same sizes in the same run,
so a slow machine moves both. Quadratic work shows as ~16x, which the bounds refuse.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import pytest

from fanwen.library.importer import ImportRejected, parse_bytes
from fanwen.library.importer.placeholders import find_placeholders

BENCH = Path(__file__).resolve().parents[4] / "bench" / "import_fuzz.py"
N = 10_000


def _bench():
    spec = importlib.util.spec_from_file_location("import_fuzz", BENCH)
    module = importlib.util.module_from_spec(spec)
    # Dataclasses look their module up by name.
    sys.modules.setdefault("import_fuzz", module)
    spec.loader.exec_module(module)
    return module


FUZZ = _bench()
SHAPES = FUZZ._pathological_lines()


def _shape(name: str, size: int) -> str:
    line = SHAPES[name]
    head, tail = line[:8], line[-8:]
    # Keep the shape's distinctive start and end ("当前位置:", "…年"), scale the middle.
    middle = line[8:-8] or line
    return head + (middle * (size // len(middle) + 1))[:size] + tail


def _seconds(data: bytes, name: str) -> float:
    # The best of 5: on a machine busy with other tests, one slow run is the machine.
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        try:
            parse_bytes(data, name)
        except ImportRejected:
            pass
        best = min(best, time.perf_counter() - started)
    return best


def _document(line: str) -> bytes:
    return ("标题\n正文开始。\n" + line + "\n结束。\n").encode()


@pytest.mark.parametrize("suffix", [".txt", ".md"])
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_pathological_line_parses_in_linear_time(shape, suffix):
    small = _seconds(_document(_shape(shape, N)), "a" + suffix)
    large = _seconds(_document(_shape(shape, 4 * N)), "a" + suffix)
    essay = FUZZ.ESSAY.replace("\n", "")
    baseline = _seconds(_document((essay * (4 * N // len(essay) + 1))[: 4 * N]), "a" + suffix)
    # Under 50 ms for 40,000 characters is linear enough whatever the ratio says (timer noise);
    # 8x leaves room for a busy machine and still refuses quadratic work (~16x).
    assert large <= max(8 * small, 0.05, 4 * baseline), (shape, small, large, baseline)


def test_many_placeholders_are_found_in_linear_time():
    def seconds(count: int) -> float:
        text = "xx同志在20__年__月__日到某某公司，" * count
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            found = find_placeholders(text)
            best = min(best, time.perf_counter() - started)
        assert len(found) == 3 * count
        return best

    small, large = seconds(5_000), seconds(20_000)
    # Best of three on a busy machine; quadratic work would take ~16x.
    assert large <= max(8 * small, 0.05), (small, large)
