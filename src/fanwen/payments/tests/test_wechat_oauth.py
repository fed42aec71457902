"""JSAPI inside WeChat: the openid by OAuth snsapi_base, against the sandbox's emulated OAuth."""

from __future__ import annotations

import base64
import html
import logging
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.hashes import SHA256
from django.core.cache import cache
from django.test import Client

from fanwen.accounts.models import Visitor, WeChatIdentity
from fanwen.orders.models import Entitlement, Order
from fanwen.payments import oauth
from fanwen.payments.errors import UnableToTakePayment
from fanwen.payments.tests.fixtures import LIVE_DB
from fanwen.sandbox.models import SandboxNotification, SandboxTransaction
from fanwen.sandbox.notify import deliver_notification
from fanwen.sandbox.tests.test_sandbox_flow import press

WECHAT_UA = "Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 MicroMessenger/8.0.50"
CALLBACK = "/pay/wechat/oauth/callback/"


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Used states and codes are remembered in the cache, which outlives a test.
    cache.clear()


@pytest.fixture
def oauth_live(live_backend, live_server, settings):
    """The sandbox backend whose OAuth endpoints (browser- and server-facing) are the live server's."""
    settings.FANWEN_SANDBOX_ORIGIN = live_server.url
    return live_backend


def wechat_browser(live_server) -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = WECHAT_UA
    # Any page with a form hands out the CSRF cookie, as the article page does for the paywall.
    session.get(live_server.url + "/account/login/", timeout=10)
    session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
    return session


def back_link(page: str) -> str:
    """The sandbox authorize page's 返回商户页面 link: where WeChat would send the browser."""
    return html.unescape(re.search(r'id="back" href="([^"]+)"', page)[1])


def authorize(session: requests.Session, start: str) -> tuple[str, str]:
    """Start OAuth and pass WeChat's authorize page; (callback URL, openid it shows)."""
    to_wechat = session.get(start, allow_redirects=False, timeout=10)
    assert to_wechat.status_code == 302
    page = session.get(to_wechat.headers["Location"], timeout=10)
    assert page.status_code == 200 and "沙箱" in page.text
    openid = re.search(r"<dt>OpenID</dt><dd>([^<]+)</dd>", page.text)[1]
    return back_link(page.text), openid


def order_jsapi(session: requests.Session, live_server, article) -> requests.Response:
    return session.post(
        live_server.url + "/pay/orders/",
        json={"plan": "article_copy", "article_id": article.pk, "channel": "jsapi"},
        headers={"Referer": f"{live_server.url}/a/{article.pk}.html"},
        timeout=10,
    )


@LIVE_DB
def test_a_buyer_inside_wechat_authorizes_pays_by_jsapi_and_gets_the_article(
    oauth_live, live_server, article, sandbox_keys
):
    session = wechat_browser(live_server)

    # No openid yet: the page is told where to send the browser.
    need = order_jsapi(session, live_server, article)
    assert need.status_code == 409 and need.json()["code"] == "NeedOpenid"
    assert not Order.objects.exists()
    start = live_server.url + need.json()["oauth_url"]

    to_wechat = session.get(start, allow_redirects=False, timeout=10)
    location = urlsplit(to_wechat.headers["Location"])
    assert location.fragment == "wechat_redirect"
    params = {key: values[0] for key, values in parse_qs(location.query).items()}
    assert params["appid"] == sandbox_keys.appid
    assert params["scope"] == "snsapi_base" and params["response_type"] == "code"
    assert params["redirect_uri"] == live_server.url + CALLBACK
    assert re.fullmatch(r"[0-9a-f]{64}", params["state"])

    callback, openid = authorize(session, start)
    back = session.get(callback, allow_redirects=False, timeout=10)

    assert back.status_code == 302
    assert back.headers["Location"] == f"/a/{article.pk}.html"
    identity = WeChatIdentity.objects.get()
    assert (identity.appid, identity.openid) == (sandbox_keys.appid, openid)

    created = order_jsapi(session, live_server, article)

    assert created.status_code == 201, created.content
    body = created.json()
    jsapi = body["jsapi"]
    assert jsapi["appId"] == sandbox_keys.appid and jsapi["signType"] == "RSA"
    assert re.fullmatch(r"prepay_id=wx\w+", jsapi["package"])
    message = f"{jsapi['appId']}\n{jsapi['timeStamp']}\n{jsapi['nonceStr']}\n{jsapi['package']}\n"
    # Raises InvalidSignature unless paySign is the merchant key's RSA-SHA256 of the four lines.
    sandbox_keys.merchant_public_key.verify(
        base64.b64decode(jsapi["paySign"]), message.encode(), PKCS1v15(), SHA256()
    )
    order = Order.objects.get(out_trade_no=body["out_trade_no"])
    assert order.channel == Order.Channel.JSAPI and order.visitor_id == identity.visitor_id
    txn = SandboxTransaction.objects.get(out_trade_no=order.out_trade_no)
    assert txn.trade_type == "JSAPI" and txn.payer_openid == openid

    # Outside WeChat there is no WeixinJSBridge: the sandbox payer page takes the payment.
    assert body["pay_page_url"].startswith(live_server.url + "/sandbox/jsapi/")
    paid = press(session, body["pay_page_url"], "确认支付")
    assert "支付成功（沙箱）" in paid.text
    assert deliver_notification(SandboxNotification.objects.get(transaction=txn)) == 204

    state = session.get(f"{live_server.url}/pay/orders/{order.out_trade_no}/", timeout=10).json()
    assert state["status"] == "paid"
    assert state["entitlement"]["article_id"] == article.pk
    order.refresh_from_db()
    assert order.payer_ref == openid
    assert Entitlement.objects.get(order=order).is_active()


@LIVE_DB
def test_a_callback_replayed_or_from_another_browser_is_refused(
    oauth_live, live_server, article, sandbox_keys, caplog
):
    caplog.set_level(logging.WARNING, logger="fanwen.payments")
    session = wechat_browser(live_server)
    callback, _ = authorize(session, f"{live_server.url}/pay/wechat/oauth/?next=/")
    state_cookie = session.cookies.get(oauth.STATE_COOKIE)

    # Another browser holding the same callback URL (no state cookie of its own).
    stranger = requests.get(callback, allow_redirects=False, timeout=10)
    assert stranger.status_code == 400 and "授权已失效" in stranger.text
    assert session.get(callback, allow_redirects=False, timeout=10).status_code == 302
    assert WeChatIdentity.objects.count() == 1

    # The same browser again, even with the state cookie put back.
    session.cookies.set(oauth.STATE_COOKIE, state_cookie, path=CALLBACK)
    replay = session.get(callback, allow_redirects=False, timeout=10)

    assert replay.status_code == 400 and "授权已使用过" in replay.text
    assert WeChatIdentity.objects.count() == 1
    assert any("replayed" in record.getMessage() for record in caplog.records)


@LIVE_DB
def test_a_bad_code_gives_a_clear_message_and_no_openid(
    oauth_live, live_server, sandbox_keys, caplog
):
    caplog.set_level(logging.WARNING, logger="fanwen.payments")
    session = wechat_browser(live_server)
    callback, _ = authorize(session, f"{live_server.url}/pay/wechat/oauth/?next=/a/3.html")
    forged = re.sub(r"code=[^&]+", "code=notacode", callback)

    answer = session.get(forged, allow_redirects=False, timeout=10)

    assert answer.status_code == 400
    assert "微信授权已失效（错误码 40029）" in answer.text
    assert 'href="/a/3.html"' in answer.text
    assert not WeChatIdentity.objects.exists()
    assert any("40029" in record.getMessage() for record in caplog.records)


@LIVE_DB
def test_a_code_is_good_for_one_exchange(oauth_live, live_server):
    session = wechat_browser(live_server)
    callback, openid = authorize(session, f"{live_server.url}/pay/wechat/oauth/?next=/")
    code = parse_qs(urlsplit(callback).query)["code"][0]

    assert oauth_live.oauth_openid(code) == openid
    with pytest.raises(UnableToTakePayment) as used:
        oauth_live.oauth_openid(code)
    assert used.value.provider_code == "40163"


@LIVE_DB
def test_a_wrong_app_secret_is_a_configuration_error_told_plainly(
    oauth_live, live_server, settings, caplog
):
    settings.PAYMENT_BACKENDS["sandbox"]["OPTIONS"]["app_secret"] = "not-the-secret"
    settings.PAYMENT_BACKENDS = dict(settings.PAYMENT_BACKENDS)  # rebuilds the backend
    caplog.set_level(logging.WARNING, logger="fanwen.payments")
    session = wechat_browser(live_server)
    callback, _ = authorize(session, f"{live_server.url}/pay/wechat/oauth/?next=/")

    answer = session.get(callback, allow_redirects=False, timeout=10)

    assert answer.status_code == 400
    assert "微信授权失败（错误码 40125）" in answer.text
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and "40125" in errors[0].getMessage()
    assert "not-the-secret" not in caplog.text


@LIVE_DB
def test_wechat_unreachable_is_a_502_and_the_secret_stays_out_of_the_log(
    oauth_live, live_server, settings, sandbox_keys, caplog
):
    session = wechat_browser(live_server)
    callback, _ = authorize(session, f"{live_server.url}/pay/wechat/oauth/?next=/")
    # Nothing listens on port 9.
    settings.PAYMENT_BACKENDS["sandbox"]["OPTIONS"]["oauth_token_url"] = (
        "http://127.0.0.1:9/sns/oauth2/access_token"
    )
    settings.PAYMENT_BACKENDS = dict(settings.PAYMENT_BACKENDS)
    caplog.set_level(logging.INFO)

    answer = session.get(callback, allow_redirects=False, timeout=10)

    assert answer.status_code == 502
    assert "支付服务暂时不可用" in answer.text
    assert "ConnectionError" in caplog.text
    assert sandbox_keys.app_secret not in caplog.text
    assert not WeChatIdentity.objects.exists()


# --- without the live server: checks that refuse before any call to WeChat --------------------


def started(client: Client, next_path: str = "/a/12.html") -> str:
    """Start OAuth in `client`; the state WeChat would bring back."""
    response = client.get("/pay/wechat/oauth/", {"next": next_path})
    assert response.status_code == 302
    return parse_qs(urlsplit(response["Location"]).query)["state"][0]


@pytest.mark.django_db
def test_a_tampered_state_is_refused(sandbox_keys, caplog):
    caplog.set_level(logging.WARNING, logger="fanwen.payments")
    client = Client(HTTP_USER_AGENT=WECHAT_UA)
    state = started(client)
    tampered = state[:-1] + ("0" if state[-1] != "0" else "1")

    answer = client.get(CALLBACK, {"code": "anything", "state": tampered})

    assert answer.status_code == 400
    assert "授权已失效" in answer.content.decode()
    assert not WeChatIdentity.objects.exists() and not Visitor.objects.exists()
    assert any("forged" in record.getMessage() for record in caplog.records)


@pytest.mark.django_db
def test_a_state_older_than_ten_minutes_is_refused(sandbox_keys, monkeypatch):
    client = Client()
    state = started(client)
    later = oauth.time.time() + oauth.STATE_MAX_AGE + 5
    monkeypatch.setattr(oauth.time, "time", lambda: later)

    assert oauth.nonce_of(state) is None
    assert client.get(CALLBACK, {"code": "anything", "state": state}).status_code == 400


@pytest.mark.django_db
def test_a_state_made_for_another_browser_is_refused(sandbox_keys):
    mine, theirs = Client(), Client()
    started(mine)
    their_state = started(theirs)

    assert mine.get(CALLBACK, {"code": "x", "state": their_state}).status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/a/1.html",
        "/\\evil.example/",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "/a/1.html\r\nLocation: https://evil.example/",
    ],
)
def test_oauth_never_redirects_off_site(target, sandbox_keys):
    answer = Client().get("/pay/wechat/oauth/", {"next": target})

    assert answer.status_code == 400
    assert "evil" not in answer.get("Location", "")
    assert "返回地址无效" in answer.content.decode()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/a/12.html", "/a/12.html"),
        ("/a/12.html?from=search#p3", "/a/12.html?from=search#p3"),
        ("a/12.html", None),
        ("", None),
        ("/" + "x" * 600, None),
    ],
)
def test_safe_next_takes_only_paths_of_this_site(value, expected):
    assert oauth.safe_next(value) == expected


@pytest.mark.django_db
def test_the_sandbox_authorize_page_refuses_another_appid_or_a_foreign_redirect(sandbox_keys):
    client = Client()
    base = {
        "appid": sandbox_keys.appid,
        "redirect_uri": "http://testserver" + CALLBACK,
        "response_type": "code",
        "scope": "snsapi_base",
        "state": "abc",
    }
    url = "/sandbox/wechat/connect/oauth2/authorize"

    assert client.get(url, base).status_code == 200
    wrong_app = client.get(url, {**base, "appid": "wx0000000000000000"})
    foreign = client.get(url, {**base, "redirect_uri": "https://evil.example/cb"})

    assert wrong_app.status_code == 400 and "10016" in wrong_app.content.decode()
    assert foreign.status_code == 400 and "10003" in foreign.content.decode()
    assert "沙箱" in foreign.content.decode() and "evil" not in foreign.content.decode()


@pytest.mark.django_db
def test_the_sandbox_token_endpoint_answers_errors_as_wechat_does(sandbox_keys):
    url = "/sandbox/wechat/sns/oauth2/access_token"
    good = {
        "appid": sandbox_keys.appid,
        "secret": sandbox_keys.app_secret,
        "code": "bogus",
        "grant_type": "authorization_code",
    }
    client = Client()

    assert client.get(url, good).json()["errcode"] == 40029
    assert client.get(url, {**good, "secret": "x"}).json()["errcode"] == 40125
    assert client.get(url, {**good, "appid": "wx1"}).json()["errcode"] == 40013
    assert client.get(url, {**good, "grant_type": "password"}).json()["errcode"] == 40002
