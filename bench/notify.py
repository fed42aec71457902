"""Benchmark payment notifications through the real stack: gunicorn, signature check, decryption, settle.

For each database (SQLite and PostgreSQL by default) it:
  1. makes a scratch FANWEN_VAR_DIR, migrates, generates sandbox keys, creates N pending
     orders with do_create_order (one visitor each, 1 in 4 a 30-day pass);
  2. builds each order's TRANSACTION.SUCCESS notification with the sandbox platform helpers
     (AES-256-GCM resource, RSA-SHA256 signed headers), as WeChat would send it — or, with
     --provider alipay, its trade_status_sync form, RSA2-signed as Alipay sends it;
  3. starts gunicorn on 127.0.0.1 and POSTs them to /pay/notify/wechat/ (or /alipay/) with wrk
     or a thread pool (one connection per request, as the providers do);
  4. checks every order ended paid exactly once (one entitlement, one "settled" event).

Prints notifications/s, p50, p95, p99, max per database. Goal: >= 300/s and p99 <= 50 ms.

Usage:
  .venv/bin/python bench/notify.py [--orders 2000] [--concurrency 4] [--workers 2]
      [--db sqlite,postgres] [--postgres postgres://postgres@127.0.0.1:5432/fanwen_bench]
      [--provider wechat|alipay]

The PostgreSQL database named in --postgres is dropped and created again (it must not be
`test` or anyone else's). Every HTTP request has a 10 s timeout; gunicorn is stopped at exit.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NOTIFY_PATHS = {"wechat": "/pay/notify/wechat/", "alipay": "/pay/notify/alipay/"}
# What each provider's notify view answers when it took the notification.
ACCEPTED = {"wechat": 204, "alipay": 200}
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/fanwen_bench"


# --- inside Django (run as a child process with the database's environment) -------------------


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanwen.settings")
    import django

    django.setup()


def prepare(count: int, out_path: Path, provider: str = "wechat") -> None:
    """Migrate, make keys, orders and their signed notifications; write them as JSON lines."""
    _django()
    import datetime as dt

    from django.core.management import call_command
    from django.utils import timezone

    from fanwen.accounts.models import Visitor
    from fanwen.library.models import Article, Category
    from fanwen.orders.actions import do_create_order
    from fanwen.orders.models import Order, Plan
    from fanwen.sandbox.alipay_keys import load_alipay_keys
    from fanwen.sandbox.keys import load_keys

    call_command("migrate", verbosity=0, interactive=False)
    category = Category.objects.create(name="基准测试", slug="bench-notify")
    article = Article.objects.create(
        category=category,
        title="基准测试范文",
        status=Article.Status.PUBLISHED,
        published_at=timezone.now() - dt.timedelta(days=1),
    )
    if provider == "alipay":
        keys = load_alipay_keys()
        merchant = {
            "provider": Order.Provider.ALIPAY_SANDBOX,
            "channel": Order.Channel.ALIPAY_QR,
            "mchid": keys.seller_id,
            "appid": keys.appid,
        }
        notification = _alipay_notification
    else:
        keys = load_keys()
        merchant = {
            "provider": Order.Provider.SANDBOX,
            "channel": Order.Channel.NATIVE,
            "mchid": keys.mchid,
            "appid": keys.appid,
        }
        notification = _wechat_notification
    with out_path.open("w", encoding="utf-8") as out:
        for n in range(count):
            is_pass = n % 4 == 3
            order = do_create_order(
                visitor=Visitor.objects.create(),
                plan_code=Plan.Code.PASS_30D if is_pass else Plan.Code.ARTICLE_COPY,
                article=None if is_pass else article,
                **merchant,
            )
            out.write(json.dumps(notification(keys, order, n), ensure_ascii=False) + "\n")


def _wechat_notification(keys, order, n: int) -> dict:
    """The order's TRANSACTION.SUCCESS notification: AES-GCM resource, RSA-signed headers."""
    from django.utils import timezone

    from fanwen.payments.backends.wechat import rfc3339
    from fanwen.sandbox.platform import notification_body, platform_headers

    resource = {
        "appid": keys.appid,
        "mchid": keys.mchid,
        "out_trade_no": order.out_trade_no,
        "transaction_id": f"4200099{n:021d}",
        "trade_type": "NATIVE",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "bank_type": "OTHERS",
        "attach": "",
        "success_time": rfc3339(timezone.now()),
        "payer": {"openid": f"oSBXbench{n:017d}"},
        "amount": {
            "total": order.amount_fen,
            "payer_total": order.amount_fen,
            "currency": "CNY",
            "payer_currency": "CNY",
        },
    }
    body = notification_body(keys, resource)
    return {"body": body, "headers": platform_headers(keys, body)}


def _alipay_notification(keys, order, n: int) -> dict:
    """The order's trade_status_sync form, RSA2-signed with the sandbox's Alipay key."""
    from urllib.parse import urlencode

    from django.utils import timezone

    from fanwen.payments.backends.alipay import fen_to_yuan
    from fanwen.sandbox.alipay import beijing, signed_notification

    now = beijing(timezone.now())
    amount = fen_to_yuan(order.amount_fen)
    fields = signed_notification(
        {
            "notify_time": now,
            "notify_type": "trade_status_sync",
            "notify_id": f"bench{n:027d}",
            "charset": "utf-8",
            "version": "1.0",
            "app_id": keys.appid,
            "seller_id": keys.seller_id,
            "trade_no": f"2026112922001{n:015d}",
            "out_trade_no": order.out_trade_no,
            "buyer_id": f"2088{n:012d}",
            "trade_status": "TRADE_SUCCESS",
            "total_amount": amount,
            "receipt_amount": amount,
            "buyer_pay_amount": amount,
            "subject": "基准测试",
            "gmt_create": now,
            "gmt_payment": now,
        },
        keys,
    )
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    return {"body": urlencode(fields), "headers": headers}


def check(count: int) -> None:
    """Print a JSON verdict: every order paid, exactly one entitlement and one settle each."""
    _django()
    from django.db.models import Count, Q

    from fanwen.orders.models import Entitlement, Order, PaymentEvent

    orders = Order.objects.annotate(
        grants=Count("entitlements", distinct=True),
        settles=Count("events", filter=Q(events__outcome="settled"), distinct=True),
    )
    verdict = {
        "orders": orders.count(),
        "paid": orders.filter(status=Order.Status.PAID).count(),
        "paid_once": orders.filter(status=Order.Status.PAID, grants=1, settles=1).count(),
        "entitlements": Entitlement.objects.count(),
        "events": PaymentEvent.objects.count(),
    }
    verdict["ok"] = (
        verdict["orders"] == count
        and verdict["paid_once"] == count
        and verdict["entitlements"] == count
    )
    print(json.dumps(verdict))


# --- outside Django: the orchestra and the load -----------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not listen on {port} within {timeout}s")


def reset_postgres(url: str) -> None:
    import psycopg
    from psycopg import sql

    base, _, name = url.rpartition("/")
    if name in {"", "test", "postgres", "template0", "template1"}:
        raise SystemExit(f"refusing to drop database {name!r}: give --postgres a scratch name")
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def post(port: int, item: dict, path: str) -> tuple[float, int]:
    body = item["body"].encode("utf-8")
    headers = {"Content-Type": "application/json", **item["headers"]}
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        status = response.status
    except OSError:
        status = 0
    finally:
        conn.close()
    return time.perf_counter() - started, status


# Each wrk thread sends its own share of the notifications (item i goes to thread i mod
# threads) for a fixed time; it wraps around (cheap duplicates) only if it runs out, which
# the report shows. Latencies are in microseconds.
WRK_LUA = """
local items = dofile("%(items)s")
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
function init(args)
  mine = {}
  for i = tid + 1, #items, %(threads)d do mine[#mine + 1] = items[i] end
  sent = 0
end
function request()
  sent = sent + 1
  local item = mine[(sent - 1) %% #mine + 1]
  return wrk.format("POST", "%(path)s", item.headers, item.body)
end
function done(summary, latency, requests)
  io.write(string.format('{"requests": %%d, "seconds": %%.3f, "p50": %%d, "p95": %%d, "p99": %%d, "max": %%d, "non2xx": %%d, "socket_errors": %%d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def lua_string(text: str) -> str:
    # A long bracket that cannot occur in the JSON or the base64 signature.
    return "[==[" + text + "]==]"


def run_wrk(
    port: int, items: list[dict], connections: int, seconds: int, work: Path, path: str
) -> dict:
    threads = min(2, connections)
    table = ["return {"]
    for item in items:
        headers = {"Content-Type": "application/json", **item["headers"]}
        pairs = ", ".join(f"[ {lua_string(k)} ] = {lua_string(v)}" for k, v in headers.items())
        table.append(f"{{headers = {{{pairs}}}, body = {lua_string(item['body'])}}},")
    table.append("}")
    (work / "items.lua").write_text("\n".join(table), encoding="utf-8")
    script = work / "notify.lua"
    script.write_text(
        WRK_LUA % {"items": work / "items.lua", "threads": threads, "path": path},
        encoding="utf-8",
    )
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def percentile(sorted_values: list[float], p: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def run_one(db: str, args: argparse.Namespace) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"fanwen-bench-notify-{db}-"))
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "fanwen.settings",
            "FANWEN_VAR_DIR": str(work),
            "FANWEN_SANDBOX": "1",
            "FANWEN_SANDBOX_AUTO_NOTIFY": "0",
            "FANWEN_LOG_LEVEL": args.log_level,
            "PAYMENT_WECHAT_BACKEND": "sandbox",
            # One IP reads many pages here: the page rate limits would answer 429.
            "FANWEN_PAGE_RATE_LIMIT": "0",
            "FANWEN_PAGE_IP_RATE_LIMIT": "0",
            "PYTHONPATH": str(ROOT / "src"),
        }
    )
    if db == "postgres":
        reset_postgres(args.postgres)
        env["DATABASE_URL"] = args.postgres
    else:
        env["DATABASE_URL"] = f"sqlite:///{work / 'bench.sqlite3'}"
    notifications = work / "notifications.jsonl"
    me = [sys.executable, str(Path(__file__).resolve())]
    t0 = time.monotonic()
    subprocess.run(
        [*me, "_prepare", str(args.orders), str(notifications), args.provider],
        env=dict(env, FANWEN_LOG_LEVEL="WARNING"),
        check=True,
        timeout=900,
    )
    items = [json.loads(line) for line in notifications.read_text(encoding="utf-8").splitlines()]
    prepared_in = time.monotonic() - t0

    port = free_port()
    log_file = (work / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "fanwen.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            "sync",
            "--timeout",
            "30",
        ],
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_port(port, server)
        # Warm-up outside the timing: imports, keys, the first DB connection of each worker.
        path = NOTIFY_PATHS[args.provider]
        for _ in range(args.workers * 2):
            post(port, {"body": "{}", "headers": {}}, path)
        if args.client == "wrk":
            measured = run_wrk(port, items, args.concurrency, args.seconds, work, path)
            # Then every notification once more, untimed, as the providers' retries would: the
            # ones wrk did not reach get settled, the others must be acknowledged no-ops.
            with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
                redelivered = list(pool.map(lambda item: post(port, item, path), items))
        else:
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
                results = list(pool.map(lambda item: post(port, item, path), items))
            elapsed = time.perf_counter() - started
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log_file.close()

    verdict = json.loads(
        subprocess.run(
            [*me, "_check", str(args.orders)],
            env=env,
            check=True,
            timeout=300,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    if args.client == "wrk":
        # wrk counts only what it sent; the check below proves each order was paid once.
        summary = {
            "db": db,
            "client": "wrk",
            "orders": args.orders,
            "prepared_s": round(prepared_in, 1),
            "requests": measured["requests"],
            "rps": round(measured["requests"] / measured["seconds"], 1),
            "p50_ms": round(measured["p50"] / 1000, 1),
            "p95_ms": round(measured["p95"] / 1000, 1),
            "p99_ms": round(measured["p99"] / 1000, 1),
            "max_ms": round(measured["max"] / 1000, 1),
            "wrapped_around": measured["requests"] > len(items),
            "statuses": {"non2xx": measured["non2xx"], "socket_errors": measured["socket_errors"]},
            "redelivered_not_accepted": sum(
                1 for _, status in redelivered if status != ACCEPTED[args.provider]
            ),
            "check": verdict,
        }
        return _finish(summary, work, args)
    latencies = sorted(seconds for seconds, _ in results)
    statuses: dict[int, int] = {}
    for _, status in results:
        statuses[status] = statuses.get(status, 0) + 1
    summary = {
        "db": db,
        "client": "python",
        "orders": args.orders,
        "prepared_s": round(prepared_in, 1),
        "requests": len(results),
        "rps": round(len(results) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1),
        "statuses": statuses,
        "check": verdict,
    }
    return _finish(summary, work, args)


def _finish(summary: dict, work: Path, args: argparse.Namespace) -> dict:
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        summary["dir"] = str(work)
    return summary


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_prepare":
        prepare(int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else "wechat")
        return
    if len(sys.argv) > 1 and sys.argv[1] == "_check":
        check(int(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--seconds", type=int, default=8, help="wrk's run time")
    parser.add_argument("--concurrency", type=int, default=4, help="client connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--provider", choices=sorted(NOTIFY_PATHS), default="wechat")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--log-level", default="INFO", help="the app's log level (to a file)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directories")
    parser.add_argument(
        "--client",
        choices=["wrk", "python"],
        default="wrk" if shutil.which("wrk") else "python",
        help="load generator: wrk (light, default when installed) or Python threads",
    )
    args = parser.parse_args()

    failed = False
    for db in args.db.split(","):
        summary = run_one(db.strip(), args)
        goal = summary["rps"] >= 300 and summary["p99_ms"] <= 50
        expected = (
            {"non2xx": 0, "socket_errors": 0}
            if summary["client"] == "wrk"
            else {ACCEPTED[args.provider]: args.orders}
        )
        ok = (
            summary["check"]["ok"]
            and summary["statuses"] == expected
            and not summary.get("redelivered_not_accepted")
        )
        failed |= not ok
        print(
            f"{args.provider} {summary['db']:8} {summary['orders']} notifications: "
            f"{summary['rps']:7.1f}/s  "
            f"p50 {summary['p50_ms']} ms  p95 {summary['p95_ms']} ms  p99 {summary['p99_ms']} ms  "
            f"max {summary['max_ms']} ms  goal(>=300/s, p99<=50ms) {'met' if goal else 'NOT met'}  "
            f"paid exactly once: {'yes' if ok else 'NO'}"
        )
        print("  " + json.dumps(summary, ensure_ascii=False))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
