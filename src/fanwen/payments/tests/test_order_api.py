"""The buyer's HTTP contract: create an order, poll it, 已付款请点这里, and what the reader may do."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.test import Client

from fanwen.orders.models import Entitlement, Order, PaymentEvent
from fanwen.payments.tests.fixtures import LIVE_DB
from fanwen.sandbox.actions import do_confirm_sandbox_payment
from fanwen.sandbox.models import SandboxTransaction

CSRF = "fanwenTestCsrfSecret0123456789ab"  # 32 letters/digits: a valid unmasked secret
WECHAT_UA = "Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 MicroMessenger/8.0.50"


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate-limit counters live in the cache, which outlives a test.
    cache.clear()


def browser(**headers: str) -> Client:
    """A client that enforces CSRF, as browsers are checked; it sends the token like the page's JS."""
    client = Client(enforce_csrf_checks=True, **headers)
    client.cookies["csrftoken"] = CSRF
    return client


def as_visitor(client: Client, visitor) -> Client:
    """The browser of `visitor`: its signed cookie, as accounts sets it."""
    from django.conf import settings
    from django.core.signing import get_cookie_signer

    from fanwen.accounts.visitors import COOKIE_SALT

    name = settings.FANWEN_VISITOR_COOKIE
    client.cookies[name] = get_cookie_signer(salt=name + COOKIE_SALT).sign(str(visitor.pk))
    return client


def post(client: Client, path: str, data: dict | None = None, **extra: str):
    return client.post(
        path,
        data=json.dumps(data or {}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=CSRF,
        **extra,
    )


def create(client: Client, **data) -> dict:
    response = post(client, "/pay/orders/", data)
    assert response.status_code == 201, response.content
    return response.json()


# --- creating ---------------------------------------------------------------------------------


@LIVE_DB
def test_a_new_reader_gets_a_cookie_and_a_qr_code_priced_by_the_server(
    live_backend, article, copy_plan
):
    client = browser()

    response = post(
        client,
        "/pay/orders/",
        {"plan": "article_copy", "article_id": article.pk, "channel": "native", "amount_fen": 1},
    )

    assert response.status_code == 201
    body = response.json()
    assert body["amount_fen"] == copy_plan.price_fen != 1
    assert body["list_price_fen"] == copy_plan.list_price_fen
    assert body["code_url"].startswith("http")
    assert "fw_visitor" in response.cookies
    order = Order.objects.get(out_trade_no=body["out_trade_no"])
    assert order.status == Order.Status.PENDING and order.article == article
    assert SandboxTransaction.objects.filter(out_trade_no=order.out_trade_no).exists()


@LIVE_DB
def test_a_form_post_creates_an_h5_order_for_a_pass(live_backend, pass_plan):
    client = browser()

    response = client.post(
        "/pay/orders/",
        {"plan": "pass_30d", "channel": "h5"},
        HTTP_X_CSRFTOKEN=CSRF,
    )

    assert response.status_code == 201
    assert response.json()["h5_url"].startswith("http")
    assert response.json()["amount_fen"] == pass_plan.price_fen


@pytest.mark.django_db
def test_a_post_without_the_csrf_token_is_refused(article):
    client = browser()

    response = client.post(
        "/pay/orders/",
        data=json.dumps({"plan": "article_copy", "article_id": article.pk, "channel": "native"}),
        content_type="application/json",
    )

    assert response.status_code == 403
    assert not Order.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"plan": "lifetime", "channel": "native"}, "未知的套餐"),
        ({"plan": "article_copy", "channel": "paypal"}, "未知的支付方式"),
        ({"plan": "article_copy", "article_id": 999999, "channel": "native"}, "文章不存在"),
        ({"plan": "article_copy", "article_id": "abc", "channel": "native"}, "文章不存在"),
        ({"plan": "article_copy", "channel": "native"}, "需要指定文章"),
    ],
)
def test_an_unknown_plan_article_or_channel_is_a_clear_400(data, message, article, sandbox_keys):
    response = post(browser(), "/pay/orders/", data)

    assert response.status_code == 400
    assert message in response.json()["message"]
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_an_unpublished_article_cannot_be_bought(article, sandbox_keys):
    article.status = article.Status.DRAFT
    article.save()

    response = post(
        browser(),
        "/pay/orders/",
        {"plan": "article_copy", "article_id": article.pk, "channel": "native"},
    )

    assert response.status_code == 400
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_alipay_is_never_offered_inside_wechat(article, alipay_gateway):
    client = browser(HTTP_USER_AGENT=WECHAT_UA)

    response = post(
        client,
        "/pay/orders/",
        {"plan": "article_copy", "article_id": article.pk, "channel": "alipay_qr"},
    )

    assert response.status_code == 400
    assert "微信内无法使用支付宝" in response.json()["message"]
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_alipay_qr_orders_get_the_precreated_qr_code(article, alipay_gateway):
    body = create(browser(), plan="article_copy", article_id=article.pk, channel="alipay_qr")

    assert body["code_url"] == f"https://qr.alipay.com/bax{body['out_trade_no']}"
    assert Order.objects.get(out_trade_no=body["out_trade_no"]).provider == Order.Provider.ALIPAY


@pytest.mark.django_db
def test_a_channel_whose_provider_is_not_configured_is_a_400(article, sandbox_keys, settings):
    settings.PAYMENT_ALIPAY_BACKEND = ""

    response = post(
        browser(),
        "/pay/orders/",
        {"plan": "article_copy", "article_id": article.pk, "channel": "alipay_wap"},
    )

    assert response.status_code == 400
    assert response.json()["code"] == "ChannelUnavailable"


@pytest.mark.django_db
def test_jsapi_without_an_openid_answers_409_with_the_oauth_start_and_opens_no_order(
    article, sandbox_keys
):
    response = post(
        browser(HTTP_USER_AGENT=WECHAT_UA),
        "/pay/orders/",
        {"plan": "article_copy", "article_id": article.pk, "channel": "jsapi"},
        HTTP_REFERER=f"http://testserver/a/{article.pk}.html?from=search",
    )

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "NeedOpenid"
    assert body["oauth_url"] == "/pay/wechat/oauth/?" + urlencode(
        {"next": f"/a/{article.pk}.html?from=search"}
    )
    assert not Order.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("extra", "data_next", "expected_next"),
    [
        ({"HTTP_REFERER": "https://evil.example/a/1.html"}, None, "/"),
        ({}, "https://evil.example/", "/"),
        ({}, "//evil.example/", "/"),
        ({"HTTP_REFERER": "http://testserver/c/zongjie/"}, "/a/7.html", "/a/7.html"),
    ],
)
def test_the_409_oauth_url_only_ever_returns_to_this_site(
    extra, data_next, expected_next, article, sandbox_keys
):
    data = {"plan": "article_copy", "article_id": article.pk, "channel": "jsapi"}
    if data_next is not None:
        data["next"] = data_next

    response = post(browser(HTTP_USER_AGENT=WECHAT_UA), "/pay/orders/", data, **extra)

    assert response.status_code == 409
    assert response.json()["oauth_url"] == "/pay/wechat/oauth/?" + urlencode(
        {"next": expected_next}
    )


@pytest.mark.django_db
def test_creating_orders_too_fast_is_answered_429_in_chinese(settings, sandbox_keys, xiaoming):
    settings.FANWEN_ORDER_CREATE_LIMIT = 2
    client = as_visitor(browser(), xiaoming)

    answers = [post(client, "/pay/orders/", {"plan": "nope"}).status_code for _ in range(3)]

    assert answers == [400, 400, 429]
    blocked = post(client, "/pay/orders/", {"plan": "nope"})
    assert blocked.json()["message"] == "操作太频繁，请稍后再试。"
    assert int(blocked["Retry-After"]) > 0


@pytest.mark.django_db
def test_one_address_has_its_own_higher_limit(settings, sandbox_keys):
    settings.FANWEN_ORDER_CREATE_IP_LIMIT = 3

    answers = [post(browser(), "/pay/orders/", {"plan": "nope"}).status_code for _ in range(4)]

    assert answers == [400, 400, 400, 429]


# --- polling, checking, access ----------------------------------------------------------------


@LIVE_DB
def test_the_buyer_pays_presses_check_and_gets_the_article(live_backend, article):
    buyer = browser()
    no = create(buyer, plan="article_copy", article_id=article.pk, channel="native")["out_trade_no"]
    assert buyer.get(f"/pay/orders/{no}/").json() == {
        "status": "pending",
        "paid_at": None,
        "entitlement": None,
    }
    assert buyer.get(f"/a/{article.pk}/access.json").json()["copy"] is False
    # Paid at WeChat; the notification has not arrived (sandbox notifications are off here).
    do_confirm_sandbox_payment(SandboxTransaction.objects.get(out_trade_no=no))

    checked = post(buyer, f"/pay/orders/{no}/check/")

    assert checked.status_code == 200
    state = checked.json()
    assert state["status"] == "paid" and state["paid_at"]
    assert state["entitlement"]["kind"] == "article"
    assert state["entitlement"]["article_id"] == article.pk
    assert PaymentEvent.objects.filter(out_trade_no=no, kind="query").exists()
    assert buyer.get(f"/pay/orders/{no}/").json()["status"] == "paid"
    access = buyer.get(f"/a/{article.pk}/access.json").json()
    assert access == {"copy": True, "download": True, "pass_until": None}


@LIVE_DB
def test_check_of_an_unpaid_order_leaves_it_pending(live_backend, article):
    buyer = browser()
    no = create(buyer, plan="article_copy", article_id=article.pk, channel="native")["out_trade_no"]

    state = post(buyer, f"/pay/orders/{no}/check/").json()

    assert state["status"] == "pending" and state["entitlement"] is None


@pytest.mark.django_db
def test_another_visitor_cannot_see_or_check_the_order(pending_copy, xiaoming, stranger):
    owner, stranger = as_visitor(browser(), xiaoming), as_visitor(browser(), stranger)
    assert owner.get(f"/pay/orders/{pending_copy.out_trade_no}/").json()["status"] == "pending"

    assert stranger.get(f"/pay/orders/{pending_copy.out_trade_no}/").status_code == 404
    assert post(stranger, f"/pay/orders/{pending_copy.out_trade_no}/check/").status_code == 404
    assert browser().get("/pay/orders/20261129NOSUCHORDER0000000000/").status_code == 404


@pytest.mark.django_db
def test_the_check_button_is_rate_limited(settings, pending_copy, stranger):
    settings.FANWEN_ORDER_CHECK_LIMIT = 1
    client = as_visitor(browser(), stranger)

    answers = [
        post(client, f"/pay/orders/{pending_copy.out_trade_no}/check/").status_code
        for _ in range(2)
    ]

    assert answers == [404, 429]


@pytest.mark.django_db
def test_access_json_for_a_reader_without_a_cookie_is_closed_and_sets_no_cookie(article):
    response = Client().get(f"/a/{article.pk}/access.json")

    assert response.status_code == 200
    assert response.json() == {"copy": False, "download": False, "pass_until": None}
    assert not response.cookies
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_access_json_shows_a_running_pass(pass_plan, article, xiaoming):
    from fanwen.orders.tests.fixtures import make_order, settle

    settle(make_order(xiaoming, "pass_30d", mchid="1900000109", appid="wxd678efh567hg6787"))
    client = as_visitor(Client(), xiaoming)

    access = client.get(f"/a/{article.pk}/access.json").json()

    assert access["copy"] is True and access["download"] is True
    assert access["pass_until"] is not None
    assert Entitlement.objects.get().ends_at.isoformat() == access["pass_until"]


@pytest.mark.django_db
def test_access_json_of_an_unknown_article_is_404():
    assert Client().get("/a/999999/access.json").status_code == 404
