"""Benchmark and validate the sitemap on a large generated library.

Builds a scratch library of --articles published articles (Article rows only, bulk_create: a
sitemap reads no pieces) plus drafts, hidden and scheduled ones mixed in and one block of
drafts wide enough to leave a whole id range empty, then fetches /sitemap.xml and every page
it lists through Django's test client and checks each against the sitemap protocol:
well-formed XML in the sitemaps.org namespace, at most 50,000 URLs and 50 MB, every <loc> an
absolute http(s) URL on the site that resolves to an article or category route, <lastmod> in
W3C format, and every published article listed exactly once (nothing else).

Prints per-page time (max, p95, median; goal < 2 s), sizes and URL counts, beside two
references measured in the same run:
  - the same rows read by id range and written as XML by a plain loop (the floor: what a
    page costs without Django's sitemap machinery);
  - the deepest page the OFFSET way (Django's Paginator: COUNT(*) then LIMIT/OFFSET), the
    paging this site replaced, against the id-range page at the same depth.

Usage: .venv/bin/python bench/sitemap.py [--articles 100000] [--keep]
Runs on a SQLite library of its own under $FANWEN_BENCH_DIR (default /tmp/fanwen-bench), or
on the PostgreSQL database named by --database-url (its tables are created there, and the
library's articles are deleted at the start and, without --keep, at the end).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
MAX_URLS = 50_000
MAX_BYTES = 50 * 1024 * 1024
GOAL_SECONDS = 2.0
# W3C Datetime (https://www.w3.org/TR/NOTE-datetime): YYYY, YYYY-MM, YYYY-MM-DD, or a time
# with minutes, optional seconds and fraction, and a zone.
W3C_DATETIME = re.compile(
    r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?$"
)


class SitemapInvalid(AssertionError):
    pass


@dataclass
class SitemapReport:
    index_seconds: float = 0.0
    index_bytes: int = 0
    pages: list[tuple[str, float, int, int]] = field(default_factory=list)  # url, s, bytes, urls
    article_ids: Counter = field(default_factory=Counter)
    category_paths: list[str] = field(default_factory=list)


def _parse(body: bytes, url: str, root_tag: str):
    from lxml import etree

    if len(body) >= MAX_BYTES:
        raise SitemapInvalid(f"{url}: {len(body):,} bytes, the protocol allows < 50 MB")
    try:
        # No entities, no network: a sitemap is plain data.
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise SitemapInvalid(f"{url}: not well-formed XML: {exc}") from None
    if root.tag != NS + root_tag:
        raise SitemapInvalid(f"{url}: root is {root.tag}, wanted {NS}{root_tag}")
    return root


def _check_loc(loc: str | None, origin: str, where: str) -> str:
    if not loc or loc != loc.strip():
        raise SitemapInvalid(f"{where}: empty or padded <loc> {loc!r}")
    parts = urlsplit(loc)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise SitemapInvalid(f"{where}: <loc> {loc!r} is not an absolute http(s) URL")
    if f"{parts.scheme}://{parts.netloc}" != origin:
        raise SitemapInvalid(f"{where}: <loc> {loc!r} is not on {origin}")
    if len(loc) > 2048:
        raise SitemapInvalid(f"{where}: <loc> longer than 2,048 characters")
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _check_lastmod(node, where: str) -> None:
    lastmod = node.findtext(NS + "lastmod")
    if lastmod is not None and not W3C_DATETIME.match(lastmod.strip()):
        raise SitemapInvalid(f"{where}: <lastmod> {lastmod!r} is not a W3C datetime")


def check_sitemaps(client, origin: str, published_ids: set[int]) -> SitemapReport:
    """Fetch the index and every page it lists with `client`; raise SitemapInvalid on the
    first rule broken; every id in `published_ids` must be listed once and nothing else."""
    from django.urls import Resolver404, resolve

    report = SitemapReport()
    started = time.perf_counter()
    response = client.get("/sitemap.xml")
    body = response.content
    report.index_seconds = time.perf_counter() - started
    report.index_bytes = len(body)
    if response.status_code != 200:
        raise SitemapInvalid(f"/sitemap.xml answered {response.status_code}")
    index = _parse(body, "/sitemap.xml", "sitemapindex")
    entries = index.findall(NS + "sitemap")
    if not entries or len(entries) > MAX_URLS:
        raise SitemapInvalid(f"/sitemap.xml lists {len(entries)} sitemaps")
    for entry in entries:
        _check_lastmod(entry, "/sitemap.xml")
        path = _check_loc(entry.findtext(NS + "loc"), origin, "/sitemap.xml")
        started = time.perf_counter()
        response = client.get(path)
        body = response.content
        seconds = time.perf_counter() - started
        if response.status_code != 200 or "xml" not in response["Content-Type"]:
            raise SitemapInvalid(f"{path} answered {response.status_code}")
        urlset = _parse(body, path, "urlset")
        urls = urlset.findall(NS + "url")
        if not urls or len(urls) > MAX_URLS:
            raise SitemapInvalid(f"{path} holds {len(urls)} URLs (1 to 50,000)")
        for url in urls:
            _check_lastmod(url, path)
            target = _check_loc(url.findtext(NS + "loc"), origin, path)
            try:
                match = resolve(urlsplit(target).path)
            except Resolver404:
                raise SitemapInvalid(f"{path}: {target} resolves to no page") from None
            if match.view_name == "library:article":
                report.article_ids[int(match.kwargs["article_id"])] += 1
            elif match.view_name == "library:category":
                report.category_paths.append(target)
            else:
                raise SitemapInvalid(f"{path}: {target} is {match.view_name}, not a reading page")
        report.pages.append((path, seconds, len(body), len(urls)))
    twice = [pk for pk, n in report.article_ids.items() if n > 1]
    missing = published_ids - set(report.article_ids)
    extra = set(report.article_ids) - published_ids
    if twice or missing or extra:
        raise SitemapInvalid(
            f"articles listed twice {sorted(twice)[:5]} ({len(twice)}), missing "
            f"{sorted(missing)[:5]} ({len(missing)}), not published {sorted(extra)[:5]} "
            f"({len(extra)})"
        )
    return report


# --- the benchmark --------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


PREFIX = "bench-sitemap:"


def clear_library() -> None:
    """A plain DELETE: the ORM's would send a delete signal per article."""
    from django.db import connection

    from fanwen.library.models import Article

    table = connection.ops.quote_name(Article._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE source_key LIKE %s", [PREFIX + "%"])


def build_library(published: int) -> set[int]:
    """Published articles with drafts, hidden and scheduled ones among them, and one run of
    drafts as long as two sitemap pages; returns the published ids."""
    import datetime as dt

    from django.db import transaction
    from django.utils import timezone

    from fanwen.library import pagecache
    from fanwen.library.demo.loader import ensure_categories
    from fanwen.library.models import Article
    from fanwen.library.sitemaps import ARTICLES_PER_PAGE

    clear_library()
    categories = list(ensure_categories().values())
    now = timezone.now()
    S = Article.Status
    # Halfway, more drafts in a row than two pages hold: a whole id range lists nothing.
    gap_at, gap = published // 2, 2 * ARTICLES_PER_PAGE + 1
    made = n = 0
    batch: list[Article] = []

    def flush() -> None:
        with transaction.atomic():
            Article.objects.bulk_create(batch)
        batch.clear()

    while made < published:
        n += 1
        when = None
        if made >= gap_at and gap:
            status, gap = S.DRAFT, gap - 1
        elif n % 20 == 0:
            status = [S.DRAFT, S.HIDDEN, S.SCHEDULED][n // 20 % 3]
            if status == S.SCHEDULED:
                when = now + dt.timedelta(days=1)
        else:
            status, when = S.PUBLISHED, now - dt.timedelta(minutes=n)
            made += 1
        batch.append(
            Article(
                category=categories[n % len(categories)],
                title=f"第{n}篇工作总结范文",
                source_key=f"{PREFIX}{n}",
                status=status,
                published_at=when,
                piece_count=1,
            )
        )
        if len(batch) >= 5000:
            flush()
    flush()
    pagecache.purge_all()
    return set(Article.objects.published().values_list("pk", flat=True))


def plain_loop_seconds(origin: str, first: int, last: int) -> float:
    """The floor: the same id range read and written as sitemap XML by a plain loop."""
    from django.utils import timezone

    from fanwen.library.models import Article

    started = time.perf_counter()
    rows = (
        Article.objects.published()
        .filter(pk__gt=first, pk__lte=last)
        .order_by("pk")
        .values_list("pk", "updated_at")
    )
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="', NS[1:-1], '">']
    for pk, updated in rows:
        day = timezone.localtime(updated).strftime("%Y-%m-%d")
        parts.append(
            f"<url><loc>{origin}/a/{pk}.html</loc><lastmod>{day}</lastmod>"
            "<changefreq>weekly</changefreq></url>"
        )
    parts.append("</urlset>")
    "".join(parts).encode()
    return time.perf_counter() - started


def offset_page_seconds(page: int, per_page: int) -> float:
    """Django's Paginator on the same queryset: COUNT(*) and LIMIT/OFFSET at that depth."""
    from django.core.paginator import Paginator

    from fanwen.library.sitemaps import ArticleSitemap

    started = time.perf_counter()
    paginator = Paginator(ArticleSitemap().items(), per_page)
    list(paginator.page(min(page, paginator.num_pages)).object_list)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--database-url", default="", help="PostgreSQL instead of SQLite")
    parser.add_argument("--keep", action="store_true", help="keep the scratch library")
    args = parser.parse_args()

    work = Path(os.environ.get("FANWEN_BENCH_DIR", "/tmp/fanwen-bench")) / "sitemap"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    os.environ["FANWEN_VAR_DIR"] = str(work)
    os.environ.pop("DATABASE_URL", None)
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    origin = "https://fanwen.example.cn"
    os.environ["FANWEN_SITE_URL"] = origin
    os.environ["FANWEN_PAGE_RATE_LIMIT"] = os.environ["FANWEN_PAGE_IP_RATE_LIMIT"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanwen.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from fanwen.library import pagecache
    from fanwen.library.models import Article
    from fanwen.library.sitemaps import ARTICLES_PER_PAGE

    call_command("migrate", "--noinput", verbosity=0)
    started = time.perf_counter()
    published = build_library(args.articles)
    total = Article.objects.count()
    print(
        f"library: {len(published):,} published of {total:,} articles on "
        f"{connection.vendor}, built in {time.perf_counter() - started:.1f}s"
    )
    try:
        client = Client()
        # Once before measuring: the first request of a process imports and compiles.
        first_page = re.search(
            r"<loc>[^<]*(/sitemap-articles\.xml[^<]*)</loc>",
            client.get("/sitemap.xml").content.decode(),
        )
        client.get(first_page.group(1).replace("&amp;", "&"))
        # The index keeps its page list until an edit: measure it cold, then as kept.
        pagecache.purge_all()
        report = check_sitemaps(client, origin, published)
        started = time.perf_counter()
        client.get("/sitemap.xml")
        index_kept = time.perf_counter() - started
        times = [seconds for _, seconds, _, _ in report.pages]
        sizes = [size for _, _, size, _ in report.pages]
        counts = [n for _, _, _, n in report.pages]
        article_pages = [p for p in report.pages if "articles" in p[0]]
        print(
            f"valid: index {report.index_bytes:,} bytes listing {len(report.pages)} sitemaps, "
            f"{sum(report.article_ids.values()):,} article URLs (each published article once), "
            f"{len(report.category_paths)} category URLs"
        )
        print(f"index: {report.index_seconds:.3f} s cold, {index_kept:.3f} s kept until an edit")
        print(
            f"pages: max {max(times):.3f} s, p95 {percentile(times, 95):.3f} s, "
            f"median {percentile(times, 50):.3f} s per page (goal < {GOAL_SECONDS:.0f} s)"
        )
        print(
            f"sizes: {min(sizes):,} to {max(sizes):,} bytes (limit 50 MB); URLs per page "
            f"{min(counts):,} to {max(counts):,} (limit 50,000, page size {ARTICLES_PER_PAGE:,})"
        )
        # References on the deepest article page.
        # The deepest full page (the last may hold a few URLs only).
        fullest = max(n for *_, n in article_pages)
        path, seconds, _, urls = [p for p in article_pages if p[3] >= 0.9 * fullest][-1]
        number = int(path.split("p=")[1]) if "p=" in path else 1
        first = (number - 1) * ARTICLES_PER_PAGE
        floor = min(plain_loop_seconds(origin, first, first + ARTICLES_PER_PAGE) for _ in range(3))
        deep = [p[1] for p in article_pages]
        print(
            f"deepest page {path} ({urls:,} URLs): {seconds:.3f} s; plain loop over the same "
            f"rows {floor:.3f} s; ratio {seconds / floor:.1f}x"
        )
        print(
            f"article pages p95 {percentile(deep, 95):.3f} s vs plain loop {floor:.3f} s: "
            f"ratio {percentile(deep, 95) / floor:.1f}x"
        )
        # Django's Paginator numbers pages densely: its last page is as deep as it gets.
        rank = -(-len(published) // ARTICLES_PER_PAGE)
        offset = min(offset_page_seconds(rank, ARTICLES_PER_PAGE) for _ in range(3))
        query_only = min(_range_query_seconds(first, ARTICLES_PER_PAGE) for _ in range(3))
        print(
            f"rows of page {rank} the OFFSET way (COUNT + LIMIT/OFFSET): {offset:.3f} s; by id "
            f"range: {query_only:.3f} s; ratio {offset / query_only:.1f}x"
        )
        ok = max(times) < GOAL_SECONDS
        print(f"goal < {GOAL_SECONDS:.0f} s per page: {'met' if ok else 'MISSED'}")
        print(f"load average during the run: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")
    finally:
        if not args.keep:
            clear_library()
            if not args.database_url:
                shutil.rmtree(work, ignore_errors=True)


def _range_query_seconds(first: int, per_page: int) -> float:
    from fanwen.library.sitemaps import ArticleSitemap

    started = time.perf_counter()
    list(ArticleSitemap().items().filter(pk__gt=first, pk__lte=first + per_page))
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
