"""How much of an article's body the phrase walker rebuilds from the /search page.

Prints, per article (demo articles, then generated ones), the searches used and the body
paragraphs (kind "p", ≥ 12 characters) of which a 12-character run was recovered, and the
worst share against the goal (< 10% with 100 searches). The walker is the one the tests
keep (src/fanwen/search/tests/phrase_walker.py); it reads the page through Django's test
client with the page and search limits off, so only what the page shows limits it.

Usage: .venv/bin/python bench/search_leak.py [--budget 100] [--demo 8] [--generated 6]
A fresh SQLite library in a temporary folder each run (demo + 200 generated articles).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL_SHARE = 0.10


def setup(var_dir: Path) -> None:
    os.environ["FANWEN_VAR_DIR"] = str(var_dir)
    os.environ.pop("DATABASE_URL", None)  # the benchmark owns its SQLite library
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanwen.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    settings.FANWEN_PAGE_RATE_LIMIT = settings.FANWEN_PAGE_IP_RATE_LIMIT = 0
    for name in ("FANWEN_SEARCH_RATE_LIMIT", "FANWEN_SEARCH_IP_RATE_LIMIT"):
        setattr(settings, name, 0)
    settings.FANWEN_PROTECTION = "js"  # no fonts to build: search does not depend on them


def build(generated: int) -> None:
    from django.core.management import call_command

    from bench.gen_corpus import fill
    from fanwen import search

    with redirect_stdout(StringIO()):
        call_command("demo", "--no-serve", verbosity=0)
        search.apply_outbox(limit=100_000)
        fill(generated, seed=5)
        # Generated articles are bulk-inserted past the outbox: one rebuild indexes them.
        call_command("search_reindex", "--no-progress", verbosity=0)


def targets(demo: int, generated: int):
    from fanwen.library.models import Article
    from fanwen.search.tests.phrase_walker import body_paragraphs

    articles = list(Article.objects.published().select_related("category"))
    chosen = []
    for is_generated, count in ((False, demo), (True, generated)):
        pool = [a for a in articles if a.source_key.startswith("gen:") == is_generated]
        # Longest bodies of different categories first: the most there is to rebuild.
        by_category: dict[int, Article] = {}
        for article in sorted(pool, key=lambda a: -len(body_paragraphs(a))):
            by_category.setdefault(article.category_id, article)
        chosen += [("generated" if is_generated else "demo", a) for a in by_category.values()][
            :count
        ]
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=100, help="searches per article")
    parser.add_argument("--demo", type=int, default=8, help="demo articles walked")
    parser.add_argument("--generated", type=int, default=6, help="generated articles walked")
    parser.add_argument("--library", type=int, default=200, help="generated articles loaded")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    with tempfile.TemporaryDirectory(prefix="fanwen-search-leak-") as folder:
        setup(Path(folder))
        started = time.monotonic()
        build(args.library)
        print(f"library built in {time.monotonic() - started:.0f}s")
        from django.core.cache import cache
        from django.test import Client

        from fanwen.search.tests.phrase_walker import page_fetcher, walk

        fetch = page_fetcher(Client())
        worst = 0.0
        print(f"{'kind':<10} {'searches':>8} {'recovered':>10} {'share':>7}  title")
        for kind, article in targets(args.demo, args.generated):
            cache.clear()  # the page cache and counters of one walk do not help the next
            result = walk(article, fetch, args.budget)
            worst = max(worst, result.share)
            found = f"{len(result.found)}/{len(result.paragraphs)}"
            print(
                f"{kind:<10} {result.searches:>8} {found:>10} {result.share:>6.0%}  {result.title}"
            )
        verdict = "ok" if worst < GOAL_SHARE else "FAIL"
        print(
            f"worst share {worst:.0%} (goal < {GOAL_SHARE:.0%} with {args.budget} searches): {verdict}"
        )


if __name__ == "__main__":
    main()
