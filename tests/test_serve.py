"""`fanwen serve`: refuses an unsafe production start, and serves under gunicorn until SIGTERM."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SECRET = "k" * 20 + "-production-secret-key-with-enough-variety-0123456789"


def serve_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FANWEN_", "SECURE", "DJANGO_", "PAYMENT_", "WECHAT", "ALIPAY"))
        and key not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS"}
    }
    env.update(
        PYTHONPATH=str(ROOT / "src"),
        FANWEN_PRODUCTION="1",
        FANWEN_VAR_DIR=str(tmp_path / "var"),
        SECRET_KEY=SECRET,
        ALLOWED_HOSTS="fanwen.example.com",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/unused",
        REDIS_URL="redis://127.0.0.1:6379/5",
    )
    env.update(extra)
    return {key: value for key, value in env.items() if value is not None}


def fanwen(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fanwen", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_configured_production_env_passes_the_checks(tmp_path):
    result = fanwen(["serve", "--check"], serve_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "checks passed" in result.stdout


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ({"DATABASE_URL": None}, "数据库是 SQLite / the database is SQLite"),
        ({"REDIS_URL": None}, "REDIS_URL is not set"),
        ({"ALLOWED_HOSTS": "127.0.0.1,localhost"}, "ALLOWED_HOSTS names only loopback hosts"),
        ({"SECRET_KEY": "short"}, "security.W009"),
        ({"FANWEN_SANDBOX": "1"}, "fanwen.E001"),
    ],
)
def test_an_unsafe_production_start_is_refused_in_chinese_and_english(tmp_path, extra, said):
    result = fanwen(["serve", "--check"], serve_env(tmp_path, **extra))

    assert result.returncode != 0
    assert "拒绝启动 / refusing to start" in result.stderr
    assert said in result.stderr
    assert "checks passed" not in result.stdout


def test_the_generated_development_key_is_refused(tmp_path):
    env = serve_env(tmp_path)
    # A dev run generates var/secret_key; production then given that same key.
    dev = fanwen(["serve", "--check"], serve_env(tmp_path, FANWEN_PRODUCTION="0", SECRET_KEY=None))
    assert dev.returncode == 0, dev.stderr
    env["SECRET_KEY"] = (tmp_path / "var" / "secret_key").read_text().strip()

    result = fanwen(["serve", "--check"], env)

    assert result.returncode != 0
    assert "SECRET_KEY 是开发环境自动生成的密钥" in result.stderr


@pytest.mark.parametrize(
    ("extra", "flag"),
    [
        ({"DATABASE_URL": None}, "--allow-sqlite"),
        ({"REDIS_URL": None}, "--allow-no-redis"),
        ({"FANWEN_SANDBOX": "1"}, "--allow-sandbox"),
    ],
)
def test_each_refusal_can_be_waived_by_its_flag(tmp_path, extra, flag):
    result = fanwen(["serve", "--check", flag], serve_env(tmp_path, **extra))
    assert result.returncode == 0, result.stderr


def test_outside_production_nothing_is_refused(tmp_path):
    env = serve_env(
        tmp_path, FANWEN_PRODUCTION=None, DATABASE_URL=None, REDIS_URL=None, ALLOWED_HOSTS=None
    )
    result = fanwen(["serve", "--check"], env)
    assert result.returncode == 0, result.stderr


def test_workers_follow_the_cpus_capped_unless_set(settings, monkeypatch):
    from fanwen.ops.management.commands.serve import default_workers

    settings.FANWEN_WEB_WORKERS = 0
    settings.FANWEN_WEB_MAX_WORKERS = 12
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert default_workers() == 5
    monkeypatch.setattr(os, "cpu_count", lambda: 32)
    assert default_workers() == 12
    settings.FANWEN_WEB_WORKERS = 3
    assert default_workers() == 3


def wait_for(pattern: str, log: Path, server: subprocess.Popen, seconds: float = 60) -> re.Match:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = re.search(pattern, log.read_text(errors="replace"))
        if found:
            return found
        assert server.poll() is None, log.read_text()[-3000:]
        time.sleep(0.2)
    raise AssertionError(f"{pattern!r} not in {log.read_text()[-3000:]}")


def get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=20) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_it_serves_on_a_free_port_under_gunicorn_and_stops_on_sigterm(tmp_path):
    env = serve_env(tmp_path, DATABASE_URL=None, REDIS_URL=None)
    migrated = fanwen(["migrate", "--verbosity", "0"], env)
    assert migrated.returncode == 0, migrated.stderr
    out, err = tmp_path / "out.log", tmp_path / "err.log"
    with out.open("w") as stdout, err.open("w") as stderr:
        # Port 0: the system picks a free port; gunicorn's log says which.
        server = subprocess.Popen(
            [sys.executable, "-m", "fanwen", "serve", "--bind", "127.0.0.1:0", "--workers", "2"]
            + ["--allow-sqlite", "--allow-no-redis"],
            cwd=ROOT,
            env=env,
            stdout=stdout,
            stderr=stderr,
        )
    try:
        port = wait_for(r"Listening at: http://127\.0\.0\.1:(\d+)", err, server)[1]
        wait_for(r"Booting worker with pid", err, server)
        base = f"http://127.0.0.1:{port}"

        status, headers, body = get(
            base + "/healthz", Host="fanwen.example.com", **{"X-Request-ID": "probe-9"}
        )
        # Over plain HTTP on a production site: not redirected, the database is up.
        assert status == 200, body
        assert b'"database": {"ok": true' in body
        assert headers["X-Request-ID"] == "probe-9"
        status, headers, _ = get(base + "/robots.txt", Host="fanwen.example.com")
        assert status == 301 and headers["Location"] == "https://fanwen.example.com/robots.txt"

        # gunicorn's access log on stdout, with the request id the app answered with.
        wait_for(r'"GET /healthz HTTP/1.1" 200 .* probe-9', out, server)

        # nginx keeps idle connections to a node for up to 60 s and sends the next request on
        # one of them: the node must not have closed it after gunicorn's default 2 s.
        kept = http.client.HTTPConnection("127.0.0.1", int(port), timeout=20)
        try:
            for _ in range(2):
                kept.request("GET", "/healthz", headers={"Host": "fanwen.example.com"})
                answer = kept.getresponse()
                answer.read()
                assert answer.status == 200
                time.sleep(3)
        finally:
            kept.close()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            server.kill()
            raise
    assert code == 0, err.read_text()[-3000:]
    assert "Shutting down: Master" in err.read_text()
