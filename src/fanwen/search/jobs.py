"""Worker job: apply the search outbox (whatever the after-commit pass left)."""

from __future__ import annotations

import time
from collections import Counter

from fanwen.search import outbox

# One worker pass stops applying after this long; the rest waits for the next pass.
PASS_SECONDS = 30


def apply_outbox_job() -> Counter:
    counts: Counter = Counter()
    deadline = time.monotonic() + PASS_SECONDS
    while time.monotonic() < deadline:
        applied = outbox.apply(500)
        if not applied:
            break
        counts["applied"] += applied
    return counts
