"""`fanwen search_reindex`: rebuild this node's search index from the database (a snapshot:
its cursor on the search log is the head read before the articles), then catch up."""

from __future__ import annotations

import os
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from fanwen.search import documents, follow
from fanwen.search.backends.base import SearchBusy

# Below this many articles the worker processes cost more than they save.
PARALLEL_FROM = 2000


class Command(BaseCommand):
    help = "重建搜索索引 / rebuild the search index from the database (searches go on meanwhile)"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch", type=int, default=500, help="articles read per query")
        parser.add_argument(
            "--jobs",
            type=int,
            default=0,
            help="processes that segment text (default: one per CPU for large libraries)",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, batch: int, jobs: int, no_progress: bool, **options) -> None:
        if batch < 1 or jobs < 0:
            raise CommandError("--batch must be >= 1 and --jobs >= 0")
        total = documents.count_all()
        if jobs == 0:
            jobs = (os.cpu_count() or 1) if total >= PARALLEL_FROM else 1
        started = time.perf_counter()
        with tqdm(
            total=total, unit="篇", disable=no_progress or options.get("verbosity", 1) < 1
        ) as bar:
            try:
                # The old index answers searches until the rebuild commits, all at once.
                count, _ = follow.snapshot(batch=batch, jobs=jobs, progress=bar.update)
                # What was written during the rebuild.
                while follow.sync(500, snapshot="never") >= 500:
                    pass
            except SearchBusy as exc:
                raise CommandError(f"the index is being written by another process: {exc}") from exc
        elapsed = time.perf_counter() - started
        rate = count / elapsed if elapsed else 0.0
        self.stdout.write(
            f"search_reindex: {count} articles in {elapsed:.1f}s, {rate:.0f} articles/s"
        )
