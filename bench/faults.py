"""Faults on the running stack (`make stack`) while readers read and buyers buy.

During one run of --duration seconds, with anonymous readers and sandbox purchases going on
through nginx, this kills -9 one app node (then starts it again), kills -9 the worker (then
starts it again), restarts PostgreSQL once and stops Redis for 10 s, and publishes an article
while Redis is away. It prints:
  - for each fault window and overall: reader requests, answers by status, failures;
  - spies: anonymous readers and other buyers fetching the pages buyers just unlocked — any
    clean page served to them is a leak (must be 0);
  - purchases: started, paid at the emulator, unlocked; after recovery, in the database: every
    paid-for order paid, settled exactly once, one right each;
  - each node's search: the article published during the faults found, and when.

The fault commands default to this machine's services (PostgreSQL 15 cluster "main", Redis on
127.0.0.1:6379 keeping nothing on disk); --pg-restart, --redis-stop and --redis-start change
them. Redis is always started again, also when the run is interrupted.

Usage: .venv/bin/python bench/faults.py [--duration 100] [--readers 24] [--rate 4]
Needs the stack running (make stack) with its articles (bench/load.py adds and warms them).
Bounded in time; 127.0.0.1 only. It stops and starts the machine's PostgreSQL and Redis.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "deploy"))
from load import Buyers, check_orders, db, variant  # noqa: E402
from stack import BIN, STATE, alive, base_env, node_env  # noqa: E402

PG_RESTART = "pg_ctlcluster 15 main restart"
REDIS_STOP = "redis-cli -h 127.0.0.1 -p 6379 shutdown nosave"
REDIS_START = (
    "redis-server --bind '127.0.0.1 -::1' --port 6379 --save '' --appendonly no --daemonize yes"
)
REDIS_DOWN_SECONDS = 10


def xff() -> dict[str, str]:
    return {"X-Forwarded-For": f"10.{random.randint(0, 63)}.{random.randint(0, 255)}.{random.randint(1, 254)}"}  # fmt: skip


class Readers:
    """Anonymous readers through nginx; every answer (or failure) kept with its time."""

    def __init__(self, origin: str, ids: list[int], threads: int) -> None:
        self.origin, self.ids, self.threads = origin, ids, threads
        self.results: list[tuple[float, str]] = []
        self.stop = threading.Event()

    def read(self) -> None:
        session = requests.Session()
        while not self.stop.is_set():
            url = f"{self.origin}/a/{random.choice(self.ids)}.html"
            try:
                outcome = str(session.get(url, headers=xff(), timeout=15).status_code)
            except requests.RequestException as exc:
                outcome = type(exc).__name__
            session.cookies.clear()  # an anonymous reader keeps no cookie
            self.results.append((time.monotonic(), outcome))

    def start(self) -> list[threading.Thread]:
        workers = [threading.Thread(target=self.read, daemon=True) for _ in range(self.threads)]
        for worker in workers:
            worker.start()
        return workers


class Spies:
    """Readers who must never get a buyer's clean page: anonymous ones and other buyers."""

    def __init__(self, origin: str, buyers: Buyers) -> None:
        self.origin, self.buyers = origin, buyers
        self.checked: Counter[str] = Counter()
        self.leaks: list[str] = []
        self.stop = threading.Event()

    def spy(self) -> None:
        while not self.stop.is_set():
            time.sleep(0.05)
            bought = list(self.buyers.bought)
            if not bought:
                continue
            number, article, _ = random.choice(bought)
            others = [cookies for _, other, cookies in bought if other != article]
            for who, cookies in (
                ("anonymous", {}),
                ("another buyer", random.choice(others or [{}])),
            ):
                if who == "another buyer" and not cookies:
                    continue
                try:
                    page = requests.get(
                        f"{self.origin}/a/{article}.html",
                        headers=xff(),
                        cookies=cookies,
                        timeout=15,
                    )
                except requests.RequestException:
                    continue
                if page.status_code != 200:
                    continue
                self.checked[who] += 1
                if variant(page.text) == "clean":
                    self.leaks.append(f"{who} got the clean page of article {article} ({number})")

    def start(self) -> list[threading.Thread]:
        workers = [threading.Thread(target=self.spy, daemon=True) for _ in range(2)]
        for worker in workers:
            worker.start()
        return workers


def shell(env: dict[str, str], code: str) -> str:
    done = subprocess.run(
        [str(BIN / "fanwen"), "shell", "-c", code],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr else "shell failed")
    return done.stdout.strip()


def hide_one_article(env: dict[str, str], title: str) -> int:
    """An article taken off the site and renamed, to be published again during the faults."""
    code = f"""
from fanwen.library.models import Article
from fanwen.library.actions import do_hide_article, do_update_article
a = Article.objects.filter(status="published").order_by("-pk").first()
a = do_hide_article(a)
a = do_update_article(a, title={title!r}, category=a.category, intro=a.intro)
print(a.pk)
"""
    return int(shell(env, code).splitlines()[-1])


def publish(env: dict[str, str], article_id: int) -> None:
    shell(
        env,
        "from fanwen.library.models import Article\n"
        "from fanwen.library.actions import do_publish_article\n"
        f"do_publish_article(Article.objects.get(pk={article_id}))\n",
    )


def run(command: str) -> float:
    started = time.monotonic()
    subprocess.run(shlex.split(command), check=True, timeout=120, capture_output=True)
    return time.monotonic() - started


def kill_group(name: str) -> None:
    pid = json.loads(STATE.read_text())["pids"][name]
    if alive(pid):
        os.killpg(pid, signal.SIGKILL)


def restart(name: str) -> float:
    started = time.monotonic()
    subprocess.run(
        [str(BIN / "python"), str(ROOT / "deploy" / "stack.py"), "restart", name],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return time.monotonic() - started


def found_by_search(port: int, title: str, article_id: int) -> bool:
    try:
        page = requests.get(f"http://127.0.0.1:{port}/search", params={"q": title}, timeout=15)
    except requests.RequestException:
        return False
    return page.status_code == 200 and f"/a/{article_id}.html" in page.text


class SearchWatch:
    """Polls each node's search from the moment of publishing: when each first finds it."""

    def __init__(self, nodes: dict[str, int], title: str, article_id: int) -> None:
        self.nodes, self.title, self.article_id = nodes, title, article_id
        self.found: dict[str, float] = {}
        self.since = 0.0

    def watch(self, limit: float = 300) -> None:
        self.since = time.monotonic()
        while len(self.found) < len(self.nodes) and time.monotonic() - self.since < limit:
            for name, port in self.nodes.items():
                if name not in self.found and found_by_search(port, self.title, self.article_id):
                    self.found[name] = time.monotonic() - self.since
            time.sleep(0.5)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.watch, daemon=True)
        thread.start()
        return thread


def summarize(label: str, results: list[tuple[float, str]]) -> str:
    outcomes = Counter(outcome for _, outcome in results)
    failed = sum(n for outcome, n in outcomes.items() if outcome != "200")
    parts = ", ".join(f"{outcome} {n:,}" for outcome, n in sorted(outcomes.items()))
    return f"   {label:34} {len(results):7,} requests, not 200: {failed:5,}  ({parts})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=100)
    parser.add_argument("--readers", type=int, default=24)
    parser.add_argument("--rate", type=float, default=4.0, help="purchases per second")
    parser.add_argument("--pg-restart", default=PG_RESTART)
    parser.add_argument("--redis-stop", default=REDIS_STOP)
    parser.add_argument("--redis-start", default=REDIS_START)
    args = parser.parse_args()
    if not STATE.exists():
        raise SystemExit("the stack is not running: make stack")
    state = json.loads(STATE.read_text())
    origin = f"http://127.0.0.1:{state['port']}"
    env = node_env(base_env(state["port"]), "node1")
    with db() as conn:
        ids = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM library_article WHERE status = 'published' ORDER BY id LIMIT 1000"
            )
        ]
    title = f"故障演练中发布的工作总结 {uuid.uuid4().hex[:8]}"
    late_article = hide_one_article(env, title)
    ids = [i for i in ids if i != late_article]
    print(f"faults on the stack at {origin}: {len(ids)} articles, {args.duration} s")

    readers, buyers = Readers(origin, ids, args.readers), Buyers(origin, ids, args.rate)
    spies = Spies(origin, buyers)
    threads = readers.start() + spies.start()
    buying = threading.Thread(target=buyers.run, args=(args.duration,))
    start = time.monotonic()
    buying.start()
    windows: list[tuple[str, float, float]] = []
    notes: list[str] = []
    d = args.duration

    def at(fraction: float) -> None:
        time.sleep(max(0.0, start + fraction * d - time.monotonic()))

    redis_down = False
    search = SearchWatch(state["nodes"], title, late_article)
    watching: threading.Thread | None = None
    try:
        at(0.10)
        began = time.monotonic()
        kill_group("node1")
        at(0.20)
        notes.append(f"node1 killed -9, up again {restart('node1'):.1f} s after its restart began")
        windows.append(("node1 killed -9 → back", began, time.monotonic()))

        at(0.30)
        began = time.monotonic()
        kill_group("worker")
        at(0.40)
        notes.append(f"worker killed -9, started again ({restart('worker'):.1f} s)")
        windows.append(("worker killed -9 → back", began, time.monotonic()))

        at(0.50)
        began = time.monotonic()
        notes.append(f"PostgreSQL restarted in {run(args.pg_restart):.1f} s")
        windows.append(("PostgreSQL restart", began, time.monotonic()))

        at(0.65)
        began = time.monotonic()
        run(args.redis_stop)
        redis_down = True
        publish(env, late_article)
        watching = search.start()
        notes.append(
            f"article {late_article} published {time.monotonic() - began:.1f} s into the"
            " Redis outage"
        )
        time.sleep(max(0.0, began + REDIS_DOWN_SECONDS - time.monotonic()))
        run(args.redis_start)
        redis_down = False
        windows.append((f"Redis stopped {REDIS_DOWN_SECONDS} s", began, time.monotonic()))
    finally:
        if redis_down:
            run(args.redis_start)
    at(1.0)
    readers.stop.set()
    buying.join(timeout=120)
    spies.stop.set()
    for thread in threads:
        thread.join(timeout=30)

    print("\n1. readers (anonymous, through nginx)")
    print(summarize("whole run", readers.results))
    for label, began, ended in windows:
        # Requests sent while the fault lasted and in the 5 s after it.
        inside = [r for r in readers.results if began <= r[0] <= ended + 5]
        print(summarize(label + " (+5 s)", inside))
    for note in notes:
        print(f"   - {note}")

    print("\n2. spies: pages just unlocked by a buyer, fetched by someone else")
    checked = ", ".join(f"{who} {n:,}" for who, n in spies.checked.items()) or "none"
    print(f"   checked: {checked}; clean pages served to them: {len(spies.leaks)}")
    for leak in spies.leaks[:5]:
        print(f"     LEAK: {leak}")

    print("\n3. purchases")
    print(
        f"   {len(buyers.started)} orders, {len(buyers.confirmed)} paid at the emulator,"
        f" {len(buyers.bought)} unlocked within 30 s; {len(buyers.failures)} failed on the way"
    )
    for failure, n in Counter(buyers.failures).most_common(6):
        print(f"     {failure[:110]} (x{n})")
    orders = check_orders(buyers.confirmed, wait_seconds=480)
    print("   after recovery, in the database: " + ", ".join(f"{k} {v}" for k, v in orders.items()))

    print("\n4. search on each node for the article published during the faults")
    if watching is not None:
        watching.join(timeout=300)
    for name in state["nodes"]:
        seconds = search.found.get(name)
        result = "NOT found" if seconds is None else f"found {seconds:.1f} s after publishing"
        print(f"   {name}: {result}")


if __name__ == "__main__":
    main()
