"""New and changed article URLs go to Baidu and IndexNow from the worker, through an outbox."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from django.utils import timezone

from fanwen.library.actions import do_edit_piece, do_hide_article, do_publish_article
from fanwen.library.models import Article
from fanwen.library.tests.factories import make_article
from fanwen.payments.tests.fixtures import LIVE_DB
from fanwen.sandbox.models import SandboxPush
from fanwen.seo.engines import next_beijing_midnight
from fanwen.seo.models import EngineState, UrlPush
from fanwen.seo.outbox import push_urls

ORIGIN = "https://fanwen.example.cn"
BAIDU_TOKEN = "sandbox-baidu-token"
INDEXNOW_KEY = "sandbox-indexnow-key"


def engines_at(base: str) -> dict:
    """Both engines, aimed at the sandbox emulators under `base`."""
    return {
        "baidu": {
            "BACKEND": "fanwen.seo.engines.BaiduPush",
            "OPTIONS": {
                "endpoint": base + "/sandbox/seo/baidu/urls",
                "token": BAIDU_TOKEN,
                "site": ORIGIN,
                "timeout": (2, 5),
            },
        },
        "indexnow": {
            "BACKEND": "fanwen.seo.engines.IndexNowPush",
            "OPTIONS": {
                "endpoint": base + "/sandbox/seo/indexnow",
                "key": INDEXNOW_KEY,
                "host": "fanwen.example.cn",
                "key_location": f"{ORIGIN}/{INDEXNOW_KEY}.txt",
                "timeout": (2, 5),
            },
        },
    }


@pytest.fixture
def pushing(settings):
    """Pushes on, to an engine nobody listens at (port 9) unless a test says otherwise."""
    settings.FANWEN_PUSH_ORIGIN = ORIGIN
    settings.FANWEN_SANDBOX_BAIDU_TOKEN = BAIDU_TOKEN
    settings.FANWEN_SANDBOX_INDEXNOW_KEY = INDEXNOW_KEY
    settings.SEO_PUSH_ENGINES = engines_at("http://127.0.0.1:9")
    return settings


@pytest.fixture
def live_engines(pushing, live_server):
    pushing.SEO_PUSH_ENGINES = engines_at(live_server.url)
    return live_server


def queued(engine: str = "baidu") -> list[str]:
    return list(UrlPush.objects.filter(engine=engine).values_list("url", flat=True))


def url_of(article: Article) -> str:
    return f"{ORIGIN}/a/{article.pk}.html"


@LIVE_DB
def test_published_articles_reach_both_engines_over_http(live_engines, year_end):
    first = make_article(year_end, pieces=1)
    second = make_article(year_end, pieces=1)
    draft = make_article(year_end, pieces=1, status=Article.Status.DRAFT)
    assert sorted(queued()) == sorted([url_of(first), url_of(second)])

    counts = push_urls()

    assert counts == {"baidu pushed": 2, "indexnow pushed": 2}
    assert not UrlPush.objects.exists()
    baidu = SandboxPush.objects.get(engine="baidu")
    assert baidu.status == 200 and sorted(baidu.accepted) == sorted(
        queued()
        or [
            url_of(first),
            url_of(second),
        ]
    )
    assert baidu.answer["remain"] == 500 - 2
    indexnow = SandboxPush.objects.get(engine="indexnow")
    assert indexnow.status == 200 and url_of(draft) not in indexnow.accepted
    assert EngineState.objects.get(engine="baidu").remain == 498
    # What was pushed can be looked at in the sandbox.
    listed = requests.get(live_engines.url + "/sandbox/seo/pushes.json", timeout=5).json()
    assert {push["engine"] for push in listed["pushes"]} == {"baidu", "indexnow"}


@LIVE_DB
def test_a_used_up_quota_pauses_baidu_until_the_next_day(live_engines, year_end, settings):
    settings.FANWEN_SANDBOX_BAIDU_QUOTA = 2
    articles = [make_article(year_end, pieces=1) for _ in range(3)]

    counts = push_urls()

    # Baidu took the first two and said remain 0; the third waits for tomorrow.
    assert counts["baidu pushed"] == 2 and counts["indexnow pushed"] == 3
    assert queued() == [url_of(articles[2])]
    state = EngineState.objects.get(engine="baidu")
    assert state.remain == 0 and state.paused_until == next_beijing_midnight()
    # More passes do not ask Baidu again (no spinning on "over quota").
    for _ in range(3):
        assert push_urls() == {"baidu paused": 1}
    assert SandboxPush.objects.filter(engine="baidu").count() == 1
    # Told "over quota" with no remain known (another tool used the quota): paused as well.
    EngineState.objects.filter(engine="baidu").update(paused_until=None, remain=None)
    assert push_urls() == {"baidu paused": 1}
    assert SandboxPush.objects.get(engine="baidu", status=400).answer == {
        "error": 400,
        "message": "over quota",
    }
    row = UrlPush.objects.get(engine="baidu")
    assert row.attempts == 0 and "配额" in row.last_error
    assert EngineState.objects.get(engine="baidu").paused_until > timezone.now()


@LIVE_DB
def test_an_edited_article_is_pushed_again(live_engines, year_end):
    article = make_article(year_end, pieces=2)
    assert push_urls()["baidu pushed"] == 1
    assert not UrlPush.objects.exists()

    do_edit_piece(article.pieces.order_by("position").first(), title="", text="改过的第一段。")

    assert queued() == [url_of(article)]
    assert push_urls()["baidu pushed"] == 1
    assert SandboxPush.objects.filter(engine="baidu").count() == 2


@pytest.mark.django_db
def test_an_engine_that_is_down_keeps_the_row_and_is_tried_again_later(pushing, year_end):
    article = make_article(year_end, pieces=1)

    counts = push_urls()

    assert counts == {"baidu failed": 1, "indexnow failed": 1}
    row = UrlPush.objects.get(engine="baidu")
    assert row.url == url_of(article) and row.attempts == 1
    assert "不可达" in row.last_error and BAIDU_TOKEN not in row.last_error
    assert row.next_attempt_at > timezone.now() + dt.timedelta(seconds=50)
    # Not due yet: the next pass leaves it alone.
    assert push_urls() == {}
    # Due again and still down: the wait doubles.
    UrlPush.objects.update(next_attempt_at=timezone.now())
    push_urls()
    row.refresh_from_db()
    assert row.attempts == 2
    assert row.next_attempt_at > timezone.now() + dt.timedelta(seconds=110)


@pytest.mark.django_db
def test_unpublished_and_hidden_articles_are_not_pushed(pushing, year_end, monkeypatch):
    def no_http(*args, **kwargs):
        raise AssertionError("nothing should be sent")

    monkeypatch.setattr(requests, "post", no_http)
    draft = make_article(year_end, pieces=1, status=Article.Status.DRAFT)
    later = make_article(year_end, pieces=1, published_at=timezone.now() + dt.timedelta(days=1))
    assert later.status == Article.Status.SCHEDULED
    assert not UrlPush.objects.exists()
    # Published, then hidden before the worker came: dropped, never sent.
    shown = make_article(year_end, pieces=1)
    do_hide_article(shown)
    assert len(queued()) == 1

    assert push_urls() == {"not public": 2}
    assert not UrlPush.objects.exists()
    do_publish_article(draft)
    assert queued() == [url_of(draft)]


@pytest.mark.django_db
def test_a_change_after_the_claim_is_pushed_again(pushing, year_end, monkeypatch):
    article = make_article(year_end, pieces=1)
    sent: list[list[str]] = []

    class Answer:
        status_code = 200
        headers: dict = {}

        def json(self):
            return {"success": 1, "remain": 10}

    def post(url, **kwargs):
        # The editor saves again while the engine is being asked.
        if not sent:
            Article.objects.get(pk=article.pk).save()
        sent.append(kwargs.get("data") or kwargs["json"]["urlList"])
        return Answer()

    monkeypatch.setattr(requests, "post", post)
    counts = push_urls()

    # Baidu's push was under way and did not cover the new save: the URL went again. IndexNow
    # was claimed after the save, so its one push covers it.
    assert counts == {"baidu pushed": 2, "indexnow pushed": 1}
    assert len(sent) == 3 and not UrlPush.objects.exists()


@pytest.mark.django_db
def test_the_indexnow_key_file_is_served_only_for_the_configured_key(client, pushing):
    response = client.get(f"/{INDEXNOW_KEY}.txt")
    assert response.status_code == 200 and response.content.decode() == INDEXNOW_KEY
    assert response["Content-Type"].startswith("text/plain")
    assert client.get("/some-other-key.txt").status_code == 404
    pushing.SEO_PUSH_ENGINES = {}
    assert client.get(f"/{INDEXNOW_KEY}.txt").status_code == 404
    assert client.get("/robots.txt").status_code == 200


@pytest.mark.django_db
def test_staff_see_the_waiting_urls_and_their_errors(admin_client, pushing, year_end):
    make_article(year_end, pieces=1)
    push_urls()
    page = admin_client.get("/admin/seo/urlpush/").content.decode()
    assert "不可达" in page and "fanwen.example.cn/a/" in page
    assert admin_client.get("/admin/seo/enginestate/").status_code == 200


def test_push_settings_that_cannot_work_are_reported(settings):
    from fanwen.seo.checks import push_settings

    settings.FANWEN_INDEXNOW_KEY = "short"
    settings.FANWEN_BAIDU_PUSH_TOKEN = ""
    settings.FANWEN_PUSH_ORIGIN = ""
    assert [problem.id for problem in push_settings()] == ["fanwen.W101", "fanwen.E101"]
    settings.FANWEN_INDEXNOW_KEY = "0123456789abcdef"
    settings.FANWEN_PUSH_ORIGIN = ORIGIN
    assert push_settings() == []
