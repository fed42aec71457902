"""The sandbox off (the default): a real server without it, attacked from outside.

Everything here runs fanwen in subprocesses with FANWEN_SANDBOX unset, since the test run
itself has the sandbox on (pyproject's pytest env). No request may create an Entitlement
without a verified provider payment; /sandbox/ does not exist; a provider without keys is
not offered; the settings refuse a misspelt boolean and the checks refuse the sandbox in
production.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[4]
BIN = Path(sys.executable).parent
# Provider keys a developer's shell might carry would change what is offered.
PROVIDER_VARS = (
    "FANWEN_SANDBOX",
    "FANWEN_SANDBOX_ORIGIN",
    "FANWEN_PRODUCTION",
    "WECHATPAY_MCHID",
    "ALIPAY_APPID",
    "PAYMENT_WECHAT_BACKEND",
    "PAYMENT_ALIPAY_BACKEND",
    "REDIS_URL",
    "DATABASE_URL",
    "SECRET_KEY",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def site_env(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROVIDER_VARS}
    env.update(
        DJANGO_SETTINGS_MODULE="fanwen.settings",
        FANWEN_VAR_DIR=str(var_dir),
        FANWEN_PROTECTION="js",
        PYTHONPATH=str(ROOT / "src"),
    )
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=env["FANWEN_VAR_DIR"],
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A demo library served by gunicorn with the sandbox off; yields (base url, env)."""
    var_dir = tmp_path_factory.mktemp("sandbox-off")
    env = site_env(var_dir)
    # `fanwen demo` turns the sandbox on unless told otherwise: here it is told.
    loaded = manage({**env, "FANWEN_SANDBOX": "0"}, "demo", "--no-serve")
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    assert "支付沙箱未开启" in loaded.stdout
    port = free_port()
    log = (var_dir / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "fanwen.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"],
        env=env,
        cwd=var_dir,
        stdout=log,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(base + "/robots.txt", timeout=2)
                break
            # Not up yet, or up but still loading the app on a busy machine.
            except (requests.ConnectionError, requests.Timeout):
                assert server.poll() is None, (var_dir / "gunicorn.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        yield base, env
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


def shell(env: dict[str, str], code: str) -> str:
    done = manage(env, "shell", "-v", "0", "-c", code)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def attacker() -> requests.Session:
    # Django's CSRF check compares the header with the cookie: a client can set both.
    token = secrets.token_hex(16)
    session = requests.Session()
    session.cookies.set("csrftoken", token, domain="127.0.0.1")
    session.headers["X-CSRFToken"] = token
    return session


CHANNELS = ("native", "h5", "jsapi", "alipay_qr", "alipay_wap")


def test_no_request_creates_an_entitlement_with_the_sandbox_off(site):
    base, env = site
    article_id = int(
        shell(
            env,
            "from fanwen.library.models import Article; print(Article.objects.published().first().pk)",
        )
    )
    s = attacker()
    answers: dict[str, int] = {}

    # The emulators, their payer pages and their OAuth do not exist.
    for path in (
        "/sandbox/pay/anything/",
        "/sandbox/pay/anything/confirm/",
        "/sandbox/jsapi/wx123/",
        "/sandbox/wechat/v3/pay/transactions/native",
        "/sandbox/wechat/connect/oauth2/authorize",
        "/sandbox/alipay/gateway.do",
        "/sandbox/alipay/pay/anything/confirm/",
    ):
        answers["GET " + path] = s.get(base + path, timeout=10).status_code
        answers["POST " + path] = s.post(base + path, data={"a": "1"}, timeout=10).status_code

    # Orders for every channel: none is offered, each says so in JSON (never a 500).
    for channel in CHANNELS:
        for plan in ("article_copy", "pass_30d"):
            r = s.post(
                base + "/pay/orders/",
                json={"plan": plan, "article_id": article_id, "channel": channel},
                headers={"User-Agent": "MicroMessenger" if channel == "jsapi" else "Mozilla/5.0"},
                timeout=10,
            )
            answers[f"order {plan} {channel}"] = r.status_code
            assert r.headers["Content-Type"].startswith("application/json"), r.text[:200]
            assert r.json()["code"] == "ChannelUnavailable"
            assert "暂未开通" in r.json()["message"]

    # Forged notifications, to the default URLs and to the sandbox aliases by name.
    forged_wechat = json.dumps(
        {
            "id": "EV-forged",
            "event_type": "TRANSACTION.SUCCESS",
            "resource_type": "encrypt-resource",
            "resource": {"algorithm": "AEAD_AES_256_GCM", "nonce": "x", "ciphertext": "y"},
        }
    )
    wechat_headers = {
        "Wechatpay-Timestamp": str(int(time.time())),
        "Wechatpay-Nonce": "n",
        "Wechatpay-Signature": "c2ln",
        "Wechatpay-Serial": "PUB_KEY_ID_forged",
        "Content-Type": "application/json",
    }
    forged_alipay = {
        "out_trade_no": "20990101FORGED",
        "trade_status": "TRADE_SUCCESS",
        "total_amount": "5.99",
        "sign": "c2ln",
        "sign_type": "RSA2",
    }
    for path in ("/pay/notify/wechat/", "/pay/notify/wechat/sandbox/"):
        r = requests.post(base + path, data=forged_wechat, headers=wechat_headers, timeout=10)
        answers["notify " + path] = r.status_code
    for path in ("/pay/notify/alipay/", "/pay/notify/alipay/alipay_sandbox/"):
        r = requests.post(base + path, data=forged_alipay, timeout=10)
        answers["notify " + path] = r.status_code

    # "I have paid" for an order that cannot exist, and the QR view for a sandbox page.
    answers["check"] = s.post(base + "/pay/orders/20990101FORGED/check/", timeout=10).status_code
    answers["qr sandbox page"] = s.get(
        base + "/qr.svg", params={"d": base + "/sandbox/pay/abc/"}, timeout=10
    ).status_code

    assert not [what for what, status in answers.items() if status >= 500], answers
    assert all(
        status == 404 for what, status in answers.items() if "/sandbox/" in what.split()[-1]
    ), answers
    assert all(
        answers[f"order {p} {c}"] == 400 for c in CHANNELS for p in ("article_copy", "pass_30d")
    )
    assert answers["qr sandbox page"] == 400
    counts = json.loads(
        shell(
            env,
            "import json; from fanwen.orders.models import Entitlement, Order; "
            "print(json.dumps([Entitlement.objects.count(), Order.objects.count()]))",
        )
    )
    assert counts == [0, 0]


def test_the_paywall_says_payments_are_not_set_up(site):
    base, env = site
    url = shell(
        env,
        "from fanwen.library.models import Article; "
        "print(Article.objects.published().first().get_absolute_url())",
    )
    page = requests.get(base + url, timeout=10).text
    assert "暂未开通在线支付" in page
    config = page.split('id="pw-config" type="application/json">', 1)[1].split("</script>")[0]
    assert json.loads(config)["wechat"] is False and json.loads(config)["alipay"] is False


def test_manage_check_refuses_a_misspelt_boolean(tmp_path):
    done = manage(site_env(tmp_path, FANWEN_SANDBOX="ture"), "check")
    assert done.returncode != 0
    assert "FANWEN_SANDBOX='ture' is not a boolean" in done.stderr
    for word in ("1", "TRUE", " yes ", "On", "0", "false", "NO", "off"):
        assert manage(site_env(tmp_path, FANWEN_SANDBOX=word), "check").returncode == 0, word


def test_production_with_the_sandbox_on_fails_the_system_check(tmp_path):
    production = site_env(
        tmp_path,
        FANWEN_PRODUCTION="1",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="fanwen.example.com",
    )
    for args in (("check",), ("check", "--deploy")):
        done = manage({**production, "FANWEN_SANDBOX": "1"}, *args)
        assert done.returncode != 0, args
        assert "fanwen.E001" in done.stderr, done.stderr[-2000:]
        without = manage(production, *args)
        assert "fanwen.E001" not in without.stderr + without.stdout
    # Production without keys starts (nothing is offered) and without the sandbox app.
    apps = shell(
        production,
        "from django.apps import apps; print(apps.is_installed('fanwen.sandbox'))",
    )
    assert apps == "False"


def test_a_sandbox_alias_with_the_sandbox_off_fails_the_system_check(tmp_path):
    done = manage(site_env(tmp_path, PAYMENT_WECHAT_BACKEND="sandbox"), "check")
    assert done.returncode != 0
    assert "fanwen.E002" in done.stderr and "PAYMENT_WECHAT_BACKEND='sandbox'" in done.stderr
    on = manage(site_env(tmp_path, PAYMENT_WECHAT_BACKEND="sandbox", FANWEN_SANDBOX="1"), "check")
    assert on.returncode == 0, on.stderr[-2000:]
