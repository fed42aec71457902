"""A production-shaped fanwen on one machine, as if on several: `make stack` / `make stack-stop`.

    nginx 127.0.0.1:8080 (deploy/nginx.conf: micro-cache, static files, real client IP)
      -> app node 1 and app node 2 (`fanwen serve`; each its own var dir, as if on two machines)
      -> PostgreSQL (database fanwen_stack) + Redis (db 3: cache, sessions, counters)
         + S3 (moto's server standing in for the bucket: fonts, maps, uploads)
    + one worker (its own var dir), all with the demo content and sandbox payments.
moto keeps the bucket in memory: a restarted stack rebuilds its fonts and loses uploads.

State lives in var/stack/ (pids in var/stack/stack.json, logs in var/stack/log/). The nodes
and the worker listen on free ports of 127.0.0.1; only nginx has the fixed :8080 (--port).

    python deploy/stack.py start [--port 8080] [--nodes 2] [--workers-per-node 2] [--fresh]
    python deploy/stack.py stop
    python deploy/stack.py status
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy"))
from render_nginx import render  # noqa: E402  (a script beside this one)

BIN = Path(sys.executable).parent
STACK = Path(os.environ.get("FANWEN_STACK_DIR", ROOT / "var" / "stack"))
STATE = STACK / "stack.json"
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
DATABASE = "fanwen_stack"
REDIS_URL = "redis://127.0.0.1:6379/3"
BUCKET = "fanwen-stack"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                answer.read()
                return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return
            last = exc
        except Exception as exc:  # not listening yet
            last = exc
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s: {last}")


def secret_key() -> str:
    path = STACK / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


def base_env(port: int) -> dict[str, str]:
    """What every process of the stack shares: the database, Redis, keys, the public origin."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FANWEN_", "DATABASE_"))}
    origin = f"http://127.0.0.1:{port}"
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "fanwen.settings",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
            "REDIS_URL": REDIS_URL,
            "FANWEN_CACHE_PREFIX": "fanwen-stack",
            "SECRET_KEY": secret_key(),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "FANWEN_SITE_URL": origin,
            "FANWEN_TRUSTED_PROXIES": "127.0.0.1",
            # Demo payments: the emulators are reached through nginx, like a provider would.
            "FANWEN_SANDBOX": "1",
            "FANWEN_SANDBOX_ORIGIN": origin,
            # One set of sandbox keys for every node (a provider has one set of keys).
            "FANWEN_SANDBOX_DIR": str(STACK / "shared" / "sandbox"),
            "FANWEN_LOG_FORMAT": "json",
            # nginx's access log has every request with its id: the app logs errors only.
            "FANWEN_REQUEST_LOG_LEVEL": "WARNING",
        }
    )
    s3_port = (json.loads(STATE.read_text()) if STATE.exists() else {}).get("s3_port")
    if s3_port:
        # Every node and the worker share one bucket: what one builds, the others serve.
        env.update(
            {
                "FANWEN_STORAGE": "s3",
                "FANWEN_S3_BUCKET": BUCKET,
                "FANWEN_S3_ENDPOINT_URL": f"http://127.0.0.1:{s3_port}",
                "FANWEN_S3_REGION": "us-east-1",
                "FANWEN_S3_ACCESS_KEY": "stack",
                "FANWEN_S3_SECRET_KEY": "stack-secret",
                "FANWEN_S3_ADDRESSING_STYLE": "path",
            }
        )
    return env


def node_env(base: dict[str, str], name: str) -> dict[str, str]:
    return {**base, "FANWEN_VAR_DIR": str(STACK / name), "FANWEN_NODE_NAME": name}


def run(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(BIN / "fanwen"), *args], env=env, check=True, cwd=ROOT)


def spawn(env: dict[str, str], name: str, *command: str) -> int:
    log = open(STACK / "log" / f"{name}.log", "ab")  # noqa: SIM115  (the child keeps it)
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    return process.pid


def ensure_database(fresh: bool) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]
        ).fetchone()
        if exists and fresh:
            admin.execute(f'DROP DATABASE "{DATABASE}" WITH (FORCE)')
            exists = None
        if not exists:
            admin.execute(f'CREATE DATABASE "{DATABASE}"')
    if fresh:
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()


def start_s3(state: dict) -> int:
    """moto's S3 server on a free port, with the stack's bucket."""
    import boto3

    port = free_port()
    state["pids"]["s3"] = spawn(
        dict(os.environ), "s3", str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)
    )
    wait_http(f"http://127.0.0.1:{port}/")
    boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="stack",
        aws_secret_access_key="stack-secret",
    ).create_bucket(Bucket=BUCKET)
    return port


def start_app_node(
    base: dict[str, str], name: str, workers: int, port: int | None = None
) -> tuple[int, int]:
    port = port or free_port()
    env = node_env(base, name)
    pid = spawn(
        env,
        name,
        str(BIN / "fanwen"),
        "serve",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        "8",
    )
    return pid, port


def start_worker(base: dict[str, str]) -> int:
    return spawn(node_env(base, "worker"), "worker", str(BIN / "fanwen"), "worker")


def write_nginx_conf(state: dict) -> None:
    """deploy/nginx.conf and fanwen-proxy.conf as the stack runs them, in var/stack/nginx."""
    conf = render(
        listen=f"127.0.0.1:{state['port']}",
        server_name="127.0.0.1 localhost",
        upstreams=[f"127.0.0.1:{port}" for port in state["nodes"].values()],
        static_root=str(STACK / "node1" / "static"),
        run_dir=str(STACK / "nginx" / "run"),
        log_dir=str(STACK / "log"),
        cache_dir=str(STACK / "nginx" / "cache"),
        conf_dir=str(STACK / "nginx" / "conf"),
        tls=False,
    )
    (STACK / "nginx" / "nginx.conf").write_text(conf)
    shutil.copy(ROOT / "deploy" / "fanwen-proxy.conf", STACK / "nginx" / "conf")


def start(args: argparse.Namespace) -> None:
    if STATE.exists():
        raise SystemExit(f"the stack seems to run ({STATE}); `make stack-stop` first")
    if args.fresh and STACK.exists():
        shutil.rmtree(STACK)
    for sub in ("log", "shared", "nginx/run", "nginx/cache", "nginx/conf"):
        (STACK / sub).mkdir(parents=True, exist_ok=True)
    state: dict = {
        "port": args.port,
        "nodes": {},
        "pids": {},
        "workers_per_node": args.workers_per_node,
    }
    state["s3_port"] = start_s3(state)
    STATE.write_text(json.dumps(state, indent=2))
    base = base_env(args.port)
    ensure_database(args.fresh)
    first = node_env(base, "node1")
    # Migrations and the demo content once, from the first node; static files for nginx.
    run(first, "migrate", "--noinput", "-v", "0")
    run(first, "demo", "--no-serve")
    run(first, "collectstatic", "--noinput", "-v", "0")
    for n in range(1, args.nodes + 1):
        name = f"node{n}"
        pid, port = start_app_node(base, name, args.workers_per_node)
        state["nodes"][name] = port
        state["pids"][name] = pid
    state["pids"]["worker"] = start_worker(base)
    write_nginx_conf(state)
    STATE.write_text(json.dumps(state, indent=2))
    for port in state["nodes"].values():
        wait_http(f"http://127.0.0.1:{port}/healthz")
    subprocess.run(
        ["nginx", "-c", str(STACK / "nginx" / "nginx.conf"), "-p", str(STACK / "nginx")],
        check=True,
    )
    state["pids"]["nginx"] = int((STACK / "nginx" / "run" / "nginx.pid").read_text())
    STATE.write_text(json.dumps(state, indent=2))
    wait_http(f"http://127.0.0.1:{args.port}/")
    nodes = ", ".join(f"{name} :{port}" for name, port in state["nodes"].items())
    print(f"fanwen stack: http://127.0.0.1:{args.port}/  (nginx -> {nodes}; worker; PostgreSQL")
    print(f"  {DATABASE}, Redis db 3). Logs: {STACK / 'log'}. Stop: make stack-stop")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop(_: argparse.Namespace) -> None:
    if not STATE.exists():
        print("the stack is not running")
        return
    state = json.loads(STATE.read_text())
    pids = state.get("pids", {})
    # nginx first (no new requests), then the worker and the nodes, each by its group.
    for name in ["nginx", "worker", *[n for n in pids if n.startswith("node")], "s3"]:
        pid = pids.get(name)
        if pid and alive(pid):
            try:
                os.killpg(pid, signal.SIGTERM) if name != "nginx" else os.kill(pid, signal.SIGQUIT)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(alive(p) for p in pids.values()):
        time.sleep(0.2)
    for name, pid in pids.items():
        if alive(pid):
            print(f"{name} ({pid}) did not stop in 20 s: killed")
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
    STATE.unlink()
    print("fanwen stack stopped")


def restart(args: argparse.Namespace) -> None:
    """Start one app node (on its old port, so nginx finds it) or the worker again; nginx
    reloads its configuration, rendered again from deploy/."""
    if not STATE.exists():
        raise SystemExit("the stack is not running: make stack")
    state = json.loads(STATE.read_text())
    name = args.name
    if name == "nginx":
        write_nginx_conf(state)
        subprocess.run(
            ["nginx", "-c", str(STACK / "nginx" / "nginx.conf"), "-p", str(STACK / "nginx")]
            + ["-s", "reload"],
            check=True,
        )
        print("nginx reloaded")
        return
    if name != "worker" and name not in state["nodes"]:
        raise SystemExit(f"no such process in the stack: {name}")
    pid = state["pids"].get(name)
    if pid and alive(pid):
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
    base = base_env(state["port"])
    if name == "worker":
        state["pids"][name] = start_worker(base)
    else:
        port = state["nodes"][name]
        workers = state.get("workers_per_node", 2)
        state["pids"][name], _ = start_app_node(base, name, workers, port=port)
        wait_http(f"http://127.0.0.1:{port}/healthz")
    STATE.write_text(json.dumps(state, indent=2))
    print(f"{name} restarted (pid {state['pids'][name]})")


def status(_: argparse.Namespace) -> None:
    if not STATE.exists():
        print("the stack is not running")
        return
    state = json.loads(STATE.read_text())
    for name, pid in state["pids"].items():
        print(f"{name:8} pid {pid:7} {'up' if alive(pid) else 'DOWN'}")


def main() -> None:
    parser = argparse.ArgumentParser(description="fanwen's local production-shaped stack")
    sub = parser.add_subparsers(dest="command", required=True)
    begin = sub.add_parser("start")
    begin.add_argument("--port", type=int, default=8080)
    begin.add_argument("--nodes", type=int, default=2)
    begin.add_argument("--workers-per-node", type=int, default=2)
    begin.add_argument("--fresh", action="store_true", help="drop the stack's database first")
    sub.add_parser("stop")
    sub.add_parser("status")
    again = sub.add_parser(
        "restart", help="start one node (node1, node2, …) or the worker again; reload nginx"
    )
    again.add_argument("name")
    args = parser.parse_args()
    commands = {"start": start, "stop": stop, "status": status, "restart": restart}
    commands[args.command](args)


if __name__ == "__main__":
    main()
