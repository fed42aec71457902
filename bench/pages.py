"""Benchmark the reading pages with wrk.

Prints, in one run:
  1. an anonymous article page through gunicorn vs nginx serving the same bytes as a static
     file: req/s of each, the ratio, p99 (32 connections by default);
  2. p95 of uncached article and category pages on a 10k vs a 100k generated library, and
     the ratio between them.

Usage: .venv/bin/python bench/pages.py [--small 10000] [--large 100000] [--duration 10]
Needs wrk and nginx (Debian packages) on PATH. Everything listens on 127.0.0.1 only and
every wrk run is bounded by --duration.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# wrk reads thousands of pages a second from one IP, far over the page rate limits (the
# environment may still set them, to measure what counting costs).
PAGE_LIMITS_OFF = {"FANWEN_PAGE_RATE_LIMIT": "0", "FANWEN_PAGE_IP_RATE_LIMIT": "0"}
WORK = Path(os.environ.get("FANWEN_BENCH_DIR", "/tmp/fanwen-bench"))

# wrk prints one JSON line at the end; latencies are in microseconds.
REPORT_LUA = """
done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format(
    '{"requests": %d, "errors": %d, "rps": %.1f, "p50": %d, "p95": %d, "p99": %d, '
    .. '"timeouts": %d, "bad_status": %d, "socket_errors": %d}\\n',
    summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout,
    summary.requests / secs, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), summary.errors.timeout, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write))
end
"""

RANDOM_PATHS_LUA = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
math.randomseed(%d)
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except Exception:
            time.sleep(0.2)
    raise SystemExit(f"server at {url} did not answer within {timeout}s")


def fanwen(var_dir: Path, *args: str, extra_env: dict | None = None) -> None:
    env = {**os.environ, "FANWEN_VAR_DIR": str(var_dir), **(extra_env or {})}
    env.pop("DATABASE_URL", None)  # the benchmark owns its SQLite library
    subprocess.run([str(BIN / "fanwen"), *args], check=True, env=env, stdout=subprocess.DEVNULL)


def gen_corpus(var_dir: Path, *args: str) -> None:
    env = {**os.environ, "FANWEN_VAR_DIR": str(var_dir)}
    env.pop("DATABASE_URL", None)
    script = [sys.executable, str(ROOT / "bench" / "gen_corpus.py"), *args]
    subprocess.run(script, check=True, env=env, stdout=subprocess.DEVNULL)


def library(n: int, seed: int) -> Path:
    """A SQLite library with n generated articles, built once and reused by later runs."""
    var_dir = WORK / f"lib-{n}-{seed}"
    marker = var_dir / "ready"
    if not marker.exists():
        shutil.rmtree(var_dir, ignore_errors=True)
        var_dir.mkdir(parents=True)
        started = time.monotonic()
        fanwen(var_dir, "migrate", "--noinput")
        gen_corpus(var_dir, "--articles", str(n), "--seed", str(seed))
        print(f"  built library of {n:,} articles in {time.monotonic() - started:.0f}s")
        marker.write_text("ok")
    return var_dir


def sample_paths(var_dir: Path, count: int, seed: int) -> tuple[list[str], list[str]]:
    db = sqlite3.connect(var_dir / "fanwen.sqlite3")
    ids = [
        row[0]
        for row in db.execute(
            "SELECT id FROM library_article WHERE status='published' "
            "ORDER BY (id * 2654435761 + ?) % 1000003 LIMIT ?",
            (seed, count),
        )
    ]
    # Articles per category, sub-categories included, so every sampled page exists.
    counts = dict(
        db.execute(
            "SELECT c.slug, COUNT(a.id) FROM library_category c JOIN library_article a "
            "ON a.category_id = c.id OR a.category_id IN "
            "(SELECT id FROM library_category WHERE parent_id = c.id) "
            "WHERE a.status = 'published' GROUP BY c.slug"
        )
    )
    db.close()
    article_paths = [f"/a/{i}.html" for i in ids]
    # Category pages: first pages and some deep pages, as a crawler would walk them.
    category_paths = [
        f"/c/{slug}/?page={page}" if page > 1 else f"/c/{slug}/"
        for slug, count in counts.items()
        for page in (1, 2, 10, 50)
        if (page - 1) * 20 < count
    ]
    return article_paths, category_paths


class Gunicorn:
    def __init__(self, var_dir: Path, workers: int, threads: int, extra_env: dict | None = None):
        self.port = free_port()
        env = {**PAGE_LIMITS_OFF, **os.environ, "FANWEN_VAR_DIR": str(var_dir), **(extra_env or {})}
        env.pop("DATABASE_URL", None)
        self.proc = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "fanwen.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--worker-class",
                "gthread",
                "--threads",
                str(threads),
                "--keep-alive",
                "30",
                "--log-level",
                "warning",
                "--access-logfile",
                "-" if os.environ.get("FANWEN_BENCH_ACCESS_LOG") else "/dev/null",
            ],
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        wait_http(self.url + "/robots.txt")

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=30)


class Nginx:
    def __init__(self, root: Path):
        self.port = free_port()
        self.prefix = Path(tempfile.mkdtemp(prefix="nginx-", dir=WORK))
        conf = self.prefix / "nginx.conf"
        conf.write_text(f"""
daemon off;
worker_processes {os.cpu_count() or 2};
pid {self.prefix}/nginx.pid;
error_log {self.prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  keepalive_requests 1000000;
  types {{ text/html html; }}
  server {{
    listen 127.0.0.1:{self.port};
    root {root};
  }}
}}
""")
        self.proc = subprocess.Popen(
            ["nginx", "-p", str(self.prefix), "-c", str(conf)], start_new_session=True
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=30)


def wrk(url: str, connections: int, duration: int, script: str = "") -> dict:
    lua = Path(tempfile.mkstemp(suffix=".lua", dir=WORK)[1])
    lua.write_text(script + REPORT_LUA)
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout",
            "5s",
            "-s",
            str(lua),
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=duration + 60,
    ).stdout
    lua.unlink()
    return json.loads(out.strip().splitlines()[-1])


def ms(us: int) -> str:
    return f"{us / 1000:.1f} ms"


def throughput(var_dir: Path, args) -> None:
    article_paths, _ = sample_paths(var_dir, 1, args.seed)
    path = article_paths[0]
    server = Gunicorn(var_dir, args.workers, args.threads)
    try:
        body = urllib.request.urlopen(server.url + path).read()
        static_root = Path(tempfile.mkdtemp(prefix="static-", dir=WORK))
        static_root.chmod(0o755)  # nginx's workers run as an unprivileged user
        static_file = static_root / path.lstrip("/")
        static_file.parent.mkdir(parents=True, exist_ok=True)
        static_file.write_bytes(body)
        static_file.parent.chmod(0o755)
        static_file.chmod(0o644)
        wrk(server.url + path, args.connections, 2)  # warm the page cache and the workers
        django = wrk(server.url + path, args.connections, args.duration)
    finally:
        server.stop()
    nginx = Nginx(static_root)
    try:
        wait_http(nginx.url + path)
        static = wrk(nginx.url + path, args.connections, args.duration)
    finally:
        nginx.stop()
    ratio = django["rps"] / static["rps"]
    print(
        f"\n1. anonymous article page {path} ({len(body):,} bytes), {args.connections} connections, {args.duration}s each"
    )
    print(
        f"   gunicorn ({args.workers}x{args.threads} gthread): {django['rps']:>9,.0f} req/s  p50 {ms(django['p50'])}  p99 {ms(django['p99'])}  errors {django['errors']}"
    )
    print(
        f"   nginx static file:          {static['rps']:>9,.0f} req/s  p50 {ms(static['p50'])}  p99 {ms(static['p99'])}  errors {static['errors']}"
    )
    print(
        f"   ratio gunicorn/nginx: {ratio:.1%}  (goal >= 6%)   gunicorn p99 {ms(django['p99'])} (goal <= 30 ms)"
    )


def scaling(sizes: list[tuple[int, Path]], args) -> None:
    # As many connections as workers: the p95 then measures the pages, not the queue in front.
    print(
        f"\n2. uncached pages (page cache off), random URLs, {args.scale_connections} connections, "
        f"{args.duration}s each"
    )
    results: dict[str, list[dict]] = {"article": [], "category": []}
    for n, var_dir in sizes:
        article_paths, category_paths = sample_paths(var_dir, 2000, args.seed)
        server = Gunicorn(var_dir, args.workers, args.threads, {"FANWEN_PAGE_CACHE_SECONDS": "0"})
        try:
            for kind, paths in (("article", article_paths), ("category", category_paths)):
                listing = Path(tempfile.mkstemp(suffix=".txt", dir=WORK)[1])
                listing.write_text("\n".join(paths) + "\n")
                script = RANDOM_PATHS_LUA % (listing, args.seed)
                wrk(server.url, args.scale_connections, 3, script)
                r = wrk(server.url, args.scale_connections, args.duration, script)
                results[kind].append(r)
                print(
                    f"   {n:>7,} articles, {kind:8}: {r['rps']:>7,.0f} req/s  p50 {ms(r['p50'])}  p95 {ms(r['p95'])}  p99 {ms(r['p99'])}  errors {r['errors']}"
                )
        finally:
            server.stop()
    if len(sizes) == 2:
        for kind, (small, large) in results.items():
            print(
                f"   {kind} p95 {sizes[1][0]:,} vs {sizes[0][0]:,}: {large['p95'] / small['p95']:.2f}x (goal <= 1.3x)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scale-connections", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-scaling", action="store_true")
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} not found: apt-get install wrk nginx-light")
    WORK.mkdir(parents=True, exist_ok=True)
    print(f"fanwen page benchmark — {os.cpu_count()} cores, SQLite, libraries under {WORK}")
    sizes = [(args.small, library(args.small, args.seed))]
    if not args.skip_large:
        sizes.append((args.large, library(args.large, args.seed)))
    throughput(sizes[0][1], args)
    if not args.skip_scaling:
        scaling(sizes, args)


if __name__ == "__main__":
    main()
