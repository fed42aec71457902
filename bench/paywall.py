"""Benchmark the paywall: entitled article pages, DOCX export, protection font builds.

Prints, in one run on the demo library (SQLite, fonts built ahead as the worker does):
  1. the article page for a reader who bought it, through gunicorn, beside the anonymous page
     of the same article and nginx serving the same bytes (req/s, p50, p99, ratios);
  2. DOCX of a 5-piece article: p50/p95 of build_docx in-process and of the signed download
     over HTTP, one request at a time;
  3. the protection font: build time (first build in a fresh process, then warm) and WOFF2
     sizes, for the 5-piece article and for an article of ~1,500 distinct characters; and
     that the first page after publishing does not wait for a font.

Usage: .venv/bin/python bench/paywall.py [--duration 10] [--connections 32]
Needs wrk and nginx on PATH; listens on 127.0.0.1 only; every run is bounded in time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

# Its orders are the sandbox's, and its pages offer payment as the demo's do.
os.environ.setdefault("FANWEN_SANDBOX", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from pages import ROOT, WORK, Gunicorn, Nginx, fanwen, ms, wait_http, wrk  # noqa: E402

DOCX_RUNS = 200
# Setting up Django in this process against the benchmark's own library.
SETUP = """
import os, sys, django
os.environ["DJANGO_SETTINGS_MODULE"] = "fanwen.settings"
django.setup()
"""


def run_python(var_dir: Path, code: str, **extra_env: str) -> str:
    env = {**os.environ, "FANWEN_VAR_DIR": str(var_dir), "FANWEN_SANDBOX_AUTO_NOTIFY": "0"}
    env.update(extra_env)
    env.pop("DATABASE_URL", None)
    out = subprocess.run(
        [sys.executable, "-c", SETUP + code],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=900,
    )
    return out.stdout.strip().splitlines()[-1]


BUYER = """
from django.http import HttpResponse
from django.utils import timezone
from fanwen.accounts.models import Visitor
from fanwen.accounts.visitors import set_visitor_cookie
from fanwen.library.models import Article
from fanwen.orders.actions import do_create_order, do_settle_order
article = max(Article.objects.published(), key=lambda a: (a.pieces.count(), -a.pk))
visitor = Visitor.objects.create()
order = do_create_order(visitor=visitor, plan_code="article_copy", article=article,
                        provider="sandbox", channel="native", mchid="m", appid="a")
do_settle_order(order.out_trade_no, provider="sandbox", txn_id="4200" + order.out_trade_no,
                amount_fen=order.amount_fen, currency="CNY", mchid="m", appid="a",
                paid_at=timezone.now(), payer_ref="bench", event_id=None, source="query",
                expected_mchid="m", expected_appid="a")
response = HttpResponse()
set_visitor_cookie(response, visitor)
morsel = response.cookies["fw_visitor"]
print(f"{article.pk} {article.pieces.count()} {morsel.key}={morsel.coded_value}")
"""

DOCX = """
import statistics, time
from fanwen.exports.docx import build_docx
from fanwen.library.models import Article
article = Article.objects.get(pk={pk})
build_docx(article, order_id=1)
times = []
for _ in range({runs}):
    started = time.perf_counter()
    data = build_docx(article, order_id=1)
    times.append((time.perf_counter() - started) * 1000)
times.sort()
print(f"{{statistics.median(times):.2f}} {{times[int(len(times) * 0.95) - 1]:.2f}} {{len(data)}}")
"""

FONT = """
import time
from fanwen.library.models import Article
from fanwen.protection import fonts
article = Article.objects.get(pk={pk})
{make}
chars = len(fonts.protected_chars(article))
epoch = fonts.current_epoch() + 50
started = time.perf_counter()
font = fonts.build_font(article, epoch=epoch)
cold = time.perf_counter() - started
started = time.perf_counter()
font = fonts.build_font(article, epoch=epoch + 1)
warm = time.perf_counter() - started
name = lambda url: url.rsplit("/", 1)[1].removesuffix(".woff2")
size = fonts.font_path(name(font.url)).stat().st_size
clean = fonts.font_path(name(font.clean_url)).stat().st_size
print(f"{{chars}} {{cold:.2f}} {{warm:.2f}} {{size}} {{clean}}")
"""

# An article whose body paragraphs hold ~1,500 distinct characters: the demo texts joined.
BIG_ARTICLE = """
from fanwen.library.models import Piece
seen, paragraphs = set(), []
for piece in Piece.objects.order_by("pk"):
    for block in piece.blocks:
        if block.get("kind") == "p":
            paragraphs.append(block["text"])
            seen.update(block["text"])
    if len(seen) >= 1500:
        break
article = Article.objects.create(category=article.category, title="字数很多的范文",
                                 status="draft")
Piece.objects.create(article=article, position=1, title="",
                     blocks=[{"kind": "p", "text": t} for t in paragraphs])
"""

PUBLISH = """
import time, urllib.request
from django.utils import timezone
from fanwen.library.models import Article, Piece
from fanwen.protection import fonts
source = Article.objects.get(pk={pk})
article = Article.objects.create(category=source.category, title="刚发布的范文", status="draft")
for p in source.pieces.all():
    Piece.objects.create(article=article, position=p.position, title=p.title, blocks=p.blocks)
article.publish()
article.save()
print(article.pk)
"""


def page_run(url: str, cookie: str, args) -> dict:
    script = f'wrk.headers["Cookie"] = "{cookie}"\n' if cookie else ""
    wrk(url, args.connections, 2, script)  # warm the cache and the workers
    return wrk(url, args.connections, args.duration, script)


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[max(0, int(len(values) * p) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found: apt-get install wrk nginx-light")
    WORK.mkdir(parents=True, exist_ok=True)
    var_dir = Path(tempfile.mkdtemp(prefix="paywall-", dir=WORK))
    try:
        started = time.monotonic()
        fanwen(var_dir, "migrate", "--noinput")
        fanwen(var_dir, "demo", "--no-serve")
        fanwen(var_dir, "build_fonts")
        print(f"demo library with fonts ready in {time.monotonic() - started:.0f}s ({var_dir})")
        pk, pieces, cookie = run_python(var_dir, BUYER).split(" ", 2)
        path = f"/a/{pk}.html"

        quiet = {"FANWEN_LOG_LEVEL": "WARNING"}
        server = Gunicorn(var_dir, args.workers, args.threads, extra_env=quiet)
        try:
            entitled_body = urllib.request.urlopen(
                urllib.request.Request(server.url + path, headers={"Cookie": cookie})
            ).read()
            assert b'data-variant="clean"' in entitled_body, "the buyer did not get the clean page"
            entitled = page_run(server.url + path, cookie, args)
            anonymous = page_run(server.url + path, "", args)
            token_url = docx_url(server.url, pk, cookie)
            http_times = []
            for _ in range(DOCX_RUNS):
                t0 = time.perf_counter()
                request = urllib.request.Request(token_url, headers={"Cookie": cookie})
                data = urllib.request.urlopen(request).read()
                http_times.append((time.perf_counter() - t0) * 1000)
            assert data[:2] == b"PK"
            # Published by a process that builds no font: the server must not build it inline.
            publish_pk = run_python(var_dir, PUBLISH.format(pk=pk), FANWEN_PROTECTION="js")
            t0 = time.perf_counter()
            first = urllib.request.urlopen(f"{server.url}/a/{publish_pk}.html").read()
            first_ms = (time.perf_counter() - t0) * 1000
            first_variant = "protected" if b'data-variant="protected"' in first else "open"
            ready_after = wait_protected(server.url, publish_pk)
        finally:
            server.stop()

        static_root = Path(tempfile.mkdtemp(prefix="static-", dir=WORK))
        static_root.chmod(0o755)
        static_file = static_root / path.lstrip("/")
        static_file.parent.mkdir(parents=True, exist_ok=True)
        static_file.write_bytes(entitled_body)
        static_file.parent.chmod(0o755)
        static_file.chmod(0o644)
        nginx = Nginx(static_root)
        try:
            wait_http(nginx.url + path)
            static = page_run(nginx.url + path, "", args)
        finally:
            nginx.stop()

        print(
            f"\n1. article page {path} ({pieces} pieces, {len(entitled_body):,} bytes), "
            f"{args.connections} connections, {args.duration}s each, "
            f"gunicorn {args.workers}x{args.threads} gthread"
        )
        for label, run in (
            ("reader who bought it", entitled),
            ("anonymous reader", anonymous),
            ("nginx, same bytes", static),
        ):
            print(
                f"   {label:<22} {run['rps']:>9,.0f} req/s  p50 {ms(run['p50'])}  "
                f"p99 {ms(run['p99'])}  errors {run['errors']}"
            )
        print(
            f"   entitled {entitled['rps']:,.0f} req/s (goal >= 1,500); "
            f"entitled/anonymous {entitled['rps'] / anonymous['rps']:.1%}, "
            f"entitled/nginx {entitled['rps'] / static['rps']:.1%}"
        )

        median, p95, size = run_python(var_dir, DOCX.format(pk=pk, runs=DOCX_RUNS)).split()
        print(f"\n2. DOCX of the {pieces}-piece article ({int(size):,} bytes), {DOCX_RUNS} runs")
        print(f"   build_docx in-process: p50 {float(median):.1f} ms  p95 {float(p95):.1f} ms")
        print(
            f"   signed download over HTTP: p50 {statistics.median(http_times):.1f} ms  "
            f"p95 {percentile(http_times, 0.95):.1f} ms  (goal p95 <= 50 ms)"
        )

        print("\n3. protection font (fresh process: the first build loads the base font)")
        for label, make in (
            (f"{pieces}-piece article", ""),
            ("~1,500-character article", BIG_ARTICLE),
        ):
            chars, cold, warm, woff2, clean = run_python(
                var_dir, FONT.format(pk=pk, make=make)
            ).split()
            print(
                f"   {label:<26} {int(chars):>5} chars: first build {float(cold):.2f}s, "
                f"warm {float(warm):.2f}s; WOFF2 {int(woff2) / 1024:.0f} KB remapped, "
                f"{int(clean) / 1024:.0f} KB clean (goal <= 220 KB)"
            )
        print(
            f"   first page after publishing: {first_ms:.0f} ms, served '{first_variant}' "
            f"while the font was built in the background; protected {ready_after:.1f}s later"
        )
    finally:
        if not os.environ.get("FANWEN_BENCH_KEEP"):
            shutil.rmtree(var_dir, ignore_errors=True)


def docx_url(base: str, pk: str, cookie: str) -> str:
    request = urllib.request.Request(
        f"{base}/a/{pk}/download", headers={"Cookie": cookie}, method="GET"
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(request)
    except urllib.error.HTTPError as exc:
        if exc.code == 302:
            return base + exc.headers["Location"]
        raise
    raise SystemExit("the download did not redirect to a signed link")


def wait_protected(base: str, pk: str, timeout: float = 120) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        body = urllib.request.urlopen(f"{base}/a/{pk}.html").read()
        if b'data-variant="protected"' in body:
            return time.monotonic() - started
        time.sleep(0.2)
    raise SystemExit("the new article's font was not built in time")


if __name__ == "__main__":
    main()
