"""Crawl the whole public site as a new visitor: no protected paragraph may leave in clean text.

The same crawl as a verified search crawler must find every paragraph clean.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections import deque
from urllib.parse import urldefrag, urlsplit

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from bench.gen_corpus import fill
from fanwen.library.models import Article
from fanwen.library.tests.factories import empty_cache  # noqa: F401  (fixture)
from fanwen.protection import crawlers, fonts

LINK = re.compile(r"""(?:href|src)=["']([^"'#]+)|url\(["']?([^"')]+)""")
LOC = re.compile(r"<loc>([^<]+)</loc>")
# Short paragraphs ("同志们：") say nothing; longer ones are what a scraper is after.
MIN_CHARS = 12
MAX_PAGES = 400


@pytest.fixture
def library(db, settings, tmp_path):
    settings.FANWEN_PROTECTION = "font"
    settings.FANWEN_FONT_DIR = str(tmp_path / "fonts")
    call_command("demo", "--no-serve", stdout=open("/dev/null", "w"))  # noqa: SIM115
    # No fonts built ahead: the crawl starts at once, as a scraper would on a new site.
    fonts.wait_for_builds()
    fonts.forget_cache()
    shutil.rmtree(settings.FANWEN_FONT_DIR, ignore_errors=True)
    yield list(Article.objects.published().prefetch_related("pieces"))
    fonts.wait_for_builds()


def protected_paragraphs(articles: list[Article]) -> dict[str, int]:
    return {
        text: article.pk
        for article in articles
        for text in article.body_paragraphs()
        if len(text) >= MIN_CHARS
    }


def crawl(client: Client) -> dict[str, str]:
    """Every same-site URL reachable from / and the sitemaps → the text of its answer."""
    seen: dict[str, str] = {}
    queue = deque(["/", "/robots.txt", "/sitemap.xml"])
    while queue and len(seen) < MAX_PAGES:
        url = queue.popleft()
        if url in seen:
            continue
        response = client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        kind = response.get("Content-Type", "")
        text = body.decode("utf-8", "replace") if "font" not in kind else ""
        seen[url] = text
        links = [a or b for a, b in LINK.findall(text)] + LOC.findall(text)
        for link in links:
            parts = urlsplit(urldefrag(link)[0])
            if parts.netloc and parts.netloc not in ("testserver",):
                continue
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            # Logging out or in is not reading; everything else a visitor can GET is crawled.
            if path.startswith(("/account/logout", "/admin")) or not path.startswith("/"):
                continue
            if path not in seen:
                queue.append(path)
    return seen


# One test, three crawls: building the demo library's fonts is what takes the time.
@pytest.mark.slow
def test_protected_text_leaves_only_to_buyers_and_verified_crawlers(library, monkeypatch):
    a_new_visitor_finds_no_protected_paragraph_anywhere(library)
    after_a_rotation_a_new_visitor_still_finds_none(library, monkeypatch)
    every_clean_text_endpoint_refuses_a_reader_without_the_right(library)
    a_verified_crawler_reads_every_paragraph_clean(library, monkeypatch)


def a_new_visitor_finds_no_protected_paragraph_anywhere(library):
    paragraphs = protected_paragraphs(library)
    assert len(paragraphs) > 300
    pages = crawl(Client())
    article_pages = [u for u in pages if re.fullmatch(r"/a/\d+\.html", u)]
    assert len(article_pages) == len(library), "the crawl reaches every article"
    assert any(u.startswith("/f/") for u in pages), "the crawl fetched the fonts too"
    leaks = [(url, text[:20]) for url, body in pages.items() for text in paragraphs if text in body]
    assert leaks == [], f"{len(leaks)} protected paragraphs leaked, e.g. {leaks[:3]}"
    # Not even the start of a paragraph, as a description or an excerpt would carry it.
    starts = {text[:MIN_CHARS] for text in paragraphs}
    partial = [(url, s) for url, body in pages.items() for s in starts if s in body]
    assert partial == [], f"paragraph openings leaked: {partial[:3]}"


def after_a_rotation_a_new_visitor_still_finds_none(library, monkeypatch):
    # The next epoch starts: every article needs a new map and font, none is built yet.
    hours = max(1, int(django_settings.FANWEN_FONT_ROTATION_HOURS))
    before = fonts.current_epoch()
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + dt.timedelta(hours=hours))
    assert fonts.current_epoch() == before + 1
    a_new_visitor_finds_no_protected_paragraph_anywhere(library)


def every_clean_text_endpoint_refuses_a_reader_without_the_right(library):
    client = Client()
    for article in library:
        text = client.post(f"/a/{article.pk}/text/", "{}", content_type="application/json")
        assert text.status_code == 402, article.pk
        assert client.get(f"/a/{article.pk}/download").status_code == 402
        for piece in article.pieces.all():
            url = f"/a/{article.pk}/download?piece={piece.position}"
            assert client.get(url).status_code == 402
    assert client.get("/dl/forged.docx").status_code == 403


def a_verified_crawler_reads_every_paragraph_clean(library, monkeypatch):
    monkeypatch.setattr(crawlers, "reverse_dns", lambda ip: "crawl-66-249-66-1.googlebot.com")
    monkeypatch.setattr(crawlers, "forward_dns", lambda host: {"127.0.0.1"})
    googlebot = Client(
        HTTP_USER_AGENT="Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    )
    paragraphs = protected_paragraphs(library)
    pages = crawl(googlebot)
    bodies = {url: body for url, body in pages.items() if re.fullmatch(r"/a/\d+\.html", url)}
    missing = [t[:20] for t, pk in paragraphs.items() if t not in bodies[f"/a/{pk}.html"]]
    assert missing == []


@pytest.fixture
def generated_library(db, settings, tmp_path):
    settings.FANWEN_PROTECTION = "font"
    settings.FANWEN_FONT_DIR = str(tmp_path / "fonts")
    settings.FANWEN_PAGE_RATE_LIMIT = settings.FANWEN_PAGE_IP_RATE_LIMIT = 0
    fill(1000, seed=5)
    yield
    fonts.wait_for_builds()


# bench/protection.py --leak-library 10000 does the same on 10k articles and 300 pages.
@pytest.mark.slow
def test_never_read_articles_of_a_fresh_library_go_out_protected_now_and_after_a_rotation(
    generated_library, monkeypatch
):
    chosen = list(Article.objects.published().order_by("?").prefetch_related("pieces")[:25])
    assert not (fonts.font_dir() / "maps").exists(), "no font was built ahead"
    hours = max(1, int(django_settings.FANWEN_FONT_ROTATION_HOURS))
    real_now = timezone.now
    for shift in (0, hours):
        monkeypatch.setattr(
            timezone, "now", lambda shift=shift: real_now() + dt.timedelta(hours=shift)
        )
        for article in chosen:
            html = Client().get(article.get_absolute_url()).content.decode()
            assert 'data-variant="protected"' in html
            for text in article.body_paragraphs():
                assert text[:MIN_CHARS] not in html, (article.pk, text[:MIN_CHARS])
