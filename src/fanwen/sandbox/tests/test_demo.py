"""`fanwen demo --addr` on a free port: the sandbox is on, and it reaches this server, not :8000."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import requests

from fanwen.__main__ import demo_origin
from fanwen.sandbox.tests.test_off import ROOT, attacker, free_port, shell, site_env
from fanwen.sandbox.tests.test_sandbox_flow import press


def test_demo_origin_follows_the_address():
    assert demo_origin(["fanwen", "demo"]) == "http://127.0.0.1:8000"
    assert demo_origin(["fanwen", "demo", "--addr", "127.0.0.1:8765"]) == "http://127.0.0.1:8765"
    assert demo_origin(["fanwen", "demo", "--addr=8766"]) == "http://127.0.0.1:8766"


def test_a_payment_in_the_demo_on_another_port_settles_through_its_own_sandbox(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = site_env(tmp_path)  # FANWEN_SANDBOX unset: the demo turns it on by itself
    out = (tmp_path / "demo.log").open("w")
    demo = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "demo", "--addr", f"127.0.0.1:{port}"],
        env=env,
        cwd=tmp_path,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                requests.get(base + "/robots.txt", timeout=2)
                break
            # Not up yet, or up but still loading the app on a busy machine.
            except (requests.ConnectionError, requests.Timeout):
                assert demo.poll() is None, (tmp_path / "demo.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "the demo did not start"
                time.sleep(0.3)
        said = (tmp_path / "demo.log").read_text()
        assert f"支付沙箱已开启 payment sandbox ON: {base}/sandbox/" in said

        article_id = int(
            shell(
                {**env, "FANWEN_SANDBOX": "1"},
                "from fanwen.library.models import Article; "
                "print(Article.objects.published().first().pk)",
            )
        )
        buyer = attacker()
        answer = buyer.post(
            base + "/pay/orders/",
            json={"plan": "article_copy", "article_id": article_id, "channel": "native"},
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
        body = answer.json()
        assert body["code_url"].startswith(base + "/sandbox/pay/")
        assert body["pay_page"] is True
        assert press(buyer, body["code_url"], "确认支付").status_code == 200
        # The emulator notifies the site at the demo's own address, and the order is paid.
        status = ""
        deadline = time.monotonic() + 30
        while status != "paid" and time.monotonic() < deadline:
            status = buyer.get(base + f"/pay/orders/{body['out_trade_no']}/", timeout=10).json()[
                "status"
            ]
            time.sleep(0.3)
        assert status == "paid"
        source = shell(
            {**env, "FANWEN_SANDBOX": "1"},
            "from fanwen.orders.models import PaymentEvent; "
            f"print(PaymentEvent.objects.filter(out_trade_no='{body['out_trade_no']}', "
            "outcome__startswith='settled').values_list('kind', flat=True).first())",
        )
        assert source == "notify"
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        demo.wait(timeout=20)
        out.close()
