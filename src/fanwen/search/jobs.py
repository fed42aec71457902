"""Worker job: bring this node's index up to the search log, and prune the log."""

from __future__ import annotations

import time
from collections import Counter

from fanwen.search import follow

# One worker pass stops applying after this long; the rest waits for the next pass.
PASS_SECONDS = 30


def apply_outbox_job() -> Counter:
    # Safe with any number of workers: on one node the index's write lock lets one apply (the
    # others find it busy and move on); on several, each applies to its own index.
    counts: Counter = Counter()
    # Alive for pruning (and rebuilt if the database no longer knows this node).
    follow.heartbeat()
    deadline = time.monotonic() + PASS_SECONDS
    while time.monotonic() < deadline:
        applied = follow.sync(500)
        if not applied:
            break
        counts["applied"] += applied
    pruned = follow.prune()
    if pruned:
        counts["pruned"] = pruned
    return counts
