"""The daily trade bill: the emulator's bill, the backend's download and check, compare_bill."""

from __future__ import annotations

import datetime as dt
import gzip
import logging

import pytest
from django.utils import timezone

from fanwen.orders.models import Entitlement, Order, PaymentEvent
from fanwen.payments.backends.wechat import BEIJING, yuan_to_fen
from fanwen.payments.errors import GatewayError
from fanwen.payments.settlement import settle_from_query
from fanwen.payments.tests.fixtures import LIVE_DB
from fanwen.payments.tests.test_jobs import opened, pay_at_wechat, run
from fanwen.sandbox.models import SandboxTransaction

pytestmark = LIVE_DB


def bill_day(order: Order) -> dt.date:
    txn = SandboxTransaction.objects.get(out_trade_no=order.out_trade_no)
    return txn.success_time.astimezone(BEIJING).date()


def as_yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def test_the_emulators_bill_lists_exactly_the_days_paid_transactions_in_yuan(
    live_backend, xiaoming, article, sandbox_keys
):
    paid = [opened(live_backend, xiaoming, article, sandbox_keys) for _ in range(2)]
    unpaid = opened(live_backend, xiaoming, article, sandbox_keys)
    paid_yesterday = opened(live_backend, xiaoming, article, sandbox_keys)
    for order in [*paid, paid_yesterday]:
        pay_at_wechat(order)
    SandboxTransaction.objects.filter(out_trade_no=paid_yesterday.out_trade_no).update(
        success_time=timezone.now() - dt.timedelta(days=1)
    )
    day = bill_day(paid[0])

    rows = live_backend.trade_bill(day)

    assert sorted(row["out_trade_no"] for row in rows) == sorted(o.out_trade_no for o in paid)
    assert unpaid.out_trade_no not in {row["out_trade_no"] for row in rows}
    for row in rows:
        txn = SandboxTransaction.objects.get(out_trade_no=row["out_trade_no"])
        assert row["state"] == "SUCCESS"
        assert row["txn_id"] == txn.transaction_id
        assert row["amount_fen"] == txn.amount_total
        assert row["paid_at"] == txn.success_time.replace(microsecond=0)
    # The file itself: gzip, WeChat's header, backtick-prefixed values, yuan amounts.
    status, answer = live_backend._call(
        "trade_bill", live_backend.client.trade_bill, bill_date=day.isoformat()
    )
    status, content = live_backend.client.download_bill(answer["download_url"])
    text = gzip.decompress(content).decode("utf-8")
    lines = text.splitlines()
    assert lines[0].startswith("交易时间,公众账号ID,商户号")
    assert lines[3].startswith("总交易单数,")
    assert lines[4].startswith("`2,")
    assert f",`{as_yuan(paid[0].amount_fen)}," in lines[1]
    assert f"`{paid[0].out_trade_no}" in text


def test_a_bill_whose_hash_does_not_match_is_refused(
    live_backend, xiaoming, article, sandbox_keys, monkeypatch
):
    order = opened(live_backend, xiaoming, article, sandbox_keys)
    pay_at_wechat(order)
    client = live_backend.client
    download = client.download_bill

    def tampered(url: str):
        status, content = download(url)
        bill = gzip.decompress(content).replace(
            f"`{as_yuan(order.amount_fen)},".encode(), b"`0.01,"
        )
        return status, gzip.compress(bill)

    monkeypatch.setattr(client, "download_bill", tampered)

    with pytest.raises(GatewayError, match="SHA1"):
        live_backend.trade_bill(bill_day(order))


def test_a_day_without_payments_has_an_empty_bill(live_backend, sandbox_keys):
    assert live_backend.trade_bill(timezone.now().astimezone(BEIJING).date()) == []


def test_bill_amounts_in_yuan_become_exact_fen():
    assert [yuan_to_fen(v) for v in ("5.99", "0.1", "30", "0.01")] == [599, 10, 3000, 1]
    with pytest.raises(GatewayError):
        yuan_to_fen("1.005")
    with pytest.raises(GatewayError):
        yuan_to_fen("abc")


def test_compare_bill_settles_a_payment_whose_notification_never_arrived(
    live_backend, xiaoming, article, sandbox_keys
):
    order = opened(live_backend, xiaoming, article, sandbox_keys)
    pay_at_wechat(order)
    day = bill_day(order).isoformat()

    first = run("compare_bill", "--date", day)
    second = run("compare_bill", "--date", day)

    assert f"compare_bill {day}: settled 1, matched 0, mismatched 0, missing 0" in first
    assert "settled 0, matched 1, mismatched 0, missing 0" in second
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.provider_txn_id == (
        SandboxTransaction.objects.get(out_trade_no=order.out_trade_no).transaction_id
    )
    assert Entitlement.objects.filter(order=order).count() == 1
    assert PaymentEvent.objects.get(order=order, outcome="settled").kind == "reconcile"


def test_compare_bill_counts_matches_and_reports_mismatched_and_missing_orders(
    live_backend, xiaoming, article, sandbox_keys, caplog
):
    caplog.set_level(logging.ERROR, logger="fanwen.payments.jobs")
    matching = opened(live_backend, xiaoming, article, sandbox_keys)
    pay_at_wechat(matching)
    settle_from_query(live_backend, matching.out_trade_no)
    mismatched = opened(live_backend, xiaoming, article, sandbox_keys)
    pay_at_wechat(mismatched)
    settle_from_query(live_backend, mismatched.out_trade_no)
    Order.objects.filter(pk=mismatched.pk).update(provider_txn_id="4200099000000000000000000001")
    # Paid here, but WeChat never saw the money.
    missing = opened(live_backend, xiaoming, article, sandbox_keys)
    Order.objects.filter(pk=missing.pk).update(
        status=Order.Status.PAID,
        provider_txn_id="4200099000000000000000000002",
        paid_at=timezone.now(),
    )

    output = run("compare_bill", "--date", bill_day(matching).isoformat())

    assert "settled 0, matched 1, mismatched 1, missing 1" in output
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any(missing.out_trade_no in m and "not on WeChat's bill" in m for m in messages)
    assert any(mismatched.out_trade_no in m and "the bill says" in m for m in messages)
    assert Entitlement.objects.filter(order=matching).count() == 1


def test_compare_bill_reports_a_paid_order_when_wechat_has_no_bill_that_day(
    live_backend, xiaoming, article, sandbox_keys
):
    order = opened(live_backend, xiaoming, article, sandbox_keys)
    now = timezone.now()
    Order.objects.filter(pk=order.pk).update(
        status=Order.Status.PAID, provider_txn_id="4200099000000000000000000003", paid_at=now
    )

    output = run("compare_bill", "--date", now.astimezone(BEIJING).date().isoformat())

    assert "settled 0, matched 0, mismatched 0, missing 1" in output
