"""Shared test data for orders and accounts: named buyers, a small category tree, and helpers."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from fanwen.accounts.models import Visitor
from fanwen.library.models import Article, Category
from fanwen.orders.actions import SettleResult, do_create_order, do_settle_order
from fanwen.orders.models import Order, Plan

_seq = itertools.count(1)

# What the sandbox backend will put in its settings; tests pass it as the caller would.
MCHID = "1900000109"
APPID = "wxd678efh567hg6787"


def make_article(category: Category, title: str | None = None, **fields: Any) -> Article:
    n = next(_seq)
    return Article.objects.create(
        category=category,
        title=title or f"订单测试范文{n}",
        status=fields.pop("status", Article.Status.PUBLISHED),
        published_at=fields.pop("published_at", timezone.now() - dt.timedelta(days=1)),
        **fields,
    )


def make_order(
    visitor: Visitor,
    plan_code: str = Plan.Code.ARTICLE_COPY,
    article: Article | None = None,
    **kwargs: Any,
) -> Order:
    kwargs.setdefault("provider", Order.Provider.SANDBOX)
    kwargs.setdefault("channel", Order.Channel.NATIVE)
    return do_create_order(visitor=visitor, plan_code=plan_code, article=article, **kwargs)


def settle(order: Order, **overrides: Any) -> SettleResult:
    """Settle `order` as a correct provider report would, changing only what a test names."""
    report: dict[str, Any] = {
        "provider": order.provider,
        "txn_id": f"4200000{order.pk:010d}",
        "amount_fen": order.amount_fen,
        "currency": "CNY",
        "mchid": MCHID,
        "appid": APPID,
        "paid_at": timezone.now(),
        "payer_ref": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
        "event_id": None,
        "source": "notify",
        "expected_mchid": MCHID,
        "expected_appid": APPID,
    }
    report.update(overrides)
    return do_settle_order(order.out_trade_no, **report)


@pytest.fixture
def plans(db) -> dict[str, Plan]:
    # The data migration made them; a transactional test elsewhere may have flushed the table.
    defaults = {
        Plan.Code.ARTICLE_COPY: {
            "name": "单篇复制/下载",
            "price_fen": 599,
            "list_price_fen": 1000,
            "days": None,
        },
        Plan.Code.PASS_30D: {
            "name": "包月30天不限量",
            "price_fen": 999,
            "list_price_fen": 3000,
            "days": 30,
        },
    }
    return {
        code: Plan.objects.get_or_create(code=code, defaults=values)[0]
        for code, values in defaults.items()
    }


@pytest.fixture
def copy_plan(plans) -> Plan:
    return plans[Plan.Code.ARTICLE_COPY]


@pytest.fixture
def pass_plan(plans) -> Plan:
    return plans[Plan.Code.PASS_30D]


@pytest.fixture
def essays(db) -> Category:
    return Category.objects.create(name="作文", slug="t-zuowen", position=1)


@pytest.fixture
def primary_school(essays) -> Category:
    return Category.objects.create(name="小学作文", slug="t-xiaoxue", parent=essays)


@pytest.fixture
def grade_three(primary_school) -> Category:
    return Category.objects.create(name="三年级作文", slug="t-sannianji", parent=primary_school)


@pytest.fixture
def summaries(db) -> Category:
    return Category.objects.create(name="工作总结", slug="t-zongjie", position=2)


@pytest.fixture
def article(summaries, plans) -> Article:
    return make_article(summaries, "窗口单位创建文明城市工作总结")


@pytest.fixture
def other_article(summaries, plans) -> Article:
    return make_article(summaries, "社区志愿服务活动心得体会")


@pytest.fixture
def xiaoming(db) -> Visitor:
    """A reader on his phone, no account."""
    return Visitor.objects.create()


@pytest.fixture
def xiaoming_laptop(db) -> Visitor:
    """The same reader later, on another browser (or after clearing cookies)."""
    return Visitor.objects.create()


@pytest.fixture
def stranger(db) -> Visitor:
    return Visitor.objects.create()


@pytest.fixture
def alice(db):
    """A buyer with an account."""
    return get_user_model().objects.create_user(
        "alice", "alice@example.com", "correct horse battery"
    )


@pytest.fixture
def kefu(db):
    """Support staff (客服)."""
    return get_user_model().objects.create_user(
        "kefu", "kefu@example.com", "staff password 1", is_staff=True
    )


@pytest.fixture
def pending_copy(xiaoming, article) -> Order:
    return make_order(xiaoming, Plan.Code.ARTICLE_COPY, article, mchid=MCHID, appid=APPID)
