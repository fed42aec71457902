"""A wall-clock budget per file: parse loops call check(), which refuses the file once it is spent.

Every parsing step is linear in its input, so a file only runs long by being large; the
budget turns "large" into a clear refusal instead of a stalled batch.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from contextvars import ContextVar

from fanwen.library.importer import ImportRejected

# (deadline on the monotonic clock, the budget in seconds); a context variable so threads
# of one web process keep their own.
_current: ContextVar[tuple[float, float] | None] = ContextVar("import_budget", default=None)


@contextmanager
def limit(seconds: float):
    """Run the body under a budget of `seconds` (a nested budget keeps the outer one)."""
    if _current.get() is not None or seconds <= 0:
        yield
        return
    token = _current.set((time.monotonic() + seconds, seconds))
    try:
        yield
    finally:
        _current.reset(token)


def check() -> None:
    current = _current.get()
    if current is not None and time.monotonic() > current[0]:
        raise ImportRejected(f"解析超时：超过每个文件 {current[1]:g} 秒的上限，已跳过")
