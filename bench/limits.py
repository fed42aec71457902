"""Rate limits behind nginx with several gunicorn workers: who gets through and who is held.

For each counter store asked for, a scratch site (SQLite, two users) runs under gunicorn with
4 workers behind nginx, all on 127.0.0.1 (see tests/limits/stack.py); every client has its
own loopback address. Pages (per-IP limit, default 240 per window):
  A  one reader far over the limit, through nginx
  B  a normal reader on the same nginx, reading while A and C hammer
  C  a reader forging X-Forwarded-For (B's address), through nginx
  R  an attacker rotating X-Forwarded-For, through nginx
  D  an attacker rotating X-Forwarded-For straight to gunicorn (an untrusted peer)
Logins: wrong passwords sent in parallel from one address to /account/login/ and
/admin/login/, how many were answered before the lockout, then the right password from that
address and from the owner's.

"locmem" is the per-process store without Redis, for comparison: each worker counts alone.
Everything stops by itself: requests are bounded in count and the run in --max-seconds.

    .venv/bin/python bench/limits.py [--store redis] [--store database] [--store locmem]
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.limits.stack import (  # noqa: E402
    PASSWORD,
    Stack,
    logged_in,
    redis_available,
    wait_for_fresh_window,
)

WINDOW = 3600


class Budget:
    """Stops sending once the run has used its time."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def left(self) -> bool:
        return time.monotonic() < self.deadline


def hammer(client, count: int, threads: int, budget: Budget, forwarded_for=None) -> list[int]:
    """`count` cookieless page requests over `threads` threads; the statuses of those sent."""
    statuses: list[int] = []
    lock = threading.Lock()
    numbers = iter(range(count))

    def worker() -> None:
        while budget.left():
            with lock:
                n = next(numbers, None)
            if n is None:
                return
            header = forwarded_for(n) if callable(forwarded_for) else forwarded_for
            try:
                status = client.page("/", forwarded_for=header)
            except OSError:
                status = 0
            with lock:
                statuses.append(status)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return statuses


def guess(stack: Stack, door: str, source: str, count: int, threads: int, budget: Budget):
    statuses: list[int] = []
    lock = threading.Lock()
    numbers = iter(range(count))

    def worker() -> None:
        while budget.left():
            with lock:
                n = next(numbers, None)
            if n is None:
                return
            # A fresh browser each time: nothing in cookies ties the guesses together.
            try:
                status = stack.via_nginx(source).login(door, f"guess {n}").status
            except OSError:
                status = 0
            with lock:
                statuses.append(status)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return statuses


def row(name: str, statuses: list[int]) -> str:
    # A last column only when something else came back: 0 = no answer in 60 s, 5xx from nginx.
    other = len(statuses) - statuses.count(200) - statuses.count(429)
    return f"  {name:<52} {len(statuses):>5} {statuses.count(200):>5} {statuses.count(429):>5}" + (
        f" {other:>5}" if other else ""
    )


def run(store: str, args: argparse.Namespace) -> None:
    limit = args.page_limit
    stack = Stack(
        store=store,
        workers=args.workers,
        settings={
            "FANWEN_PAGE_IP_RATE_LIMIT": str(limit),
            "FANWEN_PAGE_RATE_LIMIT": "0",
            "FANWEN_PAGE_RATE_WINDOW": str(WINDOW),
            "FANWEN_LOGIN_WINDOW": str(WINDOW),
        },
    )
    started = time.monotonic()
    stack.start()
    try:
        wait_for_fresh_window(WINDOW, needed=120)
        budget = Budget(args.max_seconds)
        print(
            f"\nstore={store}: {args.workers} gunicorn workers behind nginx, page limit {limit} "
            f"per IP per {WINDOW} s, login limits 10 per account+IP / 30 per IP "
            f"(site up in {time.monotonic() - started:.0f} s)"
        )
        print(f"  {'pages':<52} {'sent':>5} {'200':>5} {'429':>5} other")
        b_client = stack.via_nginx("127.0.0.3")
        b_statuses: list[int] = []

        def normal_reader() -> None:
            for _ in range(args.reader_pages):
                if not budget.left():
                    return
                b_statuses.append(b_client.page("/"))
                time.sleep(0.05)

        reader = threading.Thread(target=normal_reader)
        reader.start()
        a = hammer(stack.via_nginx("127.0.0.2"), args.pages, args.threads, budget)
        c = hammer(stack.via_nginx("127.0.0.4"), args.pages, args.threads, budget, "127.0.0.3")
        reader.join()
        r = hammer(
            stack.via_nginx("127.0.0.5"),
            args.pages,
            args.threads,
            budget,
            lambda n: f"{random.randrange(1, 224)}.{n % 256}.{random.randrange(256)}.1",
        )
        d = hammer(
            stack.direct("127.0.0.6"),
            args.pages,
            args.threads,
            budget,
            lambda n: f"198.51.{n // 256 % 256}.{n % 256}",
        )
        print(row("A  one reader over the limit (nginx)", a))
        print(row("B  normal reader, same nginx, meanwhile", b_statuses))
        print(row("C  forging X-Forwarded-For: B's address (nginx)", c))
        print(row("R  rotating X-Forwarded-For (nginx)", r))
        print(row("D  rotating X-Forwarded-For, straight to gunicorn", d))

        print(
            f"  {'logins':<52} {'sent':>5} {'200':>5} {'429':>5}  right password: attacker / owner"
        )
        for door, attacker, owner in (
            ("account", "127.0.0.20", "127.0.0.21"),
            ("admin", "127.0.0.22", "127.0.0.23"),
        ):
            statuses = guess(stack, door, attacker, args.guesses, args.login_threads, budget)
            after = stack.via_nginx(attacker).login(door, PASSWORD).status
            owner_in = logged_in(stack.via_nginx(owner).login(door, PASSWORD), door)
            path = "/account/login/" if door == "account" else "/admin/login/"
            print(
                row(f"wrong passwords at {path} (200 = answered)", statuses)
                + f"  {after} / {'logged in' if owner_in else 'REFUSED'}"
            )
        if not budget.left():
            print(f"  (stopped at --max-seconds {args.max_seconds}: some requests were not sent)")
    finally:
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--store",
        action="append",
        choices=["redis", "database", "locmem"],
        help="counter store(s) to run; default redis (database without Redis)",
    )
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--page-limit", type=int, default=240)
    parser.add_argument("--pages", type=int, default=300, help="pages each of A, C, R, D sends")
    parser.add_argument("--reader-pages", type=int, default=30, help="pages B reads")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--guesses", type=int, default=60, help="wrong passwords per login")
    parser.add_argument("--login-threads", type=int, default=6)
    parser.add_argument("--max-seconds", type=float, default=300, help="per store")
    args = parser.parse_args()
    stores = args.store or ["redis" if redis_available() else "database"]
    for store in stores:
        if store == "redis" and not redis_available():
            print("store=redis: skipped, no Redis on 127.0.0.1:6379")
            continue
        run(store, args)


if __name__ == "__main__":
    main()
