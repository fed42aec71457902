"""Fill the database with generated articles for benchmarks and tests (bench/corpus.py).

    python bench/gen_corpus.py --articles N --seed S [--batch B] [--clear]

runs against the database the environment names (FANWEN_VAR_DIR, DATABASE_URL), like
`fanwen`; scripts and tests with Django set up call fill() instead.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.corpus import GenArticle, generate, meta_for  # noqa: E402

PREFIX = "gen:"
# Every placeholder the generator writes contains one of these; other texts skip the scan.
BLANK_CHARS = frozenset("xX×_某")


def clear_generated() -> int:
    """Delete every generated article and its pieces; returns how many articles went."""
    from fanwen.library.models import Article, Piece

    gen_articles = Article.objects.filter(source_key__startswith=PREFIX)
    count = gen_articles.count()
    if not count:
        return 0
    with transaction.atomic():
        # Pieces elsewhere flagged as copies of generated ones keep living, unflagged.
        Piece.objects.filter(duplicate_of__article__source_key__startswith=PREFIX).exclude(
            article__source_key__startswith=PREFIX
        ).update(duplicate_of=None)
        # Plain DELETEs: the ORM's cascade would load every row to send delete signals,
        # which takes minutes and gigabytes for 100k articles. Other tables that point at
        # an article still stop this with an integrity error instead of being left dangling.
        piece_table = connection.ops.quote_name(Piece._meta.db_table)
        article_table = connection.ops.quote_name(Article._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {piece_table} WHERE article_id IN "
                f"(SELECT id FROM {article_table} WHERE source_key LIKE %s)",
                [PREFIX + "%"],
            )
            cursor.execute(f"DELETE FROM {article_table} WHERE source_key LIKE %s", [PREFIX + "%"])
    return count


def write_batch(batch: list[tuple[int, GenArticle]], seed: int, categories: dict, now) -> int:
    """Insert one batch of articles and their pieces; returns the number of pieces."""
    from fanwen.library.importer.placeholders import find_placeholders
    from fanwen.library.models import Article, Piece

    articles = []
    for index, gen in batch:
        meta = meta_for(seed, index)
        articles.append(
            Article(
                category=categories[gen.category_slug],
                title=gen.title,
                intro=gen.intro,
                editor_name=meta.editor,
                source_format=Article.SourceFormat.DOCX,
                source_key=f"{PREFIX}{seed}:{index}",
                status=Article.Status.PUBLISHED,
                published_at=now - timedelta(seconds=meta.age_seconds),
                piece_count=len(gen.pieces),
                view_count=meta.view_count,
            )
        )
    pieces = []
    with transaction.atomic():
        # bulk_create fills in the primary keys on SQLite and PostgreSQL (RETURNING).
        Article.objects.bulk_create(articles)
        for article, (_, gen) in zip(articles, batch, strict=True):
            for position, blocks in enumerate(gen.pieces, start=1):
                text = "\n".join(block["text"] for block in blocks)
                # The same placeholder records the importer stores, so fill-in forms work;
                # no near-duplicate signature (simhash 0): generated text never matches.
                has_blanks = not BLANK_CHARS.isdisjoint(text)
                pieces.append(
                    Piece(
                        article_id=article.pk,
                        position=position,
                        title=gen.piece_title(position - 1),
                        blocks=blocks,
                        text=text,
                        placeholders=find_placeholders(text) if has_blanks else [],
                    )
                )
        Piece.objects.bulk_create(pieces)
    return len(pieces)


def fill(articles: int, seed: int = 1, *, batch: int = 1000, clear: bool = False) -> str:
    """Add `articles` generated articles of `seed` (continuing a previous run's numbering, so
    10k then 90k more gives the same library as 100k at once); returns a one-line summary."""
    from fanwen.library import pagecache
    from fanwen.library.demo.loader import ensure_categories
    from fanwen.library.models import Article

    if articles < 0 or batch < 1:
        raise ValueError("--articles must be >= 0 and --batch >= 1")
    cleared_note = ""
    if clear:
        clear_started = time.perf_counter()
        cleared = clear_generated()
        cleared_note = f", cleared {cleared} in {time.perf_counter() - clear_started:.1f}s"
    started = time.perf_counter()
    categories = ensure_categories()
    start = Article.objects.filter(source_key__startswith=f"{PREFIX}{seed}:").count()
    now = timezone.now()
    made = pieces = 0
    stream = enumerate(generate(articles, seed, start), start=start)
    while chunk := list(islice(stream, batch)):
        pieces += write_batch(chunk, seed, categories, now)
        made += len(chunk)
    # Bulk writes send no save signals: tell the page cache once.
    pagecache.purge_all()
    elapsed = time.perf_counter() - started
    rate = made / elapsed if elapsed else 0.0
    return (
        f"gen_corpus: {made} articles ({pieces} pieces) seed={seed} from #{start} "
        f"in {elapsed:.1f}s, {rate:.0f} articles/s{cleared_note}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="生成形似真实范文的文章用于基准测试 / generate realistic-shaped articles "
        "for benchmarks (deterministic: same --seed, same text)"
    )
    parser.add_argument("--articles", type=int, default=1000, help="how many to add")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=1000, help="articles per transaction")
    parser.add_argument(
        "--clear", action="store_true", help="first delete all generated (gen:) articles"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanwen.settings")
    import django

    django.setup()
    try:
        print(fill(args.articles, args.seed, batch=args.batch, clear=args.clear))
    except ValueError as exc:
        parser.error(str(exc))


if __name__ == "__main__":
    main()
