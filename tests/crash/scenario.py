"""Steps of the crash test that run inside Django, each in its own process: `python scenario.py STEP`.

The environment (FANWEN_VAR_DIR, DATABASE_URL, FANWEN_SANDBOX_ORIGIN...) names the scratch
site the test started; every step prints one JSON line for the test to read.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanwen.settings")
    import django

    django.setup()


def migrate() -> dict:
    from django.core.management import call_command

    from fanwen.sandbox.keys import load_keys

    call_command("migrate", verbosity=0, interactive=False)
    keys = load_keys()
    return {"mchid": keys.mchid}


def pay(count: int) -> dict:
    """Buyers order; the sandbox creates each transaction (over HTTP) and marks it paid."""
    from django.utils import timezone

    from fanwen.accounts.models import Visitor
    from fanwen.library.models import Article, Category
    from fanwen.orders.actions import do_create_order
    from fanwen.orders.models import Order, Plan
    from fanwen.payments.backends import backends
    from fanwen.sandbox.actions import do_confirm_sandbox_payment
    from fanwen.sandbox.models import SandboxTransaction

    backend = backends["sandbox"]
    category = Category.objects.create(name="崩溃测试", slug="crash-test")
    article = Article.objects.create(
        category=category,
        title="崩溃恢复测试范文",
        status=Article.Status.PUBLISHED,
        published_at=timezone.now() - dt.timedelta(days=1),
    )
    for n in range(count):
        is_pass = n % 3 == 2
        order = do_create_order(
            visitor=Visitor.objects.create(),
            plan_code=Plan.Code.PASS_30D if is_pass else Plan.Code.ARTICLE_COPY,
            article=None if is_pass else article,
            provider=Order.Provider.SANDBOX,
            channel=Order.Channel.NATIVE,
            mchid=backend.mchid,
            appid=backend.appid,
        )
        backend.create(order, "native", "127.0.0.1")
    # FANWEN_SANDBOX_AUTO_NOTIFY is off: the notifications are queued, `deliver` sends them.
    for txn in SandboxTransaction.objects.all():
        do_confirm_sandbox_payment(txn)
    paid = SandboxTransaction.objects.filter(trade_state=SandboxTransaction.State.SUCCESS)
    return {"orders": Order.objects.count(), "sandbox_paid": paid.count()}


def deliver(threads: int) -> dict:
    """Send every queued notification once, a few at a time; failures are left to reconcile."""
    from django.db import connection

    from fanwen.sandbox.models import SandboxNotification
    from fanwen.sandbox.notify import deliver_notification

    notifications = list(SandboxNotification.objects.order_by("pk"))

    def send(notification: SandboxNotification) -> int | None:
        try:
            return deliver_notification(notification, timeout=3)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        statuses = list(pool.map(send, notifications))
    return {
        "sent": len(statuses),
        "ok": sum(1 for s in statuses if s == 204),
        "failed": sum(1 for s in statuses if s != 204),
    }


def check() -> dict:
    from django.db.models import Count, Q

    from fanwen.orders.models import Entitlement, Order, PaymentEvent
    from fanwen.sandbox.models import SandboxTransaction

    txn_ids = dict(SandboxTransaction.objects.values_list("out_trade_no", "transaction_id"))
    orders = Order.objects.annotate(
        grants=Count("entitlements", distinct=True),
        settles=Count("events", filter=Q(events__outcome="settled"), distinct=True),
    )
    rows = list(orders.values("out_trade_no", "status", "provider_txn_id", "grants", "settles"))
    return {
        "orders": len(rows),
        "paid": sum(1 for r in rows if r["status"] == Order.Status.PAID),
        "paid_once": sum(
            1
            for r in rows
            if r["status"] == Order.Status.PAID
            and r["grants"] == 1
            and r["settles"] == 1
            and r["provider_txn_id"] == txn_ids.get(r["out_trade_no"])
        ),
        "entitlements": Entitlement.objects.count(),
        "settled_by": {
            row["kind"]: row["n"]
            for row in PaymentEvent.objects.filter(outcome="settled")
            .order_by()
            .values("kind")
            .annotate(n=Count("id"))
        },
    }


def main() -> None:
    setup()
    step, *args = sys.argv[1:]
    steps = {
        "migrate": lambda: migrate(),
        "pay": lambda: pay(int(args[0])),
        "deliver": lambda: deliver(int(args[0])),
        "check": lambda: check(),
    }
    print(json.dumps(steps[step]()))


if __name__ == "__main__":
    main()
