"""Load on the production-shaped stack (`make stack`): readers and buyers at once.

Prints, in one run against the running stack (deploy/stack.py; nginx :8080 by default):
  1. one anonymous article page: through nginx's micro-cache, from nginx serving the same bytes
     as a file, and from one app node alone — req/s, p99 and the ratios to the file;
  2. 200 concurrent readers (wrk) over 1,000 articles through nginx for 60 s while buyers make
     10 sandbox purchases a second (create the order, pay on the emulator's payer page, wait for
     the notification to settle it): errors, page p50/p99, purchases started/paid, and after the
     run the orders checked in the database — none lost, none settled twice, one right each.

All traffic comes from 127.0.0.1, which the stack trusts as its proxy: each simulated reader
names its own address in X-Forwarded-For (a pool of 10.x addresses), as nginx would for real
clients, so the per-IP page limits apply per reader and not to the whole benchmark.

Usage: .venv/bin/python bench/load.py [--readers 200] [--articles 1000] [--rate 10]
                                      [--duration 60] [--compare-seconds 10]
                                      [--compare-rounds 3]
Needs the stack running (make stack), wrk and nginx. Bounded in time; 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "deploy"))
from pages import WORK, Nginx, ms, wait_http, wrk  # noqa: E402
from stack import BIN, DATABASE, STATE, base_env, node_env  # noqa: E402

XFF_POOL = 20_000
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

READERS_LUA = """
local paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
math.randomseed(%(seed)d)
request = function()
  local ip = string.format("10.%%d.%%d.%%d", math.random(0, 63), math.random(0, 255),
                           math.random(1, 254))
  return wrk.format("GET", paths[math.random(#paths)], {["X-Forwarded-For"] = ip})
end
"""


def db():
    import psycopg

    return psycopg.connect(f"postgres://postgres@127.0.0.1:5432/{DATABASE}", autocommit=True)


def ensure_articles(count: int, state: dict) -> list[int]:
    with db() as conn:
        have = conn.execute(
            "SELECT count(*) FROM library_article WHERE status = 'published'"
        ).fetchone()[0]
    if have < count:
        env = node_env(base_env(state["port"]), "node1")
        started = time.monotonic()
        subprocess.run(
            [str(BIN / "python"), str(ROOT / "bench" / "gen_corpus.py"), "--articles",
             str(count - have), "--seed", "7"],
            env=env, check=True, stdout=subprocess.DEVNULL, cwd=ROOT,
        )  # fmt: skip
        print(f"  added {count - have} generated articles in {time.monotonic() - started:.0f} s")
    with db() as conn:
        return [
            row[0]
            for row in conn.execute(
                "SELECT id FROM library_article WHERE status = 'published' ORDER BY id LIMIT %s",
                [count],
            )
        ]


def warm(origins: list[str], paths: list[str]) -> None:
    """Every page once on every node: fonts built and pages cached before the clock runs."""
    session = requests.Session()

    def get(url: str) -> None:
        session.get(url, headers={"X-Forwarded-For": f"10.200.{random.randint(0, 255)}.9"})

    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(get, [origin + path for origin in origins for path in paths]))
    print(
        f"  warmed {len(paths)} pages on {len(origins)} nodes in {time.monotonic() - started:.0f} s"
    )


def cpu_seconds(pids: list[int]) -> float:
    """CPU time used so far by these processes and their children (gunicorn's workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[1] is the parent pid; [11], [12] user and system time in ticks.
        if int(pid) in pids or int(fields[1]) in pids:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def wait_idle(state: dict, idle_share: float = 0.15, limit: float = 1800) -> None:
    """Wait until the app nodes are idle: the buyers' fonts that a first view starts building
    in the background are the warm-up's, not the load's. (The worker may go on building the
    next epoch's fonts, at a lower priority, as it would in production.)"""
    pids = [state["pids"][name] for name in state["nodes"]]
    started = time.monotonic()
    while time.monotonic() - started < limit:
        before = cpu_seconds(pids)
        time.sleep(5)
        busy = (cpu_seconds(pids) - before) / 5
        if busy < idle_share * (os.cpu_count() or 1):
            break
    print(f"  waited {time.monotonic() - started:.0f} s for the nodes' background builds")


VARIANT = re.compile(r'data-variant="([a-z]+)"')


def variant(html: str) -> str:
    """Which variant of an article page this is: clean (a right), protected, open; else none."""
    found = VARIANT.search(html)
    return found.group(1) if found else "none"


class Buyers:
    """Sandbox purchases at a steady rate; each one as a browser and a payer would make it."""

    def __init__(self, origin: str, article_ids: list[int], rate: float) -> None:
        self.origin = origin
        self.article_ids = article_ids
        self.rate = rate
        self.started: list[str] = []
        self.confirmed: list[str] = []
        self.failures: list[str] = []
        self.settle_seconds: list[float] = []
        # (order number, article id, the buyer's cookies) of each purchase that unlocked.
        self.bought: list[tuple[str, int, dict[str, str]]] = []
        self.lock = threading.Lock()

    def one(self, n: int) -> None:
        browser = requests.Session()
        browser.headers["X-Forwarded-For"] = f"10.250.{n // 250 % 250}.{n % 250 + 1}"
        article = random.choice(self.article_ids)
        try:
            # The purchases page hands the browser its CSRF cookie, as the article page's JS expects.
            browser.get(f"{self.origin}/account/purchases/", timeout=30)
            created = browser.post(
                f"{self.origin}/pay/orders/",
                json={"plan": "article_copy", "article_id": article, "channel": "native"},
                headers={"X-CSRFToken": browser.cookies.get("csrftoken", "")},
                timeout=30,
            )
            if created.status_code != 201:
                raise RuntimeError(f"create {created.status_code} {created.text[:80]}")
            order = created.json()
            with self.lock:
                self.started.append(order["out_trade_no"])
            payer = requests.Session()
            page = payer.get(order["code_url"], timeout=30)
            token = CSRF_FIELD.search(page.text)
            action = re.search(r'<form method="post" action="([^"]+/confirm/)"', page.text)
            if not (token and action):
                raise RuntimeError(f"payer page {page.status_code} without its form")
            paid_at = time.monotonic()
            confirm = payer.post(
                self.origin + action.group(1),
                data={"csrfmiddlewaretoken": token.group(1)},
                headers={"Referer": order["code_url"]},
                timeout=30,
            )
            if confirm.status_code >= 400:
                raise RuntimeError(f"confirm {confirm.status_code}")
            with self.lock:
                self.confirmed.append(order["out_trade_no"])
            # The page polls its order, as the paywall does, until the notification settled it.
            status_url = f"{self.origin}/pay/orders/{order['out_trade_no']}/"
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if browser.get(status_url, timeout=30).json().get("status") == "paid":
                    settled = time.monotonic() - paid_at
                    # The buyer's page is the clean one now (what the paywall reloads into).
                    page = browser.get(f"{self.origin}/a/{article}.html", timeout=30)
                    if variant(page.text) != "clean":
                        raise RuntimeError(f"paid, but the page is {variant(page.text)}")
                    with self.lock:
                        self.settle_seconds.append(settled)
                        self.bought.append(
                            (order["out_trade_no"], article, browser.cookies.get_dict())
                        )
                    return
                time.sleep(0.25)
            raise RuntimeError("not paid within 30 s of paying")
        except Exception as exc:  # every kind of failure is a figure of this benchmark
            with self.lock:
                self.failures.append(f"{type(exc).__name__}: {exc}")

    def run(self, duration: float) -> None:
        with ThreadPoolExecutor(64) as pool:
            start = time.monotonic()
            n = 0
            while time.monotonic() - start < duration:
                pool.submit(self.one, n)
                n += 1
                time.sleep(max(0.0, start + n / self.rate - time.monotonic()))


def check_orders(numbers: list[str], wait_seconds: float = 60) -> dict[str, int]:
    """In the database: each paid-for order paid once, one settle event, one right."""
    deadline = time.monotonic() + wait_seconds
    while True:
        with db() as conn:
            rows = conn.execute(
                """
                SELECT o.out_trade_no, o.status,
                       (SELECT count(*) FROM orders_paymentevent e
                         WHERE e.order_id = o.id AND e.outcome LIKE 'settled%%') AS settles,
                       (SELECT count(*) FROM orders_entitlement r WHERE r.order_id = o.id) AS rights
                FROM orders_order o WHERE o.out_trade_no = ANY(%s)
                """,
                [numbers],
            ).fetchall()
        paid = [r for r in rows if r[1] == "paid"]
        if len(paid) == len(numbers) or time.monotonic() > deadline:
            break
        time.sleep(1)
    return {
        "paid for": len(numbers),
        "found": len(rows),
        "paid": len(paid),
        "lost (not paid)": len(numbers) - len(paid),
        "settled twice or more": sum(1 for r in rows if r[2] > 1),
        "rights != 1": sum(1 for r in paid if r[3] != 1),
    }


def compare(state: dict, path: str, seconds: int, connections: int, rounds: int) -> None:
    """The three servers in turn, `rounds` times, with the same wrk script (each request names
    a reader in X-Forwarded-For, which the file server ignores); medians per server."""
    origin = f"http://127.0.0.1:{state['port']}"
    node_port = next(iter(state["nodes"].values()))
    body = urllib.request.urlopen(origin + path).read()
    static_root = Path(tempfile.mkdtemp(prefix="static-", dir=WORK))
    static_root.chmod(0o755)
    target = static_root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(body)
    target.parent.chmod(0o755)
    target.chmod(0o644)
    paths = Path(tempfile.mkstemp(suffix=".txt", dir=WORK)[1])
    paths.write_text(path + "\n")
    lua = READERS_LUA % {"paths": paths, "seed": 3}
    nginx = Nginx(static_root)
    urls = {
        "nginx serving the file": nginx.url + path,
        "through nginx's micro-cache": origin + path,
        "one app node alone": f"http://127.0.0.1:{node_port}{path}",
    }
    runs: dict[str, list[dict]] = {name: [] for name in urls}
    try:
        wait_http(nginx.url + path)
        wrk(origin + path, connections, 2, lua)
        for _ in range(rounds):
            for name, url in urls.items():
                runs[name].append(wrk(url, connections, seconds, lua))
    finally:
        nginx.stop()
    median = {
        name: {key: statistics.median(run[key] for run in got) for key in ("rps", "p50", "p99")}
        | {"errors": sum(run["errors"] for run in got)}
        for name, got in runs.items()
    }
    static = median["nginx serving the file"]
    print(
        f"\n1. anonymous article page {path} ({len(body):,} bytes), {connections} connections, "
        f"{rounds} rounds of {seconds} s, medians"
    )
    for name, run in median.items():
        spread = ", ".join(f"{r['rps']:.0f}" for r in runs[name])
        print(
            f"   {name:28} {run['rps']:9.0f} req/s  p50 {ms(run['p50']):>8}  p99 {ms(run['p99']):>8}"
            f"  errors {run['errors']}  ({run['rps'] / static['rps']:.1%} of the file; rounds {spread})"
        )  # fmt: skip
    cached, app = median["through nginx's micro-cache"], median["one app node alone"]
    print(
        f"   goals: micro-cache >= 70% of the file ({cached['rps'] / static['rps']:.1%}); app alone"
        f" >= 6% ({app['rps'] / static['rps']:.1%}) with p99 <= 30 ms ({ms(app['p99'])})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=200)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=10.0, help="purchases per second")
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--compare-seconds", type=int, default=10)
    parser.add_argument("--compare-rounds", type=int, default=3)
    parser.add_argument("--only-compare", action="store_true", help="part 1 only")
    parser.add_argument("--compare-connections", type=int, default=32)
    args = parser.parse_args()
    if not STATE.exists():
        raise SystemExit("the stack is not running: make stack")
    state = json.loads(STATE.read_text())
    origin = f"http://127.0.0.1:{state['port']}"
    WORK.mkdir(parents=True, exist_ok=True)
    ids = ensure_articles(args.articles, state)
    paths = [f"/a/{i}.html" for i in ids]
    nodes = [f"http://127.0.0.1:{port}" for port in state["nodes"].values()]
    warm(nodes, paths)
    wait_idle(state)

    # The single-page comparison first, on quiet nodes: after the load they are still
    # settling the purchases' backlog for a while, which is not the page's speed.
    compare(state, paths[0], args.compare_seconds, args.compare_connections, args.compare_rounds)
    if args.only_compare:
        return

    path_file = WORK / "load-paths.txt"
    path_file.write_text("\n".join(paths) + "\n")
    buyers = Buyers(origin, ids, args.rate)
    buying = threading.Thread(target=buyers.run, args=(args.duration,))
    buying.start()
    lua = READERS_LUA % {"paths": path_file, "seed": 11}
    reading = wrk(origin + "/", args.readers, args.duration, lua)
    buying.join(timeout=args.duration + 120)
    orders = check_orders(buyers.confirmed)

    print(
        f"\n2. {args.readers} readers over {len(paths)} articles + {args.rate:g} purchases/s, "
        f"{args.duration} s, through nginx ({len(nodes)} app nodes)"
    )
    print(
        f"   pages: {reading['requests']:,} ({reading['rps']:.0f}/s), errors {reading['errors']} "
        f"({reading['timeouts']} timeouts, {reading['bad_status']} non-2xx/3xx, "
        f"{reading['socket_errors']} socket), "
        f"p50 {ms(reading['p50'])}, p95 {ms(reading['p95'])}, p99 {ms(reading['p99'])}"
    )
    settle = sorted(buyers.settle_seconds)
    settle_text = (
        f"paid→unlocked p50 {statistics.median(settle):.2f} s, p99 {settle[int(0.99 * (len(settle) - 1))]:.2f} s"
        if settle
        else "none settled"
    )
    print(
        f"   purchases: {len(buyers.started)} orders, {len(buyers.confirmed)} paid at the emulator, "
        f"{len(buyers.failures)} failed; {settle_text}"
    )
    for failure in sorted(set(buyers.failures))[:5]:
        print(f"     failure: {failure} (x{buyers.failures.count(failure)})")
    print("   orders in the database: " + ", ".join(f"{k} {v}" for k, v in orders.items()))


if __name__ == "__main__":
    main()
