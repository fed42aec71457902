"""The account pages over HTTP: 我的购买, restore by number, sign-up, login and logout."""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from fanwen.accounts.models import Visitor
from fanwen.accounts.views import RESTORE_LIMIT
from fanwen.accounts.visitors import current_visitor, set_visitor_cookie
from fanwen.orders.models import Entitlement, Order, Plan
from fanwen.orders.tests.fixtures import make_order, settle

pytestmark = pytest.mark.django_db

COOKIE = settings.FANWEN_VISITOR_COOKIE
PURCHASES = "/account/purchases/"
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def fresh_counters():
    # Rate-limit counters live in the shared locmem cache.
    cache.clear()
    yield
    cache.clear()


def as_browser_of(client, visitor: Visitor):
    """Give the test client the signed cookie of `visitor`, as if it had visited before."""
    response = HttpResponse()
    set_visitor_cookie(response, visitor)
    client.cookies[COOKIE] = response.cookies[COOKIE].value
    return client


def restore(client, number: str, ip: str = "203.0.113.9"):
    return client.post(PURCHASES, {"number": number}, REMOTE_ADDR=ip)


def visitor_of(client) -> Visitor | None:
    """The visitor the client's cookie names, read as the site reads it."""
    request = RequestFactory().get("/")
    request.COOKIES[COOKIE] = client.cookies[COOKIE].value
    return current_visitor(request)


def test_restoring_by_order_number_adds_the_article_to_this_browser(
    client, xiaoming, xiaoming_laptop, article
):
    order = make_order(xiaoming, Plan.Code.ARTICLE_COPY, article)
    settle(order)
    as_browser_of(client, xiaoming_laptop)

    # Buyers type the number in lower case, with spaces from the bill.
    response = restore(
        client, " " + order.out_trade_no.lower()[:10] + " " + order.out_trade_no[10:]
    )

    assert response.status_code == 302 and response["Location"] == PURCHASES
    assert Entitlement.objects.access_for(xiaoming_laptop, None, article)["copy"] is True
    # The browser it was bought in keeps it.
    assert Entitlement.objects.access_for(xiaoming, None, article)["copy"] is True
    page = client.get(PURCHASES)
    assert f"已恢复到本浏览器：《{article.title}》" in page.text
    assert "此订单现可在 2 个浏览器使用" in page.text
    assert order.out_trade_no in page.text


def _right_in(visitor, article):
    from fanwen.protection.access import reader_right

    request = RequestFactory().get("/")
    response = HttpResponse()
    set_visitor_cookie(response, visitor)
    request.COOKIES[COOKIE] = response.cookies[COOKIE].value
    request.user = AnonymousUser()
    return reader_right(request, article).allowed


def test_a_fourth_browser_drops_the_oldest_which_is_told_and_loses_its_remembered_right(
    client, xiaoming, article, django_capture_on_commit_callbacks
):
    order = make_order(xiaoming, Plan.Code.ARTICLE_COPY, article)
    settle(order)
    # Remembered as a right for the first browser, as a page view would.
    assert _right_in(xiaoming, article) is True
    browsers = [Visitor.objects.create() for _ in range(3)]
    for i, browser in enumerate(browsers):
        client.cookies.clear()
        as_browser_of(client, browser)
        assert "最多同时在 3 个浏览器使用" in client.get(PURCHASES).text
        with django_capture_on_commit_callbacks(execute=True):
            restored = restore(client, order.out_trade_no, ip=f"203.0.113.{i + 1}")
        assert restored.status_code == 302
    assert "最早恢复的浏览器已不再可用" in client.get(PURCHASES).text
    assert [_right_in(v, article) for v in [xiaoming, *browsers]] == [False, True, True, True]
    client.cookies.clear()
    as_browser_of(client, xiaoming)
    page = client.get(PURCHASES).text
    assert order.out_trade_no in page and "本浏览器不再可用" in page


def test_restoring_while_logged_in_brings_the_right_to_every_browser_of_the_account(
    client, xiaoming, alice, article
):
    order = make_order(xiaoming, Plan.Code.ARTICLE_COPY, article)
    settle(order)
    client.force_login(alice)
    restore(client, order.out_trade_no)
    assert "已同时存入您的账户" in client.get(PURCHASES).text
    elsewhere = Client()
    elsewhere.force_login(alice)
    assert order.out_trade_no in elsewhere.get(PURCHASES).text
    assert Entitlement.objects.access_for(None, alice, article)["copy"] is True


def test_restoring_by_the_wechat_transaction_number_works_too(
    client, xiaoming, xiaoming_laptop, pass_plan
):
    order = make_order(xiaoming, Plan.Code.PASS_30D)
    settle(order)
    order.refresh_from_db()
    as_browser_of(client, xiaoming_laptop)

    response = restore(client, order.provider_txn_id)

    assert response.status_code == 302
    ends = Entitlement.objects.get(order=order).ends_at
    assert Entitlement.objects.pass_until(xiaoming_laptop, None) == ends
    page = client.get(PURCHASES)
    assert f"包月（至 {ends.astimezone(SHANGHAI):%Y-%m-%d %H:%M}）" in page.text


def test_a_browser_without_a_cookie_gets_a_visitor_when_it_restores(client, xiaoming, article):
    order = make_order(xiaoming, Plan.Code.ARTICLE_COPY, article)
    settle(order)

    response = restore(client, order.out_trade_no)

    assert response.status_code == 302
    new_visitor = visitor_of(client)
    assert new_visitor != xiaoming
    assert Entitlement.objects.get(order=order).held_in(new_visitor)


def test_an_unknown_number_gets_a_clear_chinese_message(client, xiaoming):
    as_browser_of(client, xiaoming)
    response = restore(client, "20260101NOSUCHORDER2345678")
    assert response.status_code == 404
    assert "找不到这个订单号或交易单号，请核对后再试。" in response.text


def test_an_unpaid_order_is_not_restored(client, xiaoming, xiaoming_laptop, article):
    order = make_order(xiaoming, Plan.Code.ARTICLE_COPY, article)
    as_browser_of(client, xiaoming_laptop)
    response = restore(client, order.out_trade_no)
    assert response.status_code == 409
    assert "这笔订单尚未支付成功" in response.text


def test_the_sixth_attempt_from_one_browser_within_ten_minutes_is_refused_with_429(
    client, xiaoming, xiaoming_laptop, article
):
    order = make_order(xiaoming, Plan.Code.ARTICLE_COPY, article)
    settle(order)
    as_browser_of(client, xiaoming_laptop)
    # Each attempt from another IP: the visitor's own budget is what stops it.
    for n in range(RESTORE_LIMIT):
        assert restore(client, f"WRONG{n}", ip=f"198.51.100.{n}").status_code == 404

    response = restore(client, order.out_trade_no, ip="198.51.100.99")

    assert response.status_code == 429
    assert "尝试次数过多" in response.text and "10 分钟" in response.text
    # Refused means refused, even with the right number.
    assert Entitlement.objects.get(order=order).visitor == xiaoming


def test_one_ip_is_limited_even_when_it_drops_its_cookie_each_time(client, xiaoming, article):
    order = make_order(xiaoming, Plan.Code.ARTICLE_COPY, article)
    settle(order)
    for n in range(RESTORE_LIMIT):
        client.cookies.clear()
        assert restore(client, f"WRONG{n}").status_code == 404
    client.cookies.clear()
    assert restore(client, order.out_trade_no).status_code == 429
    assert Entitlement.objects.get(order=order).visitor == xiaoming


def test_the_window_ends_and_restoring_works_again(client, xiaoming, article):
    order = make_order(xiaoming, Plan.Code.ARTICLE_COPY, article)
    settle(order)
    for n in range(RESTORE_LIMIT + 1):
        restore(client, f"WRONG{n}")
    cache.clear()  # what ten minutes do to the counters
    assert restore(client, order.out_trade_no).status_code == 302


def test_every_restore_attempt_is_logged(client, xiaoming, xiaoming_laptop, article, caplog):
    caplog.set_level(logging.INFO, logger="fanwen.accounts")
    order = make_order(xiaoming, Plan.Code.ARTICLE_COPY, article)
    settle(order)
    as_browser_of(client, xiaoming_laptop)
    restore(client, "NOPE")
    restore(client, order.out_trade_no)
    lines = [r.getMessage() for r in caplog.records if r.name == "fanwen.accounts"]
    assert len(lines) == 2
    assert "203.0.113.9" in lines[0] and "'NOPE'" in lines[0] and "unknown number" in lines[0]
    assert str(xiaoming_laptop.pk) in lines[1] and "restored 1 entitlement(s)" in lines[1]
    # The full number would open the purchase: the log keeps its date and last four symbols.
    assert order.out_trade_no not in lines[1]
    assert f"{order.out_trade_no[:8]}…{order.out_trade_no[-4:]}" in lines[1]


def test_an_order_left_unpaid_past_its_expiry_is_not_listed(client, xiaoming, article, pass_plan):
    waiting = make_order(xiaoming, Plan.Code.PASS_30D)
    abandoned = make_order(xiaoming, Plan.Code.ARTICLE_COPY, article)
    # Not closed yet (the worker's expire job does that later), but past its expiry.
    Order.objects.filter(pk=abandoned.pk).update(
        expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    )
    as_browser_of(client, xiaoming)

    text = client.get(PURCHASES).text

    assert waiting.out_trade_no in text and "待支付" in text
    assert abandoned.out_trade_no not in text


def test_the_purchases_page_lists_the_orders_in_yuan_and_beijing_time(
    client, xiaoming, article, pass_plan
):
    copy = make_order(xiaoming, Plan.Code.ARTICLE_COPY, article)
    paid_at = dt.datetime(2026, 3, 1, 16, 30, tzinfo=dt.UTC)  # 2026-03-02 00:30 in Beijing
    settle(copy, paid_at=paid_at)
    pending = make_order(xiaoming, Plan.Code.PASS_30D)
    as_browser_of(client, xiaoming)

    page = client.get(PURCHASES)

    assert page.status_code == 200
    text = page.text
    assert copy.out_trade_no in text and pending.out_trade_no in text
    assert "5.99元" in text and "9.99元" in text
    assert "已支付" in text and "待支付" in text
    assert "2026-03-02 00:30" in text
    assert f'href="{article.get_absolute_url()}"' in text
    assert "no-cache" in page["Cache-Control"] or "max-age=0" in page["Cache-Control"]


def test_the_purchases_page_shows_nothing_of_other_browsers(client, xiaoming, stranger, article):
    order = make_order(xiaoming, Plan.Code.ARTICLE_COPY, article)
    settle(order)
    as_browser_of(client, stranger)
    page = client.get(PURCHASES)
    assert order.out_trade_no not in page.text
    assert "还没有购买记录" in page.text


def test_logging_in_on_the_page_merges_this_browsers_purchases(client, xiaoming, alice, article):
    settle(make_order(xiaoming, Plan.Code.ARTICLE_COPY, article))
    as_browser_of(client, xiaoming)

    response = client.post(
        "/account/login/", {"username": "alice", "password": "correct horse battery"}
    )
    assert response.status_code == 302 and response["Location"] == PURCHASES
    assert Visitor.objects.get(pk=xiaoming.pk).user == alice
    assert Entitlement.objects.get().user == alice
    # Another browser, logged in as alice, now sees the order too.
    client.cookies.pop(COOKIE)
    assert "窗口单位创建文明城市工作总结" in client.get(PURCHASES).text


def test_the_login_page_carries_the_site_name_not_the_host(client):
    page = client.get("/account/login/")
    assert page.status_code == 200
    assert f"<title>登录 - {settings.SITE_NAME}</title>" in page.text
    assert f"{settings.SITE_NAME}</a>" in page.text and "testserver</a>" not in page.text


def test_a_wrong_password_is_refused_in_chinese(client, alice):
    response = client.post("/account/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "邮箱/手机号或密码不正确。" in response.text
    assert "_auth_user_id" not in client.session


def test_signing_up_with_a_phone_number_keeps_this_browsers_purchases(client, xiaoming, article):
    settle(make_order(xiaoming, Plan.Code.ARTICLE_COPY, article))
    as_browser_of(client, xiaoming)

    response = client.post(
        "/account/signup/",
        {
            "username": "+86 138-0013-8000",
            "password1": "qingshan-2026!",
            "password2": "qingshan-2026!",
        },
    )

    assert response.status_code == 302
    user = get_user_model().objects.get(username="13800138000")
    assert Visitor.objects.get(pk=xiaoming.pk).user == user
    assert Entitlement.objects.get().user == user
    # And the phone logs in again however it is typed.
    client.post(reverse("accounts:logout"))
    assert (
        client.post(
            "/account/login/", {"username": "138 0013 8000", "password": "qingshan-2026!"}
        ).status_code
        == 302
    )


def test_signing_up_with_an_email_stores_it_lower_case_and_refuses_it_twice(client):
    data = {
        "username": "Li.Lei@Example.com",
        "password1": "qingshan-2026!",
        "password2": "qingshan-2026!",
    }
    assert client.post("/account/signup/", data).status_code == 302
    user = get_user_model().objects.get()
    assert user.username == user.email == "li.lei@example.com"
    client.post(reverse("accounts:logout"))
    again = client.post("/account/signup/", data)
    assert again.status_code == 400
    assert "这个邮箱或手机号已经注册" in again.text


def test_signing_up_with_something_neither_email_nor_phone_is_refused(client):
    response = client.post(
        "/account/signup/",
        {"username": "lilei", "password1": "qingshan-2026!", "password2": "qingshan-2026!"},
    )
    assert response.status_code == 400
    assert "请输入有效的邮箱或 11 位手机号。" in response.text
    assert not get_user_model().objects.exists()


def test_logging_in_on_a_browser_of_another_account_gives_the_browser_a_fresh_visitor(
    client, xiaoming, alice, kefu, article
):
    settle(make_order(xiaoming, Plan.Code.ARTICLE_COPY, article))
    xiaoming.user = alice
    xiaoming.save()
    as_browser_of(client, xiaoming)

    response = client.post("/account/login/", {"username": "kefu", "password": "staff password 1"})

    assert response.status_code == 302
    fresh = visitor_of(client)
    assert fresh != xiaoming and fresh.user == kefu
    assert not Entitlement.objects.filter(user=kefu).exists()


def test_logging_out_takes_a_post_and_ends_the_session(client, alice):
    client.force_login(alice)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_every_page_links_to_my_purchases_the_same_way(client, article):
    page = client.get(article.get_absolute_url())
    assert page.status_code == 200
    assert 'href="/account/purchases/"' in page.text
