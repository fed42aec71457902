"""The door of both notify views: oversized bodies get 413 unread, a busy database gets 503."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from django.db import connection

from fanwen.orders.models import Entitlement, Order
from fanwen.payments.tests.alipay_fakes import alipay_order, notification
from fanwen.payments.tests.fixtures import (
    LIVE_DB,
    paid_resource,
    sandbox_order,
    signed_notification,
)

WECHAT = "/pay/notify/wechat/"
ALIPAY = "/pay/notify/alipay/"
BIG = 5 * 2**19  # 2.5 MiB


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()


# --- 413 ------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", [WECHAT, ALIPAY])
def test_a_body_of_2_5_mb_is_answered_413_on_both_providers_paths(
    client, backend, alipay_backend, path
):
    content_type = "application/json" if path == WECHAT else "application/x-www-form-urlencoded"
    body = b"a=" + b"x" * BIG

    response = client.post(path, data=body, content_type=content_type)

    assert response.status_code == 413
    if path == WECHAT:
        assert response.json() == {"code": "FAIL", "message": "body too large"}
    else:
        assert response.content == b"fail"


@pytest.mark.django_db
@pytest.mark.parametrize("path", [WECHAT, ALIPAY])
def test_a_declared_length_over_the_cap_is_refused_without_reading_the_body(
    client, backend, alipay_backend, path, settings
):
    settings.FANWEN_NOTIFY_MAX_BYTES = 64 * 1024
    # Claims 3 MB, sends 10 bytes: answered from the header alone (reading would wait for more).
    response = client.post(
        path, data=b"0123456789", content_type="application/json", CONTENT_LENGTH=str(3 * 2**20)
    )

    assert response.status_code == 413


@pytest.mark.django_db
@pytest.mark.parametrize("path", [WECHAT, ALIPAY])
def test_a_small_declared_length_on_a_huge_body_reads_no_more_than_declared(
    client, backend, alipay_backend, path, payments_log
):
    # Claims 1 KB, sends 2.5 MB: only the declared bytes are read, and they are no notification.
    body = b"a=" + b"x" * BIG

    response = client.post(
        path, data=body, content_type="application/x-www-form-urlencoded", CONTENT_LENGTH="1024"
    )

    assert 400 <= response.status_code < 500
    assert not any(r.levelname == "ERROR" for r in payments_log.records)


@pytest.mark.django_db
def test_a_form_of_tiny_fields_under_the_cap_is_refused_not_a_500(client, alipay_backend):
    body = "&".join(f"f{i}=" for i in range(5000)).encode()

    response = client.post(ALIPAY, data=body, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 400


@pytest.mark.django_db
def test_a_garbage_content_length_is_a_400(client, backend):
    response = client.post(WECHAT, data=b"{}", content_type="application/json", CONTENT_LENGTH="-5")

    assert response.status_code == 400


@pytest.mark.django_db
def test_a_genuine_notification_under_the_cap_still_settles(
    client, backend, xiaoming, article, sandbox_keys, settings
):
    settings.FANWEN_NOTIFY_MAX_BYTES = 4096
    order = sandbox_order(xiaoming, article, sandbox_keys)
    body, meta = signed_notification(sandbox_keys, paid_resource(order, sandbox_keys))
    assert len(body) < 4096

    response = client.post(WECHAT, data=body.encode(), content_type="application/json", **meta)

    assert response.status_code == 204


# --- 503 on a busy database -------------------------------------------------------------------

HOLDER = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def write_lock(tmp_path, settings):
    """The test connection queues on a lock file, and another process can hold that file."""
    if connection.vendor != "sqlite":
        pytest.skip("the write lock belongs to the SQLite backend")
    settings.FANWEN_SQLITE_LOCK_SECONDS = 1
    path = tmp_path / "db.writelock"
    # The test database lives in memory, where the backend uses no lock file: give it one.
    connection.ensure_connection()
    connection._write_lock_path = str(path)
    holder = LockHolder(path)
    yield holder
    holder.release()
    connection._write_lock_path = None


class LockHolder:
    def __init__(self, path) -> None:
        self.path = path
        self.process: subprocess.Popen | None = None

    def hold(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(self.path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "held"

    def release(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(10)


def timed(call):
    start = time.monotonic()
    response = call()
    return response, time.monotonic() - start


@LIVE_DB
def test_a_wechat_notification_waits_at_most_the_bound_then_503_and_pays_once_after(
    client, backend, xiaoming, article, sandbox_keys, write_lock
):
    order = sandbox_order(xiaoming, article, sandbox_keys)
    body, meta = signed_notification(sandbox_keys, paid_resource(order, sandbox_keys))
    write_lock.hold()

    busy, waited = timed(
        lambda: client.post(WECHAT, data=body.encode(), content_type="application/json", **meta)
    )

    assert busy.status_code == 503
    assert busy["Retry-After"] == "5"
    assert busy.json()["code"] == "FAIL"
    assert 1.0 <= waited < 2.5
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert not Entitlement.objects.filter(order=order).exists()

    write_lock.release()
    # WeChat retries the same event, freshly signed, and then once more.
    for _ in range(2):
        _, meta_again = signed_notification(sandbox_keys, body=body)
        retry = client.post(
            WECHAT, data=body.encode(), content_type="application/json", **meta_again
        )
        assert retry.status_code == 204
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert Entitlement.objects.filter(order=order).count() == 1


@LIVE_DB
def test_an_alipay_notification_gets_503_while_the_lock_is_held_and_success_after(
    client, alipay_backend, alipay_keys, xiaoming, article, write_lock
):
    order = alipay_order(xiaoming, article)
    data = notification(alipay_keys, order)
    write_lock.hold()

    busy, waited = timed(lambda: client.post(ALIPAY, data=data))

    assert busy.status_code == 503
    assert busy["Retry-After"] == "5"
    assert busy.content == b"fail"
    assert 1.0 <= waited < 2.5
    assert not Entitlement.objects.filter(order=order).exists()

    write_lock.release()
    assert client.post(ALIPAY, data=data).content == b"success"
    assert client.post(ALIPAY, data=data).content == b"success"
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert Entitlement.objects.filter(order=order).count() == 1
