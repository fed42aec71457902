"""The emulated Baidu 普通收录 API and IndexNow endpoint check and answer as the real ones do."""

from __future__ import annotations

import json

import pytest

from fanwen.payments.tests.fixtures import LIVE_DB
from fanwen.sandbox.models import SandboxPush

pytestmark = pytest.mark.django_db
ORIGIN = "https://fanwen.example.cn"
BAIDU = "/sandbox/seo/baidu/urls"
INDEXNOW = "/sandbox/seo/indexnow"


@pytest.fixture(autouse=True)
def registered_site(settings):
    settings.FANWEN_PUSH_ORIGIN = ORIGIN
    settings.FANWEN_SANDBOX_BAIDU_TOKEN = "t0ken"
    settings.FANWEN_SANDBOX_INDEXNOW_KEY = "k3y-k3y-k3y"
    settings.FANWEN_SANDBOX_BAIDU_QUOTA = 3


def baidu(client, lines: list[str], site: str = ORIGIN, token: str = "t0ken"):
    response = client.post(
        f"{BAIDU}?site={site}&token={token}", "\n".join(lines), content_type="text/plain"
    )
    return response.status_code, response.json()


def test_baidu_takes_urls_of_the_site_and_says_what_it_refused(client):
    status, answer = baidu(client, [f"{ORIGIN}/a/1.html", "https://other.cn/a/2.html", "*"])
    assert (status, answer) == (
        200,
        {
            "remain": 2,
            "success": 1,
            "not_same_site": ["https://other.cn/a/2.html"],
            "not_valid": ["*"],
        },
    )
    # Registered by host as well as by origin.
    assert baidu(client, [f"{ORIGIN}/a/3.html"], site="fanwen.example.cn")[1]["success"] == 1


@pytest.mark.parametrize(
    "kwargs, lines, expected",
    [
        ({"token": "wrong"}, ["x"], (401, "token is not valid")),
        ({"site": "https://other.cn"}, [f"{ORIGIN}/a/1.html"], (400, "site error")),
        ({}, ["", "  "], (400, "empty content")),
        (
            {},
            [f"{ORIGIN}/a/{n}.html" for n in range(2001)],
            (400, "only 2000 urls are allowed once"),
        ),
    ],
)
def test_baidu_answers_errors_in_its_format(client, kwargs, lines, expected):
    status, answer = baidu(client, lines, **kwargs)
    assert (status, answer) == (expected[0], {"error": expected[0], "message": expected[1]})


def test_baidu_takes_the_first_urls_up_to_the_quota_then_says_over_quota(client):
    urls = [f"{ORIGIN}/a/{n}.html" for n in range(5)]
    assert baidu(client, urls)[1] == {
        "remain": 0,
        "success": 3,
        "not_same_site": [],
        "not_valid": [],
    }
    assert baidu(client, urls[3:]) == (400, {"error": 400, "message": "over quota"})
    assert SandboxPush.objects.filter(engine="baidu", status=200).get().accepted == urls[:3]


def indexnow(client, **overrides):
    payload = {
        "host": "fanwen.example.cn",
        "key": "k3y-k3y-k3y",
        "keyLocation": f"{ORIGIN}/k3y-k3y-k3y.txt",
        "urlList": [f"{ORIGIN}/a/1.html"],
        **overrides,
    }
    return client.post(INDEXNOW, json.dumps(payload), content_type="application/json")


@pytest.mark.parametrize(
    "overrides, status",
    [
        ({}, 200),
        ({"key": "another-key"}, 403),
        ({"key": "short"}, 403),
        ({"host": "other.cn"}, 422),
        ({"keyLocation": "https://other.cn/k3y-k3y-k3y.txt"}, 422),
        ({"urlList": ["https://other.cn/a/1.html"]}, 422),
        ({"urlList": []}, 400),
        ({"urlList": [f"{ORIGIN}/a/{n}.html" for n in range(10_001)]}, 400),
    ],
)
def test_indexnow_checks_key_host_and_urls(client, overrides, status):
    assert indexnow(client, **overrides).status_code == status
    push = SandboxPush.objects.get(engine="indexnow")
    assert push.status == status and bool(push.accepted) == (status == 200)


def test_indexnow_refuses_what_is_not_json(client):
    response = client.post(INDEXNOW, "host=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


@LIVE_DB
def test_the_engine_client_scrubs_the_token_from_what_it_keeps(live_server, settings):
    from fanwen.seo.engines import BaiduPush, PushError

    engine = BaiduPush(
        "baidu",
        {"endpoint": live_server.url + BAIDU, "token": "not-the-t0ken", "site": ORIGIN},
    )
    with pytest.raises(PushError, match="401：token is not valid"):
        engine.push([f"{ORIGIN}/a/1.html"])
    down = BaiduPush(
        "baidu", {"endpoint": "http://127.0.0.1:9/urls", "token": "s3cret-t0ken", "site": ORIGIN}
    )
    with pytest.raises(PushError) as failure:
        down.push([f"{ORIGIN}/a/1.html"])
    assert "s3cret-t0ken" not in str(failure.value) and "***" in str(failure.value)
