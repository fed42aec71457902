"""The emulated platform's notifications: queued as rows, sent over HTTP, retried like WeChat does.

`deliver_notification()` sends once and returns the HTTP status (tests call it directly);
`send_in_background()` runs the retry schedule in a thread so the payer page answers at once.
"""

from __future__ import annotations

import json
import logging
import threading
import time

import requests
from django.conf import settings
from django.db import connection
from django.db.models import F
from django.utils import timezone

from fanwen.sandbox.keys import load_keys
from fanwen.sandbox.models import SandboxNotification, SandboxRefund, SandboxTransaction
from fanwen.sandbox.platform import notification_body, platform_headers

log = logging.getLogger("fanwen.sandbox")

# Seconds before each attempt; WeChat itself goes on for ~24 h, the sandbox stops after these.
DEFAULT_DELAYS = (0, 2, 5, 15, 30, 60)
_threads: set[threading.Thread] = set()
_threads_lock = threading.Lock()


def queue_payment_notification(txn: SandboxTransaction) -> SandboxNotification:
    keys = load_keys()
    body = notification_body(keys, txn.as_wechat_json(), event_type="TRANSACTION.SUCCESS")
    return _queue(body, "TRANSACTION.SUCCESS", txn.notify_url, txn)


def queue_refund_notification(refund: SandboxRefund) -> SandboxNotification | None:
    if not refund.notify_url:
        return None
    keys = load_keys()
    txn = refund.transaction
    resource = refund.as_wechat_json()
    resource.update({"mchid": txn.mchid, "refund_status": refund.status})
    event_type = f"REFUND.{refund.status}"
    body = notification_body(keys, resource, event_type=event_type)
    return _queue(body, event_type, refund.notify_url, txn)


def _queue(
    body: str, event_type: str, notify_url: str, txn: SandboxTransaction
) -> SandboxNotification:
    return SandboxNotification.objects.create(
        event_id=json.loads(body)["id"],
        event_type=event_type,
        notify_url=notify_url,
        body=body,
        transaction=txn,
    )


def deliver_notification(notification: SandboxNotification, *, timeout: float = 5.0) -> int | None:
    """POST the notification once (WeChat's freshly signed); return the HTTP status (None: no answer).

    Alipay counts a delivery only when the answer's body is `success`; anything else is
    reported as a failed delivery (status 0 when the answer was 2xx).
    """
    if notification.kind == SandboxNotification.Kind.ALIPAY:
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    else:
        headers = platform_headers(load_keys(), notification.body)
        headers["Content-Type"] = "application/json"
    try:
        response = requests.post(
            notification.notify_url,
            data=notification.body.encode("utf-8"),
            headers=headers,
            timeout=timeout,
        )
        status: int | None = response.status_code
        if (
            notification.kind == SandboxNotification.Kind.ALIPAY
            and 200 <= response.status_code < 300
            and response.text.strip() != "success"
        ):
            status = 0
    except requests.RequestException as exc:
        log.warning(
            "sandbox notification %s to %s failed: %s",
            notification.event_id,
            notification.notify_url,
            exc,
        )
        status = None
    delivered = status is not None and 200 <= status < 300
    SandboxNotification.objects.filter(pk=notification.pk).update(
        attempts=F("attempts") + 1,
        last_status=status,
        delivered_at=timezone.now() if delivered else None,
    )
    log.info(
        "sandbox notification %s -> %s: %s", notification.event_id, notification.notify_url, status
    )
    return status


def send_with_retries(notification_id: int, delays: tuple[float, ...] | None = None) -> int | None:
    """Deliver until the merchant answers 2xx or the schedule runs out; return the last status."""
    delays = tuple(
        delays
        if delays is not None
        else getattr(settings, "FANWEN_SANDBOX_NOTIFY_DELAYS", DEFAULT_DELAYS)
    )
    status = None
    for delay in delays:
        time.sleep(delay)
        notification = SandboxNotification.objects.get(pk=notification_id)
        status = deliver_notification(notification)
        if status is not None and 200 <= status < 300:
            break
    else:
        log.warning(
            "sandbox notification %s gave up after %d attempts", notification_id, len(delays)
        )
    return status


def send_in_background(notification: SandboxNotification) -> threading.Thread:
    def run() -> None:
        try:
            send_with_retries(notification.pk)
        except Exception:
            log.exception("sandbox notification %s crashed", notification.event_id)
        finally:
            # A thread's database connection is not closed by Django's request cycle.
            connection.close()
            with _threads_lock:
                _threads.discard(threading.current_thread())

    thread = threading.Thread(
        target=run, name=f"sandbox-notify-{notification.event_id[:8]}", daemon=True
    )
    with _threads_lock:
        _threads.add(thread)
    thread.start()
    return thread


def wait_for_deliveries(timeout: float = 10.0) -> bool:
    """Wait for the background senders (tests); True if none is left running."""
    deadline = time.monotonic() + timeout
    while True:
        with _threads_lock:
            running = list(_threads)
        if not running:
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        running[0].join(remaining)
