"""`fanwen backup` then `fanwen restore` into a new, empty database of the same engine: every
article, order and entitlement comes back field by field, the files too; a database that
already holds data is refused."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection

from fanwen.accounts.models import Visitor
from fanwen.library.models import Article, Category, Piece
from fanwen.library.tests.factories import make_article, make_category
from fanwen.orders.actions import do_complete_refund, do_grant, do_refund
from fanwen.orders.models import Entitlement, Order, PaymentEvent, Plan
from fanwen.orders.tests.fixtures import make_order, settle
from fanwen.support.models import Ticket, TicketReply

ROOT = Path(__file__).resolve().parents[4]
COMPARED = {
    "articles": Article,
    "pieces": Piece,
    "categories": Category,
    "orders": Order,
    "entitlements": Entitlement,
    "payment_events": PaymentEvent,
    "plans": Plan,
    "tickets": Ticket,
    "replies": TicketReply,
}

# Run in the restored site: every row of the compared models, every concrete field.
SNAPSHOT = """
import json, sys
import django
django.setup()
from fanwen.ops.tests.test_backup import snapshot
print(json.dumps(snapshot()))
"""


def snapshot() -> dict[str, list[dict]]:
    def value(field, obj):
        raw = getattr(obj, field.attname)
        return raw.isoformat() if hasattr(raw, "isoformat") else raw

    rows = {
        name: [
            {f.attname: value(f, obj) for f in model._meta.concrete_fields}
            for obj in model.objects.order_by("pk")
        ]
        for name, model in COMPARED.items()
    }
    # As the other process hands it over: uuids as text, JSON fields as JSON.
    return json.loads(json.dumps(rows, default=str))


@pytest.fixture
def library_with_sales(db, settings, tmp_path):
    """Articles, plans, paid / refunded / pending orders, a pass, a staff grant, tickets, files."""
    for code, name, price, days in [
        (Plan.Code.ARTICLE_COPY, "单篇复制/下载", 599, None),
        (Plan.Code.PASS_30D, "包月30天不限量", 999, 30),
    ]:
        Plan.objects.update_or_create(
            code=code,
            defaults={"name": name, "price_fen": price, "list_price_fen": 1000, "days": days},
        )
    summaries = make_category("工作总结", "zongjie", position=1)
    year_end = make_category("年终总结", "nianzhong", parent=summaries)
    articles = [make_article(year_end, pieces=3) for _ in range(3)]
    articles.append(make_article(summaries, title="草稿范文", status=Article.Status.DRAFT))
    staff = get_user_model().objects.create_user("kefu", "kefu@example.com", "pw-1", is_staff=True)
    alice = get_user_model().objects.create_user("alice", "alice@example.com", "pw-2")
    buyer, pass_buyer = Visitor.objects.create(), Visitor.objects.create(user=alice)

    paid = make_order(buyer, article=articles[0])
    settle(paid)
    refunded = make_order(buyer, article=articles[1])
    settle(refunded)
    refunded.refresh_from_db()
    do_refund(refunded, reason="买错了", staff=staff)
    refunded.refresh_from_db()
    do_complete_refund(refunded.out_refund_no, "SUCCESS", event_id="refund-evt-1")
    a_pass = make_order(pass_buyer, plan_code=Plan.Code.PASS_30D, user=alice)
    settle(a_pass, provider=a_pass.provider)
    make_order(buyer, article=articles[2])  # still pending
    do_grant(staff=staff, visitor=buyer, kind="article", article=articles[2], note="客服补发")

    ticket = Ticket.objects.create(
        visitor=buyer,
        kind=Ticket.Kind.REFUND,
        order_number=refunded.out_trade_no,
        contact="微信 xm2024",
        message="付了两次，请退一笔",
    )
    TicketReply.objects.create(ticket=ticket, staff=staff, body="已退款，请查收。")

    # The stored files: an upload, a built font, the sandbox's keys, the development key.
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FANWEN_FONT_DIR = str(tmp_path / "fonts")
    settings.FANWEN_SANDBOX_DIR = str(tmp_path / "sandbox")
    settings.VAR_DIR = tmp_path / "var"
    files = {
        "media/uploads/batch-1/总结.docx": b"PK\x03\x04 docx bytes",
        "fonts/2970/abc.woff2": b"wOF2 font bytes",
        "sandbox/merchant_private_key.pem": b"-----BEGIN PRIVATE KEY-----",
        "sandbox-alipay/app_private_key.pem": b"-----BEGIN RSA PRIVATE KEY-----",
        "var/secret_key": b"dev-secret-key-of-the-source-site",
    }
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    assert Order.objects.filter(status=Order.Status.REFUNDED).count() == 1
    assert Entitlement.objects.filter(revoked_at__isnull=False).count() == 1
    return files


@pytest.fixture
def empty_database(tmp_path):
    """DATABASE_URL of a new, empty database of the engine these tests run on."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    params = connection.settings_dict
    name = f"fanwen_restore_{secrets.token_hex(4)}"
    host, user, port = params["HOST"] or "127.0.0.1", params["USER"], str(params["PORT"] or 5432)
    auth = f"{user}:{params['PASSWORD']}@" if params["PASSWORD"] else f"{user}@"
    pg_env = {**os.environ, "PGPASSWORD": params["PASSWORD"] or ""}
    subprocess.run(["createdb", "-h", host, "-p", port, "-U", user, name], env=pg_env, check=True)
    try:
        yield f"postgres://{auth}{host}:{port}/{name}"
    finally:
        subprocess.run(
            ["dropdb", "--force", "-h", host, "-p", port, "-U", user, name], env=pg_env, check=True
        )


def site_env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env.update(
        PYTHONPATH=str(ROOT / "src"),
        DATABASE_URL=database_url,
        FANWEN_VAR_DIR=str(tmp_path / "restored-var"),
        FANWEN_SANDBOX="1",
        FANWEN_PROTECTION="js",
    )
    env.pop("FANWEN_FONT_DIR", None)
    env.pop("FANWEN_SANDBOX_DIR", None)
    return env


def fanwen(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fanwen", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_backup_restores_into_an_empty_database_field_by_field(
    library_with_sales, empty_database, tmp_path
):
    archive = tmp_path / "site.tar.gz"
    call_command("backup", str(archive), stdout=open(os.devnull, "w"))
    before = snapshot()

    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
    assert names[:2] == ["manifest.json", "data.jsonl"]
    assert manifest["counts"]["library.article"] == 4
    assert manifest["counts"]["orders.order"] == 4
    assert manifest["counts"]["orders.entitlement"] == 4  # paid, refunded, pass, grant
    assert "contenttypes.contenttype" not in manifest["counts"]
    assert "sessions.session" not in manifest["counts"]
    assert manifest["version"] and manifest["created_at"]

    env = site_env(tmp_path, empty_database)
    restored = fanwen(env, "restore", str(archive))

    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "every count matches the backup" in restored.stdout
    assert "search_reindex: 3 articles" in restored.stdout  # the published ones
    read = subprocess.run(
        [sys.executable, "-c", SNAPSHOT],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "fanwen.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert read.returncode == 0, read.stderr
    after = json.loads(read.stdout)
    for name in COMPARED:
        assert after[name] == before[name], name
    assert len(after["orders"]) == 4 and len(after["payment_events"]) >= 5
    assert {o["status"] for o in after["orders"]} == {"paid", "refunded", "pending"}

    var = tmp_path / "restored-var"
    for name, data in library_with_sales.items():
        target = {
            "media": var / "media",
            "fonts": var / "fonts",
            "sandbox": var / "sandbox",
            "sandbox-alipay": var / "sandbox-alipay",
            "var": var,
        }[name.split("/", 1)[0]] / name.split("/", 1)[1]
        assert target.read_bytes() == data, name

    # Restored once, the database holds data: a second restore is refused, --force replaces it.
    again = fanwen(env, "restore", str(archive))
    assert again.returncode != 0
    assert "数据库不是空的" in again.stderr and "--force" in again.stderr
    forced = fanwen(env, "restore", "--force", "--no-reindex", str(archive))
    assert forced.returncode == 0, forced.stderr
    assert "every count matches the backup" in forced.stdout


def test_a_file_that_is_not_a_backup_is_refused(tmp_path, db):
    bogus = tmp_path / "bogus.tar.gz"
    with tarfile.open(bogus, "w:gz") as tar:
        (tmp_path / "x.txt").write_text("x")
        tar.add(tmp_path / "x.txt", arcname="x.txt")
    env = site_env(tmp_path, f"sqlite:///{tmp_path / 'other.sqlite3'}")
    result = fanwen(env, "restore", str(bogus))
    assert result.returncode != 0
    assert "not an archive of `fanwen backup`" in result.stderr
