"""A scratch fanwen behind nginx on loopback, and clients that each have their own address.

gunicorn runs several workers on a free port of 127.0.0.1 with FANWEN_TRUSTED_PROXIES=127.0.0.1;
nginx listens on another free port of 127.0.0.1 and passes requests on with
X-Forwarded-For ($proxy_add_x_forwarded_for) and X-Real-IP. Every address of 127.0.0.0/8 is
local on Linux, so a client that binds its socket to 127.0.0.2, 127.0.0.3... is a different
reader to nginx — and one that talks to gunicorn directly is an untrusted peer.

Used by tests/limits/test_behind_nginx.py and bench/limits.py.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# The Redis run's database of this test process (fanwen.lib.tests.redisdb), else one the app's
# own deployments leave alone; either way the stack keeps to a key prefix of its own.
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
PASSWORD = "correct horse battery"
# Who logs in where: (login path, account name, where a success lands).
DOORS = {
    "account": ("/account/login/", "alice@example.com", "/account/purchases/"),
    "admin": ("/admin/login/", "boss", "/admin/"),
}
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

# The site's settings with a fast password hasher: hundreds of password checks on a shared
# machine, and the production hasher's deliberate slowness is not what is measured.
SETTINGS = """
from fanwen.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
"""

SEED = f"""
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
from django.contrib.auth import get_user_model
users = get_user_model().objects
users.create_user("alice@example.com", "alice@example.com", {PASSWORD!r})
users.create_user("boss", "boss@example.com", {PASSWORD!r}, is_staff=True, is_superuser=True)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    text: str


@dataclass
class Client:
    """One reader: its own source address, its own cookies, a new connection per request."""

    port: int
    source: str
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        method: str,
        path: str,
        *,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        cookies: bool = True,
    ) -> Answer:
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=60, source_address=(self.source, 0)
        )
        sent = dict(headers or {})
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if cookies and self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            if cookies:
                for value in response.headers.get_all("Set-Cookie") or []:
                    for name, morsel in SimpleCookie(value).items():
                        self.cookies[name] = morsel.value
            return Answer(response.status, dict(response.getheaders()), text)
        finally:
            connection.close()

    def page(self, path: str = "/", forwarded_for: str | None = None) -> int:
        """A reading page as a cookieless reader (held to the per-IP page limit)."""
        headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
        return self.request("GET", path, headers=headers, cookies=False).status

    def login(self, door: str, password: str, username: str | None = None) -> Answer:
        path, account, _ = DOORS[door]
        form_page = self.request("GET", path)
        token = CSRF_FIELD.search(form_page.text)
        assert token, f"no CSRF field on {path} ({form_page.status})"
        form = {
            "csrfmiddlewaretoken": token.group(1),
            "username": username or account,
            "password": password,
        }
        if door == "admin":
            form["next"] = "/admin/"
        return self.request("POST", path, form=form)


def logged_in(answer: Answer, door: str) -> bool:
    return answer.status == 302 and answer.headers.get("Location", "").endswith(DOORS[door][2])


def in_parallel(calls: Iterable[Callable[[], object]], threads: int) -> list:
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda call: call(), list(calls)))


def wait_for_fresh_window(window: int, needed: float) -> None:
    """Sleep into the next fixed window when this one ends within `needed` seconds."""
    left = window - time.time() % window
    if left < needed:
        time.sleep(left + 0.5)


class Stack:
    """migrate + seed a scratch site, then gunicorn and nginx in front; stop() ends both."""

    def __init__(self, *, store: str, workers: int = 4, settings: dict[str, str] | None = None):
        self.store = store
        self.workers = workers
        self.root = Path(tempfile.mkdtemp(prefix="fanwen-limits-"))
        self.prefix = f"limits-{uuid.uuid4().hex[:12]}"
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("FANWEN_", "DATABASE_", "REDIS_"))
        }
        env.update(
            {
                "PYTHONPATH": os.pathsep.join(
                    filter(None, [str(self.root), str(ROOT / "src"), os.environ.get("PYTHONPATH")])
                ),
                "DJANGO_SETTINGS_MODULE": "limits_settings",
                "FANWEN_VAR_DIR": str(self.root / "var"),
                "SECRET_KEY": uuid.uuid4().hex * 2,
                "FANWEN_TRUSTED_PROXIES": "127.0.0.1",
                "FANWEN_CRAWLER_VERIFY": "0",
            }
        )
        if store == "redis":
            env.update({"REDIS_URL": REDIS_URL, "FANWEN_CACHE_PREFIX": self.prefix})
        elif store == "database":
            env["FANWEN_RATE_STORE"] = "database"
        elif store != "locmem":
            raise ValueError(f"unknown store {store!r}")
        env.update(settings or {})
        self.env = env
        self.gunicorn: subprocess.Popen | None = None
        self.nginx: subprocess.Popen | None = None
        self.gunicorn_port = free_port()
        self.nginx_port = free_port()

    def start(self) -> Stack:
        (self.root / "limits_settings.py").write_text(SETTINGS)
        try:
            subprocess.run(
                [sys.executable, "-c", SEED], env=self.env, cwd=self.root, check=True, timeout=300
            )
            self._start_gunicorn()
            self._start_nginx()
            self._wait(self.nginx_port)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_gunicorn(self) -> None:
        log = (self.root / "gunicorn.log").open("w")
        self.gunicorn = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "fanwen.wsgi",
                "--bind",
                f"127.0.0.1:{self.gunicorn_port}",
                "--workers",
                str(self.workers),
                "--timeout",
                "60",
                "--log-level",
                "warning",
            ],
            env=self.env,
            cwd=self.root,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait(self.gunicorn_port)

    def _start_nginx(self) -> None:
        prefix = self.root / "nginx"
        temp = prefix / "temp"
        temp.mkdir(parents=True)
        # Run as root, nginx's workers drop to nobody: they must reach the temp directories.
        for path in (self.root, prefix):
            path.chmod(0o755)
        temp.chmod(0o777)
        temp_paths = "\n".join(
            f"  {kind}_temp_path {temp}/{kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        conf = prefix / "nginx.conf"
        conf.write_text(f"""
daemon off;
worker_processes 2;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
{temp_paths}
  server {{
    listen 127.0.0.1:{self.nginx_port};
    location / {{
      proxy_pass http://127.0.0.1:{self.gunicorn_port};
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Real-IP $remote_addr;
    }}
  }}
}}
""")
        self.nginx = subprocess.Popen(
            [shutil.which("nginx") or "nginx", "-p", str(prefix), "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=(prefix / "stderr.log").open("w"),
            start_new_session=True,
        )

    def _wait(self, port: int, timeout: float = 240) -> None:
        # Generous: four workers importing Django on a busy two-core machine.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for proc in (self.gunicorn, self.nginx):
                if proc is not None and proc.poll() is not None:
                    raise RuntimeError(f"{proc.args[0]} exited on start; see {self.root}")
            try:
                if Client(port, "127.0.0.1").request("GET", "/robots.txt").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        log = (self.root / "gunicorn.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"127.0.0.1:{port} did not answer within {timeout:.0f} s\n{log}")

    def via_nginx(self, source: str) -> Client:
        return Client(self.nginx_port, source)

    def direct(self, source: str) -> Client:
        """A client talking to gunicorn itself, past nginx."""
        return Client(self.gunicorn_port, source)

    def stop(self) -> None:
        for proc in (self.nginx, self.gunicorn):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        if self.store == "redis" and redis_available():
            import redis

            client = redis.Redis.from_url(REDIS_URL)
            keys = list(client.scan_iter(f"{self.prefix}:*"))
            if keys:
                client.delete(*keys)
        shutil.rmtree(self.root, ignore_errors=True)
