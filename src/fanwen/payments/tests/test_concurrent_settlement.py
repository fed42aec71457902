"""WeChat's retries and the buyer's 已付款请点这里 racing over real HTTP settle an order exactly once.

The order is made as a buyer makes it (POST /pay/orders/ to the live server, which creates the
trade at the sandbox emulator), the sandbox marks it paid, and then 50 copies of the same signed,
encrypted TRANSACTION.SUCCESS notification and one /check/ from the buyer's browser all arrive at
once. Row locks need a real server: SQLite serialises whole-database writes instead.
"""

from __future__ import annotations

import threading

import pytest
import requests
from django.core.cache import cache
from django.db import connection, connections

from fanwen.orders.models import Entitlement, Order, PaymentEvent
from fanwen.orders.signals import order_paid
from fanwen.payments.tests.fixtures import LIVE_DB, NOTIFY_PATH
from fanwen.sandbox.actions import do_confirm_sandbox_payment
from fanwen.sandbox.models import SandboxNotification, SandboxTransaction
from fanwen.sandbox.platform import platform_headers

NOTIFIERS = 50
CSRF = "fanwenTestCsrfSecret0123456789ab"  # 32 letters/digits: a valid unmasked secret
HTTP_TIMEOUT = 60

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL row locks (select_for_update); run with DATABASE_URL=postgres://...",
    ),
    LIVE_DB,
]


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate-limit counters live in the cache, which outlives a test.
    cache.clear()


def open_connection(url: str) -> requests.Session:
    """A session whose keep-alive connection to the live server is already accepted.

    The live server listens with a backlog of 10; 51 simultaneous connects overflow it and get
    reset. Connecting beforehand leaves only the requests themselves to race.
    """
    session = requests.Session()
    warm_up = session.get(url, timeout=HTTP_TIMEOUT)  # a GET is no notification: 405, no DB
    assert warm_up.status_code == 405
    assert warm_up.headers.get("Connection", "").lower() != "close"
    return session


def buyer_browser() -> requests.Session:
    """A browser that sends Django's CSRF cookie and, like the page's JS, the X-CSRFToken header."""
    session = requests.Session()
    session.cookies.set("csrftoken", CSRF)
    session.headers["X-CSRFToken"] = CSRF
    return session


def test_fifty_copies_of_a_notification_and_a_check_racing_over_http_settle_once(
    live_backend, live_server, sandbox_keys, article, settings
):
    # The buyer orders the article: the live server prices it and creates the sandbox trade.
    buyer = buyer_browser()
    created = buyer.post(
        live_server.url + "/pay/orders/",
        json={"plan": "article_copy", "article_id": article.pk, "channel": "native"},
        timeout=HTTP_TIMEOUT,
    )
    assert created.status_code == 201, created.text
    no = created.json()["out_trade_no"]
    assert settings.FANWEN_VISITOR_COOKIE in buyer.cookies
    order = Order.objects.get(out_trade_no=no)
    assert order.status == Order.Status.PENDING

    # The payer confirms at "WeChat"; its notification is queued but not sent (auto-notify is off).
    txn = do_confirm_sandbox_payment(SandboxTransaction.objects.get(out_trade_no=no))
    notification = SandboxNotification.objects.get(transaction=txn)
    assert notification.notify_url == live_server.url + NOTIFY_PATH
    # One notification, signed once: every thread sends byte-for-byte the same request.
    body = notification.body.encode("utf-8")
    headers = platform_headers(sandbox_keys, notification.body) | {
        "Content-Type": "application/json"
    }

    wechat = [open_connection(notification.notify_url) for _ in range(NOTIFIERS)]
    start = threading.Barrier(NOTIFIERS + 1)
    lock = threading.Lock()
    notify_statuses: list[int] = []
    checks: list[requests.Response] = []
    errors: list[BaseException] = []
    paid_signals: list[str] = []

    def heard(sender, order, **kwargs):
        with lock:
            paid_signals.append(order.out_trade_no)

    def notify(session: requests.Session) -> None:
        try:
            start.wait(timeout=30)
            answer = session.post(
                notification.notify_url, data=body, headers=headers, timeout=HTTP_TIMEOUT
            )
            with lock:
                notify_statuses.append(answer.status_code)
        except BaseException as exc:  # noqa: BLE001  (reported by the main thread)
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    def check() -> None:
        try:
            start.wait(timeout=30)
            answer = buyer.post(f"{live_server.url}/pay/orders/{no}/check/", timeout=HTTP_TIMEOUT)
            with lock:
                checks.append(answer)
        except BaseException as exc:  # noqa: BLE001  (reported by the main thread)
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=notify, args=(session,)) for session in wechat]
    threads.append(threading.Thread(target=check))
    order_paid.connect(heard)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=2 * HTTP_TIMEOUT)
    finally:
        order_paid.disconnect(heard)
        # Closing the sockets ends the server's keep-alive threads, which close their DB connections.
        for session in [*wechat, buyer]:
            session.close()

    assert not [thread for thread in threads if thread.is_alive()]
    assert errors == []
    # WeChat hears 204 for every copy, so it stops resending; none was refused or failed.
    assert notify_statuses == [204] * NOTIFIERS
    assert len(checks) == 1
    checked = checks[0]
    assert checked.status_code == 200, checked.text
    state = checked.json()
    assert state["status"] == "paid" and state["paid_at"]
    assert state["entitlement"]["kind"] == "article"
    assert state["entitlement"]["article_id"] == article.pk

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.provider_txn_id == txn.transaction_id
    assert Order.objects.filter(provider_txn_id=txn.transaction_id).count() == 1
    assert Entitlement.objects.filter(order=order).count() == 1

    # Exactly one transition to paid; every other arrival was a recorded no-op.
    events = list(PaymentEvent.objects.filter(order=order))
    outcomes = [event.outcome for event in events]
    assert outcomes.count("settled") == 1, outcomes
    assert all(
        outcome == "settled"
        or outcome.startswith("already settled")
        or outcome.startswith("duplicate event")
        for outcome in outcomes
    ), outcomes
    assert not PaymentEvent.objects.filter(out_trade_no=no, outcome__startswith="rejected")
    assert sum(event.kind == PaymentEvent.Kind.NOTIFY for event in events) == NOTIFIERS
    # The check settles through the query unless the order was already paid when it looked.
    assert sum(event.kind == PaymentEvent.Kind.QUERY for event in events) <= 1
    assert PaymentEvent.objects.filter(provider_event_id=notification.event_id).count() == 1
    assert paid_signals == [no]
