"""Limits with 4 gunicorn workers behind nginx on loopback, counters in Redis or the database.

Each reader has its own 127.0.0.x address (see stack.py). The module starts one site per
counter store and every test uses addresses no other test touches.
"""

from __future__ import annotations

import random
import shutil

import pytest

from .stack import Stack, in_parallel, logged_in, redis_available, wait_for_fresh_window

PAGE_LIMIT = 20
LOGIN_LIMIT = 10
# A day: a fixed window that does not end halfway through a test.
WINDOW = 86400

pytestmark = pytest.mark.skipif(
    shutil.which("nginx") is None, reason="needs Debian's nginx on PATH (make system-deps)"
)


@pytest.fixture(scope="module", params=["redis", "database"])
def site(request):
    if request.param == "redis" and not redis_available():
        pytest.skip("needs Redis on 127.0.0.1:6379")
    stack = Stack(
        store=request.param,
        workers=4,
        settings={
            "FANWEN_PAGE_IP_RATE_LIMIT": str(PAGE_LIMIT),
            "FANWEN_PAGE_RATE_LIMIT": "0",
            "FANWEN_PAGE_RATE_WINDOW": str(WINDOW),
            "FANWEN_LOGIN_LIMIT": str(LOGIN_LIMIT),
            "FANWEN_LOGIN_WINDOW": str(WINDOW),
        },
    ).start()
    wait_for_fresh_window(WINDOW, needed=300)
    yield stack
    stack.stop()


def pages(client, count: int, forwarded_for=None, threads: int = 8) -> list[int]:
    def one(n: int):
        header = forwarded_for(n) if callable(forwarded_for) else forwarded_for
        return lambda: client.page("/", forwarded_for=header)

    return in_parallel((one(n) for n in range(count)), threads)


def test_one_reader_is_held_to_its_page_limit_across_all_workers(site):
    answers = pages(site.via_nginx("127.0.0.2"), PAGE_LIMIT * 3)

    # Per-process counters would let up to 4 × the limit through.
    assert answers.count(200) == PAGE_LIMIT
    assert answers.count(429) == PAGE_LIMIT * 2


def test_a_second_reader_on_the_same_proxy_is_never_limited_by_the_first(site):
    pages(site.via_nginx("127.0.0.3"), PAGE_LIMIT * 3)

    assert pages(site.via_nginx("127.0.0.4"), PAGE_LIMIT) == [200] * PAGE_LIMIT


def test_x_forwarded_for_sent_through_nginx_names_nobody_else(site):
    forger = site.via_nginx("127.0.0.5")
    # Claims to be 127.0.0.6, then anyone at all: nginx appends the real address.
    answers = pages(forger, PAGE_LIMIT, forwarded_for="127.0.0.6")
    answers += pages(
        forger, PAGE_LIMIT, forwarded_for=lambda n: f"10.{n}.{random.randrange(256)}.1"
    )

    assert answers.count(200) == PAGE_LIMIT
    # The reader it named still has its whole allowance.
    assert pages(site.via_nginx("127.0.0.6"), PAGE_LIMIT) == [200] * PAGE_LIMIT


def test_x_forwarded_for_sent_straight_to_a_worker_changes_nothing(site):
    rotating = site.direct("127.0.0.7")
    answers = pages(rotating, PAGE_LIMIT * 2, forwarded_for=lambda n: f"198.51.100.{n}")
    answers += pages(rotating, 5, forwarded_for="127.0.0.8")

    assert answers.count(200) == PAGE_LIMIT
    assert pages(site.via_nginx("127.0.0.8"), PAGE_LIMIT) == [200] * PAGE_LIMIT


@pytest.mark.parametrize(
    ("door", "attacker", "owner"),
    [("account", "127.0.0.20", "127.0.0.21"), ("admin", "127.0.0.22", "127.0.0.23")],
)
def test_password_guessing_is_held_at_both_logins(site, door, attacker, owner):
    guesser = site.via_nginx(attacker)
    # Parallel, from fresh browsers, so no worker sees the others' failures in its memory.
    answers = in_parallel(
        (
            lambda n=n: site.via_nginx(attacker).login(door, f"guess {n}")
            for n in range(LOGIN_LIMIT * 3)
        ),
        threads=6,
    )

    statuses = [answer.status for answer in answers]
    assert statuses.count(200) == LOGIN_LIMIT
    assert statuses.count(429) == LOGIN_LIMIT * 2
    # The right password from the guessing address: refused, with when to come back.
    blocked = guesser.login(door, "correct horse battery")
    assert blocked.status == 429
    assert "登录失败次数过多，请在" in blocked.text and int(blocked.headers["Retry-After"]) > 0
    # The owner, behind the same nginx, is not held by any of it.
    assert logged_in(site.via_nginx(owner).login(door, "correct horse battery"), door)
