"""What a scraper recovers from protected pages, and what protection costs.

For the demo library (and optionally N generated articles): builds each article's font as
the site does, takes the protected text of its body paragraphs, and runs the attacks of
tests/attacks/fontmatch.py against the public base font:
  outline_hash, point_set, raster   per-glyph matchers (goal: each < 10% of characters)
  render_and_match                  OCR with the known font (reported, not a goal)
plus the share a shuffled text scores by chance, font build p50/p95 and sizes, and the
time from publish to the first protected page of a never-read article.

    .venv/bin/python bench/protection.py [--generated 200] [--limit-articles 40]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--generated", type=int, default=0, help="also N generated articles")
    parser.add_argument("--limit-articles", type=int, default=0, help="attack at most N")
    parser.add_argument(
        "--leak-library",
        type=int,
        default=0,
        help="instead: generate N articles and crawl never-read ones at once, then after a rotation",
    )
    parser.add_argument("--leak-pages", type=int, default=300)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fanwen-bench-protection-"))
    os.environ["FANWEN_VAR_DIR"] = str(work)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanwen.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if args.leak_library:
        leak_crawl(args.leak_library, args.leak_pages)
        return
    call_command("demo", "--no-serve", stdout=open(os.devnull, "w"))  # noqa: SIM115
    from bench.gen_corpus import fill
    from fanwen.library.models import Article

    demo = list(Article.objects.published().prefetch_related("pieces").order_by("pk"))
    run("demo library", demo, args.limit_articles)
    if args.generated:
        before = Article.objects.count()
        fill(args.generated, seed=7)
        generated = list(
            Article.objects.published().filter(pk__gt=before).prefetch_related("pieces")
        )
        run(f"{len(generated)} generated articles", generated, args.limit_articles)
    publish_to_protected_page()


def run(label: str, articles: list, limit: int) -> None:
    from fanwen.protection import fonts
    from tests.attacks import fontmatch as fm

    if limit:
        articles = articles[:limit]
    chars = set()
    for article in articles:
        chars.update("".join(article.body_paragraphs()))
    started = time.perf_counter()
    ref = fm.Reference(fm.gb2312_level1() + "".join(chars))
    print(f"\n== {label}: {len(articles)} articles ==")
    print(
        f"attacker's reference: {len(ref.chars)} characters in {time.perf_counter() - started:.1f} s"
    )
    totals = {name: [0, 0] for name in [*fm.MATCHERS, "render_and_match", "shuffled (chance)"]}
    builds, sizes = [], []
    rng = random.Random(1)
    for article in articles:
        paragraphs = article.body_paragraphs()
        if not paragraphs:
            continue
        started = time.perf_counter()
        font = fonts.build_font(article)
        builds.append(time.perf_counter() - started)
        path = fonts.font_path(font.url.rsplit("/", 1)[1].removesuffix(".woff2"))
        data = path.read_bytes()
        sizes.append((len(fonts.protected_chars(article)), len(data)))
        protected = [font.obfuscate(p) for p in paragraphs]
        real = "".join(paragraphs)
        for name, (got, total) in fm.attack(fm.load_font(data), paragraphs, protected, ref).items():
            totals[name][0] += got
            totals[name][1] += total
        shuffled = list(real)
        rng.shuffle(shuffled)
        got, total = fm.recovered_share("".join(shuffled), real)
        totals["shuffled (chance)"][0] += got
        totals["shuffled (chance)"][1] += total
    print("characters of body paragraphs recovered (aligned):")
    for name, (got, total) in totals.items():
        print(f"  {name:18} {got:7d} / {total:7d}  {100 * got / max(total, 1):5.1f}%")
    builds.sort()
    p95 = builds[min(len(builds) - 1, int(0.95 * len(builds)))]
    print(
        f"font build: p50 {statistics.median(builds):.2f} s, p95 {p95:.2f} s ({len(builds)} builds)"
    )
    distinct = [d for d, _ in sizes]
    size = [s for _, s in sizes]
    print(
        f"font size: p50 {statistics.median(size) / 1024:.0f} KB, max {max(size) / 1024:.0f} KB;"
        f" distinct chars p50 {statistics.median(distinct):.0f}, max {max(distinct)}"
    )


def publish_to_protected_page() -> None:
    """A new article published, then read at once by a new visitor: the first page waits for
    its font (built in the request), and never goes out clean."""
    from django.test import Client

    from fanwen.library.models import Article, Piece
    from fanwen.protection import fonts

    source = Article.objects.published().order_by("pk").first()
    times = []
    for index in range(5):
        article = Article.objects.create(
            category=source.category, title=f"{source.title}{index}", status=Article.Status.DRAFT
        )
        for piece in source.pieces.all():
            blocks = [dict(b, text=b["text"] + f"（{index}）") for b in piece.blocks]
            Piece.objects.create(
                article=article, position=piece.position, title=piece.title, blocks=blocks
            )
        article.publish()
        article.save()
        fonts.wait_for_builds()
        fonts.forget_cache()
        for path in (fonts.font_dir() / "maps").rglob("*.json"):
            path.unlink()
        started = time.perf_counter()
        html = Client().get(article.get_absolute_url()).content.decode()
        times.append(time.perf_counter() - started)
        clean = [b for b in article.body_paragraphs() if b in html]
        assert 'data-variant="protected"' in html and not clean, "a clean paragraph went out"
    print(
        "\npublish -> first protected page (font not built yet, built in the request): "
        + ", ".join(f"{t:.2f} s" for t in times)
        + "; clean paragraphs served: 0"
    )


def leak_crawl(articles: int, pages: int) -> None:
    """A generated library just imported (no font built), then `pages` never-read article
    pages fetched by new visitors at once, then again right after a forced rotation: every
    answer is checked for a clean paragraph or a 12-character opening of one."""
    import datetime as dt

    from django.conf import settings
    from django.test import Client
    from django.utils import timezone

    from bench.gen_corpus import fill
    from fanwen.library.models import Article

    settings.FANWEN_PAGE_RATE_LIMIT = settings.FANWEN_PAGE_IP_RATE_LIMIT = 0
    started = time.perf_counter()
    fill(articles, seed=11)
    print(f"generated {articles} articles in {time.perf_counter() - started:.0f} s")
    chosen = list(Article.objects.published().order_by("?").prefetch_related("pieces")[:pages])
    real_now = timezone.now
    for label, shift in (("right after import", 0), ("right after a rotation", 1)):
        hours = shift * max(1, int(settings.FANWEN_FONT_ROTATION_HOURS))
        timezone.now = lambda hours=hours: real_now() + dt.timedelta(hours=hours)
        leaks = openings = 0
        times = []
        for article in chosen:
            began = time.perf_counter()
            html = Client().get(article.get_absolute_url()).content.decode()
            times.append(time.perf_counter() - began)
            paragraphs = [p for p in article.body_paragraphs() if len(p) >= 12]
            leaks += sum(p in html for p in paragraphs)
            openings += sum(p[:12] in html for p in paragraphs)
        times.sort()
        print(
            f"{label}: {len(chosen)} never-read articles, clean paragraphs {leaks}, "
            f"12-char openings {openings}; page p50 {statistics.median(times):.2f} s, "
            f"p95 {times[int(0.95 * (len(times) - 1))]:.2f} s (font built in the request)"
        )
    timezone.now = real_now


if __name__ == "__main__":
    main()
