"""Benchmark search on generated libraries.

Prints, in one run, for a 10k and a 100k article library (built once by bench/gen_corpus.py
and reused, like bench/pages.py):
  1. the index build rate of `fanwen search_reindex` (articles/s);
  2. p50/p95 of the full `search()` call (parsing, ranking, titles and snippets) beside
     raw tantivy `searcher.search` of the same query on the same index, and their ratio,
     over a fixed set of 20 queries (common, rare, two-character, phrase);
  3. p95 at 10k vs 100k;
  4. what a miss costs: a forgiving search() of typo and pinyin queries that find nothing as
     typed (the suggestion, then the search of it), p50/p95 at both sizes.

Usage: .venv/bin/python bench/search.py [--small 10000] [--large 100000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from pages import fanwen, library  # noqa: E402  (builds and caches the libraries)

QUERIES = {
    "common": ["工作", "总结", "安全", "学校", "工作总结"],
    "rare": [
        "防范电信网络诈骗",
        "民族团结进步",
        "普通话推广",
        "森林防火 工作计划",
        "档案管理 心得",
    ],
    "two-character": ["党员", "消防", "志愿", "招生", "审计"],
    "phrase": [
        '"文明城市创建"',
        '"安全生产工作总结"',
        '"扎实推进"',
        "“群众满意度”",
        '"一线工作法"',
    ],
}
# Typed wrong (or in pinyin) for titles every generated library has: the forgiving search
# finds nothing as typed, suggests, and searches the suggestion.
TYPOS = ["入党申清书", "工做总结", "rudang shenqingshu", "安全生产工做总结", "心得休会"]
GOAL_P95_MS = 15.0
GOAL_RATIO = 2.0
GOAL_GROWTH = 2.0
GOAL_BUILD_RATE = 500.0


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def measure(repeat: int) -> dict:
    """Runs inside a child whose FANWEN_VAR_DIR is the library: times every query."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanwen.settings")
    django.setup()
    from fanwen import search
    from fanwen.search.analysis import parse_query
    from fanwen.search.backends import get_backend

    backend = get_backend()
    full: list[float] = []
    raw: list[float] = []
    by_kind: dict[str, dict] = {}
    for kind, queries in QUERIES.items():
        kind_full: list[float] = []
        for query in queries:
            search.search(query)  # warm: caches, file pages
            for _ in range(repeat):
                started = time.perf_counter()
                results = search.search(query)
                full.append(elapsed := (time.perf_counter() - started) * 1000)
                kind_full.append(elapsed)
                tantivy_query = backend.query_for(parse_query(query))
                searcher = backend.searcher()
                started = time.perf_counter()
                searcher.search(tantivy_query, 11, count=False)
                raw.append((time.perf_counter() - started) * 1000)
            by_kind.setdefault(kind, {"totals": []})["totals"].append(results.total)
        by_kind[kind]["p95"] = percentile(kind_full, 95)
    misses: list[float] = []
    corrected: dict[str, str] = {}
    for query in TYPOS:
        search.search(query, forgive=True)
        for _ in range(repeat):
            started = time.perf_counter()
            results = search.search(query, forgive=True)
            misses.append((time.perf_counter() - started) * 1000)
        corrected[query] = results.suggestion if results.corrected else ""
    return {
        "docs": backend.searcher().num_docs,
        "full_p50": percentile(full, 50),
        "full_p95": percentile(full, 95),
        "raw_p50": percentile(raw, 50),
        "raw_p95": percentile(raw, 95),
        "by_kind": by_kind,
        "miss_p50": percentile(misses, 50),
        "miss_p95": percentile(misses, 95),
        "corrected": corrected,
    }


def reindex(var_dir: Path) -> float:
    env = {**os.environ, "FANWEN_VAR_DIR": str(var_dir)}
    env.pop("DATABASE_URL", None)
    out = subprocess.run(
        [sys.executable, "-m", "fanwen", "search_reindex", "--no-progress"],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    ).stdout
    print("  " + out.strip())
    return float(re.search(r"([\d.]+) articles/s", out).group(1))


def run_size(n: int, seed: int, repeat: int) -> dict:
    print(f"library of {n:,} articles")
    var_dir = library(n, seed)
    fanwen(var_dir, "migrate", "--noinput")  # a library built before the search app existed
    rate = reindex(var_dir)
    env = {**os.environ, "FANWEN_VAR_DIR": str(var_dir)}
    env.pop("DATABASE_URL", None)
    out = subprocess.run(
        [sys.executable, __file__, "--measure", "--repeat", str(repeat)],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    ).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    figures["build_rate"] = rate
    ratio = figures["full_p95"] / figures["raw_p95"] if figures["raw_p95"] else float("inf")
    figures["ratio_p95"] = ratio
    print(
        f"  search() p50 {figures['full_p50']:.2f} ms  p95 {figures['full_p95']:.2f} ms | "
        f"raw tantivy p50 {figures['raw_p50']:.2f} ms  p95 {figures['raw_p95']:.2f} ms | "
        f"ratio p95 {ratio:.2f}x"
    )
    for kind, data in figures["by_kind"].items():
        print(f"    {kind:14} search() p95 {data['p95']:.2f} ms, matches {data['totals']}")
    print(
        f"  a miss (suggest, then search the suggestion): p50 {figures['miss_p50']:.2f} ms  "
        f"p95 {figures['miss_p95']:.2f} ms"
    )
    for typed, meant in figures["corrected"].items():
        print(f"    {typed} → {meant or '(no suggestion)'}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=20, help="timed runs of each query")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.repeat)))
        return
    small = run_size(args.small, args.seed, args.repeat)
    large = run_size(args.large, args.seed, args.repeat)
    growth = large["full_p95"] / small["full_p95"]
    print()
    print(
        f"p95 of search(): {small['full_p95']:.2f} ms at {args.small:,} vs "
        f"{large['full_p95']:.2f} ms at {args.large:,} ({growth:.2f}x)"
    )
    print(
        f"p95 of a miss: {small['miss_p95']:.2f} ms at {args.small:,} vs "
        f"{large['miss_p95']:.2f} ms at {args.large:,}"
    )
    checks = [
        ("p95 <= 15 ms", large["full_p95"] <= GOAL_P95_MS),
        ("p95 <= 2x the small library's", growth <= GOAL_GROWTH),
        ("search() p95 <= 2x raw", large["ratio_p95"] <= GOAL_RATIO),
        ("build >= 500 articles/s", large["build_rate"] >= GOAL_BUILD_RATE),
    ]
    for name, ok in checks:
        print(f"  goal {name} at {args.large:,}: {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
