"""Request ids on responses and in log lines; JSON log lines that parse and carry the id."""

from __future__ import annotations

import io
import json
import logging

import pytest

from fanwen.library import fastpath
from fanwen.ops.logs import ContextFilter, JsonFormatter, job_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines():
    """Lines of the JSON formatter from the fanwen loggers, read back as dicts."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    names = ("fanwen.request", "fanwen.test", "django.request")
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)

    def read() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield read
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_a_sane_incoming_id_comes_back(client):
    response = client.get("/robots.txt", HTTP_X_REQUEST_ID="edge-7f3a.b_2")
    assert response["X-Request-ID"] == "edge-7f3a.b_2"


@pytest.mark.parametrize(
    "incoming", ["", "x" * 65, "has space", "semi;colon", "新", "a\r\nSet-Cookie: x=1"]
)
def test_a_missing_or_odd_id_is_replaced_by_a_new_one(client, incoming):
    response = client.get("/robots.txt", HTTP_X_REQUEST_ID=incoming)
    made = response["X-Request-ID"]
    assert made != incoming and len(made) == 32 and int(made, 16) >= 0


def test_each_request_gets_its_own_id(client):
    assert client.get("/robots.txt")["X-Request-ID"] != client.get("/robots.txt")["X-Request-ID"]


def test_the_request_line_is_a_json_line_with_the_id(client, json_lines):
    response = client.get("/robots.txt", HTTP_X_REQUEST_ID="req-42")

    (line,) = [entry for entry in json_lines() if entry["logger"] == "fanwen.request"]
    assert line["request_id"] == "req-42" == response["X-Request-ID"]
    assert line["method"] == "GET" and line["path"] == "/robots.txt" and line["status"] == 200
    assert line["level"] == "INFO" and isinstance(line["duration_ms"], float)
    assert line["time"].endswith("+00:00") and "GET /robots.txt 200" in line["message"]


def test_lines_written_during_a_request_carry_its_id(client, json_lines, monkeypatch):
    import fanwen.urls

    robots = next(p for p in fanwen.urls.urlpatterns if getattr(p, "name", None) == "robots")
    original = robots.callback

    def robots_that_logs(request):
        logging.getLogger("fanwen.test").warning("正在生成 robots")
        return original(request)

    monkeypatch.setattr(robots, "callback", robots_that_logs)

    client.get("/robots.txt", HTTP_X_REQUEST_ID="req-43")

    (line,) = [entry for entry in json_lines() if entry["logger"] == "fanwen.test"]
    assert line["message"] == "正在生成 robots" and line["request_id"] == "req-43"


def test_djangos_line_for_a_4xx_answer_carries_the_id_too(client, json_lines):
    # django.request writes "Not Found: …" once the middleware chain has returned.
    client.get("/a/999999999.html", HTTP_X_REQUEST_ID="req-404")

    (line,) = [entry for entry in json_lines() if entry["logger"] == "django.request"]
    assert line["level"] == "WARNING" and line["request_id"] == "req-404"


def test_a_worker_job_name_is_on_its_lines(json_lines):
    with job_context("reconcile_payments"):
        logging.getLogger("fanwen.test").info("查询 3 笔")
    logging.getLogger("fanwen.test").info("outside")

    inside, outside = json_lines()
    assert inside["job"] == "reconcile_payments" and inside["request_id"] == ""
    assert "job" not in outside


def test_exceptions_are_in_the_json_line(json_lines):
    try:
        raise ValueError("坏数据")
    except ValueError:
        logging.getLogger("fanwen.test").exception("failed")
    (line,) = json_lines()
    assert "ValueError: 坏数据" in line["exc"]


def test_the_plain_format_names_the_request(client):
    record = logging.LogRecord("fanwen.test", logging.INFO, __file__, 1, "hello", None, None)
    record.request_id = "req-44"
    ContextFilter().filter(record)
    formatter = logging.Formatter("%(levelname)s %(name)s %(message)s%(context)s")
    assert formatter.format(record) == "INFO fanwen.test hello [request_id=req-44]"


def test_the_fast_path_sends_and_logs_the_id_too(client, article, json_lines):
    from django.test import RequestFactory

    url = article.get_absolute_url()
    client.get(url)
    assert client.get(url)["X-Page-Cache"] == "hit"
    environ = RequestFactory()._base_environ(
        PATH_INFO=url, REQUEST_METHOD="GET", HTTP_X_REQUEST_ID="fast-1"
    )
    seen = {}

    def start_response(status, headers):
        seen.update(headers)

    def django_app(environ, start_response):
        raise AssertionError("the fast path should have answered")

    b"".join(fastpath.wrap(django_app)(environ, start_response))

    assert seen["X-Request-ID"] == "fast-1" and seen["X-Page-Cache"] == "hit"
    fast = [entry for entry in json_lines() if entry["request_id"] == "fast-1"]
    assert fast and fast[0]["path"] == url and fast[0]["status"] == 200
