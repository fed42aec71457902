"""Payments test fixtures: a fresh sandbox key set per test, the sandbox backend, helpers that play WeChat."""

from __future__ import annotations

import itertools
import json
import logging
from typing import Any

import pytest
from django.utils import timezone

from fanwen.orders.models import Order, Plan
from fanwen.orders.tests.fixtures import make_order
from fanwen.payments.backends import backends
from fanwen.payments.backends.wechat import rfc3339
from fanwen.sandbox.backends import SandboxBackend
from fanwen.sandbox.keys import SandboxKeys, load_keys
from fanwen.sandbox.platform import as_meta, notification_body, platform_headers

_txn_seq = itertools.count(1)

# Tests that need the live server (real commits). serialized_rollback: their flush then leaves
# the content types alone, so a later serialized test (orders' concurrency test on PostgreSQL)
# can restore them with the same ids instead of colliding with recreated ones.
LIVE_DB = pytest.mark.django_db(transaction=True, serialized_rollback=True)
NOTIFY_PATH = "/pay/notify/wechat/"


@pytest.fixture
def sandbox_keys(tmp_path, settings) -> SandboxKeys:
    """A key set generated for this test only, in tmp_path; notifications are delivered by hand."""
    settings.FANWEN_SANDBOX = True
    settings.FANWEN_SANDBOX_DIR = str(tmp_path / "sandbox")
    settings.FANWEN_SANDBOX_AUTO_NOTIFY = False
    settings.FANWEN_SANDBOX_NOTIFY_DELAYS = [0, 0.2, 0.5]
    settings.PAYMENT_WECHAT_BACKEND = "sandbox"
    settings.PAYMENT_BACKENDS = {
        "sandbox": {"BACKEND": "fanwen.sandbox.backends.SandboxBackend", "OPTIONS": {}},
    }
    return load_keys()


@pytest.fixture
def backend(sandbox_keys) -> SandboxBackend:
    """The sandbox backend for tests that never call the API (notification parsing needs no server)."""
    return backends["sandbox"]


@pytest.fixture
def live_backend(sandbox_keys, live_server, settings) -> SandboxBackend:
    """The sandbox backend talking over real HTTP to the emulator in pytest-django's live server."""
    settings.PAYMENT_BACKENDS = {
        "sandbox": {
            "BACKEND": "fanwen.sandbox.backends.SandboxBackend",
            "OPTIONS": {
                "gateway": live_server.url + "/sandbox/wechat",
                "notify_url": live_server.url + NOTIFY_PATH,
                "timeout": (2, 10),
            },
        },
    }
    return backends["sandbox"]


@pytest.fixture
def alipay_sandbox(sandbox_keys, live_server, settings):
    """The Alipay sandbox backend, reaching the emulator in the live server over real HTTP."""
    settings.FANWEN_SANDBOX_ORIGIN = live_server.url
    settings.PAYMENT_BACKENDS = {
        **settings.PAYMENT_BACKENDS,
        "alipay_sandbox": {
            "BACKEND": "fanwen.sandbox.backends.AlipaySandboxBackend",
            "OPTIONS": {"timeout": 10},
        },
    }
    settings.PAYMENT_ALIPAY_BACKEND = "alipay_sandbox"
    return backends["alipay_sandbox"]


@pytest.fixture
def payments_log(caplog):
    caplog.set_level(logging.INFO, logger="fanwen.payments")
    return caplog


def rejections(caplog) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.name == "fanwen.payments" and "rejected" in r.getMessage()
    ]


def sandbox_order(
    visitor, article, keys: SandboxKeys, plan_code: str = Plan.Code.ARTICLE_COPY
) -> Order:
    return make_order(
        visitor,
        plan_code,
        article if plan_code == Plan.Code.ARTICLE_COPY else None,
        mchid=keys.mchid,
        appid=keys.appid,
    )


def paid_resource(order: Order, keys: SandboxKeys, **overrides: Any) -> dict:
    """The decrypted TRANSACTION.SUCCESS resource WeChat would send for `order`; tests change parts."""
    amount = {
        "total": order.amount_fen,
        "payer_total": order.amount_fen,
        "currency": "CNY",
        "payer_currency": "CNY",
    }
    amount.update(overrides.pop("amount", {}))
    resource = {
        "appid": keys.appid,
        "mchid": keys.mchid,
        "out_trade_no": order.out_trade_no,
        "transaction_id": f"42000999{next(_txn_seq):020d}",
        "trade_type": "NATIVE",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "bank_type": "OTHERS",
        "attach": "",
        "success_time": rfc3339(timezone.now()),
        "payer": {"openid": "oSBXtestpayer0000000000001"},
        "amount": amount,
    }
    resource.update(overrides)
    return resource


def signed_notification(
    keys: SandboxKeys,
    resource: dict | None = None,
    *,
    body: str | None = None,
    event_id: str | None = None,
    event_type: str = "TRANSACTION.SUCCESS",
    **header_overrides: Any,
) -> tuple[str, dict[str, str]]:
    """(body, request.META headers) of a notification signed with the sandbox platform key."""
    if body is None:
        body = notification_body(keys, resource or {}, event_type=event_type, event_id=event_id)
    return body, as_meta(platform_headers(keys, body, **header_overrides))


def post_notification(client, body: str, meta: dict[str, str], path: str = NOTIFY_PATH):
    return client.post(path, data=body.encode("utf-8"), content_type="application/json", **meta)


def event_id_of(body: str) -> str:
    return json.loads(body)["id"]
