"""How fast a publish on one node is found by a search on another (fanwen.search.follow).

Two node processes with their own FANWEN_VAR_DIR (so their own search index) share one
database: PostgreSQL when DATABASE_URL is set (a scratch database beside it, dropped at the
end), else a shared SQLite file. Node A publishes N articles through the library's actions
(its own after-commit pass updates A's index); node B only searches, with the default check
before a search (FANWEN_SEARCH_SYNC_SECONDS), no worker and no help from A. Prints:
  1. per article, the time from A's commit until B's search() finds it: p50/p95/max;
  2. the cost of the check on a search when nothing changed: search() with the check off,
     with the default interval (amortised) and with a check on every search, and the check
     alone (µs).

Usage: .venv/bin/python bench/search_sync.py [--articles 50] [--every 0.2] [--sync-seconds 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def code(n: int) -> str:
    # A word no other article has, so a search for it finds exactly that article.
    return f"xq{n:05d}zz"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def setup_django() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanwen.settings")
    django.setup()


def publisher(args) -> None:
    setup_django()
    from django.db import transaction
    from django.utils import timezone

    from fanwen.library.actions import do_publish_article
    from fanwen.library.models import Article, Category, Piece

    category, _ = Category.objects.get_or_create(slug="zongjie", defaults={"name": "工作总结"})
    ready = Path(args.ready)
    while not ready.exists():
        time.sleep(0.01)
    for n in range(args.articles):
        article = Article.objects.create(
            category=category,
            title=f"安全生产工作总结{code(n)}",
            status=Article.Status.DRAFT,
            published_at=timezone.now(),
            piece_count=1,
        )
        text = f"今年以来我们坚持安全第一。{code(n)}"
        Piece.objects.create(
            article=article, position=1, blocks=[{"kind": "p", "text": text}], text=text
        )
        stamp: list[float] = []
        with transaction.atomic():
            # Registered first, so it runs at the commit, before A's own after-commit pass.
            transaction.on_commit(lambda stamp=stamp: stamp.append(time.time()))
            do_publish_article(article)
        print(json.dumps({"n": n, "published": stamp[0]}), flush=True)
        time.sleep(args.every)


def searcher(args) -> None:
    setup_django()
    from django.conf import settings

    from fanwen import search
    from fanwen.search import follow
    from fanwen.search.backends import get_backend

    follow.sync()  # the new node's snapshot, before the clock starts
    Path(args.ready).touch()
    found: dict[int, float] = {}
    deadline = time.monotonic() + args.articles * args.every + 60
    while len(found) < args.articles and time.monotonic() < deadline:
        # A reader searching over and over for what is not found yet.
        for n in range(args.articles):
            if n in found:
                continue
            if search.search(code(n)).hits:
                found[n] = time.time()
            break
        time.sleep(0.001)
    for n, when in sorted(found.items()):
        print(json.dumps({"n": n, "found": when}), flush=True)

    # The cost of the check when nothing changed.
    backend = get_backend()
    query = code(0)
    repeat = args.repeat

    def timed(interval: float) -> float:
        settings.FANWEN_SEARCH_SYNC_SECONDS = interval
        backend._follow_checks = None
        search.search(query)
        started = time.perf_counter()
        for _ in range(repeat):
            search.search(query)
        return (time.perf_counter() - started) / repeat * 1e6

    off, default, every = [], [], []
    for _ in range(5):  # interleaved, best of each: the machine's other load hits all three
        off.append(timed(0))
        default.append(timed(args.sync_seconds))
        every.append(timed(1e-9))
    checks = follow._Checks()
    follow.check(backend, checks, time.monotonic())
    alone = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(repeat):
            follow.check(backend, checks, time.monotonic())
        alone = min(alone, (time.perf_counter() - started) / repeat * 1e6)
    # Between two checks (the interval not over): what nearly every search pays.
    settings.FANWEN_SEARCH_SYNC_SECONDS = 3600
    follow.before_search(backend)
    started = time.perf_counter()
    for _ in range(repeat * 10):
        follow.before_search(backend)
    between = (time.perf_counter() - started) / (repeat * 10) * 1e6
    print(
        json.dumps(
            {
                "between_us": between,
                "off_us": min(off),
                "default_us": min(default),
                "every_us": min(every),
                "check_us": alone,
                "vendor": __import__("django.db").db.connection.vendor,
            }
        ),
        flush=True,
    )


def scratch_postgres(url: str) -> tuple[str, callable]:
    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'postgres'}_search_sync"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urlunsplit(parts._replace(path=f"/{name}")), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=50)
    parser.add_argument("--every", type=float, default=0.2, help="seconds between publishes")
    parser.add_argument("--sync-seconds", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=2000, help="searches per cost figure")
    parser.add_argument("--role", choices=["publisher", "searcher"], help=argparse.SUPPRESS)
    parser.add_argument("--ready", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "publisher":
        return publisher(args)
    if args.role == "searcher":
        return searcher(args)

    work = Path(tempfile.mkdtemp(prefix="fanwen-search-sync-"))
    drop = None
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        url, drop = scratch_postgres(url)
    else:
        url = f"sqlite:///{work / 'shared.sqlite3'}"
    base = {
        **os.environ,
        "DATABASE_URL": url,
        "FANWEN_SEARCH_SYNC_SECONDS": str(args.sync_seconds),
        "FANWEN_SEARCH_RATE_LIMIT": "0",
        "FANWEN_SEARCH_IP_RATE_LIMIT": "0",
        "PYTHONPATH": str(ROOT / "src"),
    }
    env = {name: {**base, "FANWEN_VAR_DIR": str(work / name)} for name in ("a", "b")}
    try:
        subprocess.run(
            [sys.executable, "-m", "fanwen", "migrate", "--noinput", "-v0"],
            check=True,
            env=env["a"],
            cwd=ROOT,
        )
        ready = str(work / "ready")
        common = [
            sys.executable,
            __file__,
            "--articles",
            str(args.articles),
            "--every",
            str(args.every),
            "--sync-seconds",
            str(args.sync_seconds),
            "--repeat",
            str(args.repeat),
            "--ready",
            ready,
        ]
        node_b = subprocess.Popen(
            [*common, "--role", "searcher"], env=env["b"], stdout=subprocess.PIPE, text=True
        )
        node_a = subprocess.Popen(
            [*common, "--role", "publisher"], env=env["a"], stdout=subprocess.PIPE, text=True
        )
        published_out, _ = node_a.communicate()
        found_out, _ = node_b.communicate()
        if node_a.returncode or node_b.returncode:
            raise SystemExit("a node process failed")
    finally:
        if drop is not None:
            drop()
    published = {}
    found = {}
    costs = {}
    for line in published_out.splitlines():
        row = json.loads(line)
        published[row["n"]] = row["published"]
    for line in found_out.splitlines():
        row = json.loads(line)
        if "found" in row:
            found[row["n"]] = row["found"]
        else:
            costs = row
    lags = [(found[n] - published[n]) * 1000 for n in published if n in found]
    print(
        f"database: {costs.get('vendor')}; {len(published)} articles published on node A, "
        f"one every {args.every}s; node B checks at most every {args.sync_seconds}s"
    )
    print(
        f"  found on node B: {len(lags)}/{len(published)}; publish -> found on B: "
        f"p50 {percentile(lags, 50):.0f} ms, p95 {percentile(lags, 95):.0f} ms, "
        f"max {max(lags):.0f} ms (mean {statistics.mean(lags):.0f} ms)"
    )
    print(
        f"  search() when nothing changed: check off {costs['off_us']:.0f} µs, "
        f"default ({args.sync_seconds}s) {costs['default_us']:.0f} µs "
        f"(+{costs['default_us'] - costs['off_us']:.1f}), "
        f"check on every search {costs['every_us']:.0f} µs "
        f"(+{costs['every_us'] - costs['off_us']:.0f}); the check alone {costs['check_us']:.0f} µs, "
        f"between two checks {costs['between_us']:.2f} µs"
    )


if __name__ == "__main__":
    main()
