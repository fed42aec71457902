"""Benchmark 原创度检测 (fanwen.checks.matching.check) on generated libraries.

Prints, for a 10k and a 100k article library (bench/pages.py library(), reused; the search
index is built with `fanwen search_reindex` when the library has none for this schema):
  1. p50/p95 of a check of a ~3,000-character draft, over drafts that are 0%, 30%, 60% and
     100% library sentences (lightly edited, fresh sentences for the rest: the test set of
     fanwen.checks.tests.testset), each timed cold (the 3-gram cache emptied first, as after a
     restart or for a draft whose candidates no one asked for lately) and warm;
  2. the shares reported against the truth, and one 10,000-character draft;
  3. p95 at 10k vs 100k, and the goal (cold p95 <= 500 ms at 100k).

Usage: .venv/bin/python bench/check.py [--small 10000] [--large 100000] [--drafts 6]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from pages import WORK, library  # noqa: E402  (builds and caches the libraries)
from search import percentile, reindex  # noqa: E402

GOAL_P95_MS = 500.0
DRAFT_CHARS = 3000
RATIOS = (0, 30, 60, 100)
# A library another process is still building is ready when its marker appears.
READY_WAIT_SECONDS = 1800


def library_sentences(sample: int, seed: int) -> list[str]:
    """Sentences of `sample` articles spread over the library (by a hash of the id)."""
    from django.db import connection

    from fanwen.checks.tests.testset import library_sentences as cut
    from fanwen.library.models import Piece

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM library_article WHERE status = 'published' "
            "ORDER BY (id * 2654435761 + %s) %% 1000003 LIMIT %s",
            [seed, sample],
        )
        ids = [row[0] for row in cursor.fetchall()]
    texts = Piece.objects.filter(article_id__in=ids).order_by("article_id", "position")
    return cut(texts.values_list("text", flat=True))


def drafts(count: int, seed: int) -> list[tuple[int, str]]:
    """`count` drafts per ratio of about DRAFT_CHARS characters: (true share, text)."""
    import random

    from fanwen.checks.tests.testset import FRESH_SENTENCES, make_draft

    rng = random.Random(seed)
    pool = library_sentences(400, seed)
    fresh_chars = sum(map(len, FRESH_SENTENCES)) / len(FRESH_SENTENCES)
    made = []
    for ratio in RATIOS:
        for _ in range(count):
            sources: list[str] = []
            own = 0
            # Sentences until the draft is long enough, library ones at the given ratio.
            while sum(map(len, sources)) + own * fresh_chars < DRAFT_CHARS:
                if len(sources) < ratio / 100 * (len(sources) + own + 1):
                    sources.append(rng.choice(pool))
                else:
                    own += 1
            own = min(own, len(FRESH_SENTENCES))
            text, copied, _ = make_draft(sources, own, rng)
            made.append((round(100 * len(copied) / (len(copied) + own)), text))
    return made


def measure(count: int, seed: int) -> dict:
    """Runs inside a child whose FANWEN_VAR_DIR is the library: times every draft."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanwen.settings")
    django.setup()
    from fanwen.checks import matching
    from fanwen.library.models import Article
    from fanwen.search.backends import get_backend

    docs = get_backend().searcher().num_docs
    articles = Article.objects.published().count()
    if docs < articles:
        return {"docs": docs, "articles": articles}
    made = drafts(count, seed)
    # Warm-up: the index files and the database pages come off the disk once.
    for _, text in made[:: len(RATIOS)]:
        matching.check(text)
    cold, warm, shares = [], [], []
    for truth, text in made:
        matching.clear_cache()
        started = time.perf_counter()
        report = matching.check(text)
        cold.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        matching.check(text)
        warm.append((time.perf_counter() - started) * 1000)
        shares.append((truth, report.share, len(text)))
    # The longest draft the page takes.
    long_text = "\n".join(text for _, text in made[len(made) // 2 :])[:10_000]
    matching.clear_cache()
    started = time.perf_counter()
    matching.check(long_text)
    long_ms = (time.perf_counter() - started) * 1000
    return {
        "docs": docs,
        "articles": articles,
        "cold_p50": percentile(cold, 50),
        "cold_p95": percentile(cold, 95),
        "warm_p50": percentile(warm, 50),
        "warm_p95": percentile(warm, 95),
        "shares": shares,
        "long_ms": long_ms,
        "long_chars": len(long_text),
    }


def wait_ready(n: int, seed: int) -> Path:
    marker = WORK / f"lib-{n}-{seed}" / "ready"
    if (WORK / f"lib-{n}-{seed}").exists() and not marker.exists():
        # Being built by another run: library() would wipe a folder without the marker.
        print(f"  waiting for {marker} …")
        deadline = time.monotonic() + READY_WAIT_SECONDS
        while not marker.exists():
            if time.monotonic() > deadline:
                raise SystemExit(f"{marker} did not appear within {READY_WAIT_SECONDS}s")
            time.sleep(10)
    return library(n, seed)


def child(var_dir: Path, count: int, seed: int) -> dict:
    env = {**os.environ, "FANWEN_VAR_DIR": str(var_dir)}
    env.pop("DATABASE_URL", None)
    out = subprocess.run(
        [sys.executable, __file__, "--measure", "--drafts", str(count), "--seed", str(seed)],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def run_size(n: int, seed: int, count: int) -> dict:
    print(f"library of {n:,} articles")
    var_dir = wait_ready(n, seed)
    figures = child(var_dir, count, seed)
    if "cold_p95" not in figures:
        print(f"  the index holds {figures['docs']:,} of {figures['articles']:,}: rebuilding it")
        reindex(var_dir)
        figures = child(var_dir, count, seed)
    print(
        f"  3,000-character draft: cold p50 {figures['cold_p50']:.0f} ms  "
        f"p95 {figures['cold_p95']:.0f} ms | warm p50 {figures['warm_p50']:.0f} ms  "
        f"p95 {figures['warm_p95']:.0f} ms  ({len(figures['shares'])} drafts)"
    )
    off = [abs(truth - shown) for truth, shown, _ in figures["shares"]]
    print(
        "  truth → reported share: "
        + ", ".join(f"{truth}→{shown}" for truth, shown, _ in figures["shares"])
        + f"  (largest miss {max(off)} points)"
    )
    print(f"  {figures['long_chars']:,}-character draft, cold: {figures['long_ms']:.0f} ms")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--drafts", type=int, default=6, help="drafts per library share")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.drafts, args.seed)))
        return
    small = run_size(args.small, args.seed, args.drafts)
    large = run_size(args.large, args.seed, args.drafts)
    print()
    print(
        f"p95 of a check (cold): {small['cold_p95']:.0f} ms at {args.small:,} vs "
        f"{large['cold_p95']:.0f} ms at {args.large:,} "
        f"({large['cold_p95'] / small['cold_p95']:.2f}x); warm {small['warm_p95']:.0f} vs "
        f"{large['warm_p95']:.0f} ms"
    )
    met = large["cold_p95"] <= GOAL_P95_MS
    print(f"  goal p95 <= {GOAL_P95_MS:.0f} ms at {args.large:,}: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
