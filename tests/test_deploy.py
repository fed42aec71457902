"""A production start (`check --deploy` clean, HTTPS enforced) and the deploy/ tools of deploy/README.md."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fanwen.library.tests.factories import make_article, make_category
from fanwen.orders.models import Entitlement, Order
from fanwen.orders.tests.fixtures import plans  # noqa: F401  (fixture)
from fanwen.payments.tests.fixtures import live_backend, sandbox_keys  # noqa: F401  (fixtures)
from fanwen.protection import fonts
from fanwen.sandbox.notify import wait_for_deliveries

ROOT = Path(__file__).resolve().parent.parent


def production_env(tmp_path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FANWEN_", "SECURE", "DJANGO_", "PAYMENT_", "WECHAT", "ALIPAY"))
    }
    env.update(
        PYTHONPATH=str(ROOT / "src"),
        DJANGO_SETTINGS_MODULE="fanwen.settings",
        FANWEN_PRODUCTION="1",
        FANWEN_VAR_DIR=str(tmp_path / "var"),
        SECRET_KEY="k" * 20 + "-production-secret-key-with-enough-variety-0123456789",
        ALLOWED_HOSTS="fanwen.example.com",
    )
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    return run([str(ROOT / "manage.py"), "check", "--deploy", "--fail-level", "WARNING"], env)


def test_a_configured_production_env_passes_check_deploy_with_no_warning(tmp_path):
    result = check_deploy(production_env(tmp_path))

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stderr + result.stdout


def test_turning_hsts_and_the_redirect_off_is_possible_and_check_deploy_says_so(tmp_path):
    env = production_env(tmp_path, FANWEN_SSL_REDIRECT="0", FANWEN_HSTS_SECONDS="0")

    result = check_deploy(env)

    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W008" in result.stderr


PROBE = """
import django
django.setup()
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST="fanwen.example.com")
plain = client.get("/robots.txt")
secure = client.get("/robots.txt", secure=True)
proxied = client.get("/robots.txt", HTTP_X_FORWARDED_PROTO="https")
print(plain.status_code, plain.get("Location", ""))
print(secure.status_code, secure.get("Strict-Transport-Security", ""))
print(proxied.status_code, proxied.get("Strict-Transport-Security", ""))
print(secure.get("Content-Security-Policy", ""))
"""


def probe(env: dict[str, str]) -> list[str]:
    result = run(["-c", PROBE], env)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_production_redirects_plain_http_and_sends_hsts_and_csp_over_https(tmp_path):
    plain, secure, proxied, csp = probe(production_env(tmp_path))

    assert plain == "301 https://fanwen.example.com/robots.txt"
    assert secure == "200 max-age=31536000; includeSubDomains; preload"
    # No proxy is trusted unless the env says so: the header a client sends changes nothing.
    assert proxied.startswith("301")
    assert "default-src 'self'" in csp and "script-src 'self';" in csp + ";"
    assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp


def test_a_trusted_proxy_header_is_honoured_only_when_configured(tmp_path):
    env = production_env(tmp_path, FANWEN_PROXY_SSL_HEADER="X-Forwarded-Proto: https")

    _, _, proxied, _ = probe(env)

    assert proxied == "200 max-age=31536000; includeSubDomains; preload"


def test_a_malformed_proxy_header_setting_stops_the_start(tmp_path):
    result = run(["-c", PROBE], production_env(tmp_path, FANWEN_PROXY_SSL_HEADER="https"))

    assert result.returncode != 0
    assert "FANWEN_PROXY_SSL_HEADER must look like" in result.stderr


@pytest.mark.parametrize(
    ("extra", "header", "expected"),
    [
        ({"FANWEN_CSP": "default-src 'self'; img-src *;"}, "Content-Security-Policy", "img-src *"),
        (
            {"FANWEN_CSP_REPORT_ONLY": "1", "FANWEN_CSP_REPORT_URI": "/csp-report"},
            "Content-Security-Policy-Report-Only",
            "report-uri /csp-report",
        ),
        ({"FANWEN_CSP": "off"}, "Content-Security-Policy", ""),
    ],
)
def test_the_policy_comes_from_the_env(tmp_path, extra, header, expected):
    script = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "r = Client(HTTP_HOST='fanwen.example.com').get('/robots.txt', secure=True)\n"
        f"print(r.get({header!r}, ''))\n"
    )
    result = run(["-c", script], production_env(tmp_path, **extra))

    assert result.returncode == 0, result.stderr
    value = result.stdout.strip()
    assert expected in value if expected else value == ""


def render_nginx(**extra):
    sys.path.insert(0, str(ROOT / "deploy"))
    try:
        from render_nginx import render
    finally:
        sys.path.remove(str(ROOT / "deploy"))
    options = dict(
        listen="127.0.0.1:80",
        server_name="127.0.0.1 localhost",
        upstreams=["127.0.0.1:8000"],
        static_root="/srv/fanwen/var/static/",
        run_dir="/run",
        log_dir="/var/log/nginx",
        cache_dir="/var/cache/nginx/fanwen",
        conf_dir="/etc/nginx",
        tls=False,
    )
    options.update(extra)
    return render(**options)


def test_the_nginx_workers_run_as_the_account_that_owns_the_cache_when_one_is_named():
    with_user = render_nginx(user="www-data")
    without = render_nginx()

    assert "\nuser www-data;" in with_user
    assert "\nuser " not in without and "__USER__" not in without
    assert "listen 127.0.0.1:80;" in without and "ssl_certificate" not in without
    assert "alias /srv/fanwen/var/static/;" in without


# deploy/smoke.py against the live test server: the purchase a deployed site is checked with.


def smoke_module():
    sys.path.insert(0, str(ROOT / "deploy"))
    try:
        import smoke
    finally:
        sys.path.remove(str(ROOT / "deploy"))
    return smoke


@pytest.fixture
def smoke_article(settings, tmp_path, live_backend, plans):  # noqa: F811
    settings.FANWEN_SANDBOX_AUTO_NOTIFY = True
    settings.FANWEN_SANDBOX_NOTIFY_DELAYS = [0, 0.5, 1]
    # As deployed: the locked page draws its text with the protection font.
    settings.FANWEN_PROTECTION = "font"
    settings.FANWEN_FONT_DIR = str(tmp_path / "fonts")
    article = make_article(make_category("工作总结", "smoke-zongjie"), title="社区服务工作总结")
    fonts.build_font(article)
    yield article
    assert wait_for_deliveries(timeout=30)


@pytest.mark.django_db(transaction=True)
def test_the_smoke_purchase_unlocks_the_page_it_bought(live_server, smoke_article, capsys):
    article = smoke_article

    code = smoke_module().main([live_server.url, "--article", str(article.pk), "--wait", "30"])

    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    assert "the clean text is refused before paying" in out.out
    assert "(protected before, clean now)" in out.out
    assert "the locked page did not show it" in out.out
    assert "the download link gives the Word document" in out.out
    order = Order.objects.get(article=article)
    assert order.status == Order.Status.PAID
    assert Entitlement.objects.filter(order=order).count() == 1


def test_the_smoke_check_fails_with_a_message_when_the_site_does_not_answer(capsys):
    code = smoke_module().main(["http://127.0.0.1:9", "--article", "1"])

    assert code == 1
    assert "FAILED" in capsys.readouterr().err


# deploy/services.sh: the units' commands where PID 1 is not systemd.


@pytest.mark.skipif(os.geteuid() != 0, reason="setpriv changes user only as root")
def test_services_sh_runs_a_units_command_as_its_user_with_its_environment(tmp_path):
    workdir = tmp_path / "work"
    workdir.mkdir()
    (tmp_path / "env").write_text("FANWEN_UNIT_PROBE=from-the-env-file\n")
    (tmp_path / "probe.service").write_text(
        "[Service]\nUser=root\nGroup=root\n"
        f"WorkingDirectory={workdir}\nEnvironmentFile=-{tmp_path / 'env'}\n"
        "ExecStart=/bin/sleep 60\nKillSignal=SIGTERM\nTimeoutStopSec=5\n"
    )
    env = dict(
        os.environ,
        FANWEN_UNIT_DIR=str(tmp_path),
        FANWEN_SERVICE_LOG_DIR=str(tmp_path / "log"),
        FANWEN_SERVICE_RUN_DIR=str(tmp_path / "run"),
    )

    def services(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["sh", str(ROOT / "deploy" / "services.sh"), *args, "probe"],
            env=env, capture_output=True, text=True, timeout=30,
        )  # fmt: skip

    started = services("start")
    try:
        assert started.returncode == 0, started.stderr
        pid = int((tmp_path / "run" / "probe.pid").read_text())
        # The pid is the command itself, in its own session, in the unit's directory and env.
        assert Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:2] == [b"/bin/sleep", b"60"]
        assert os.getsid(pid) == pid
        assert Path(f"/proc/{pid}/cwd").resolve() == workdir
        assert b"FANWEN_UNIT_PROBE=from-the-env-file" in Path(f"/proc/{pid}/environ").read_bytes()
        assert services("status").returncode == 0
    finally:
        stopped = services("stop")
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert not Path(f"/proc/{pid}").exists()
    assert services("status").returncode == 3
