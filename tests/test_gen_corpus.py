"""bench/gen_corpus.py: deterministic, realistic-shaped benchmark articles written in bulk."""

from __future__ import annotations

import collections
import re
from contextlib import redirect_stdout
from datetime import timedelta
from io import StringIO

import pytest
from django.utils import timezone

from bench import corpus
from bench.gen_corpus import main
from fanwen.library.models import Article, Category, Piece

HEADING_PREFIX = {
    "h1": re.compile(r"^[一二三四五六七八九十]+、"),
    "h2": re.compile(r"^（[一二三四五六七八九十]+）"),
    "h3": re.compile(r"^\d+、"),
}


def run(*args: str) -> str:
    # The script's own entry, arguments and all; Django is already set up here.
    with redirect_stdout(StringIO()) as out:
        main(list(args))
    return out.getvalue()


def generated(seed: int) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(title, intro, [(piece title, text)]) of the generated articles of `seed`, by number."""
    articles = Article.objects.filter(source_key__startswith=f"gen:{seed}:").prefetch_related(
        "pieces"
    )
    ordered = sorted(articles, key=lambda a: int(a.source_key.rsplit(":", 1)[1]))
    return [(a.title, a.intro, [(p.title, p.text) for p in a.pieces.all()]) for a in ordered]


def test_the_same_seed_gives_the_same_articles_and_another_seed_does_not() -> None:
    first = list(corpus.generate(25, seed=7))
    assert first == list(corpus.generate(25, seed=7))
    other = list(corpus.generate(25, seed=8))
    assert [a.title for a in first] != [a.title for a in other]
    assert first[0].pieces != other[0].pieces


def test_a_continued_run_gives_the_same_articles_as_one_longer_run() -> None:
    assert list(corpus.generate(5, seed=7, start=10)) == list(corpus.generate(15, seed=7))[10:]


def test_generated_articles_have_the_shape_of_real_pages() -> None:
    articles = list(corpus.generate(300, seed=11))
    slugs = collections.Counter(a.category_slug for a in articles)
    assert set(slugs) == {slug for slug, _, _ in corpus.CATEGORY_MIX}
    kinds: collections.Counter[str] = collections.Counter()
    with_blanks = 0
    for article in articles:
        assert 2 <= len(article.pieces) <= 5
        assert article.title and article.title in article.intro
        for blocks in article.pieces:
            assert 5 <= len(blocks) <= 15
            size = sum(len(b["text"]) for b in blocks)
            # 申请书 are shorter; everything else is 1,500-3,000 characters, give or take a sentence.
            low = 800 if article.category_slug == "shenqingshu" else 1400
            assert low <= size <= 3500, (article.title, size)
            for block in blocks:
                kinds[block["kind"]] += 1
                if block["kind"] in HEADING_PREFIX:
                    assert HEADING_PREFIX[block["kind"]].match(block["text"]), block
                    assert len(block["text"]) <= 40
            text = "\n".join(b["text"] for b in blocks)
            with_blanks += bool(re.search(r"xx|XX|××|__|某某", text))
    assert {"p", "h1", "h2", "h3"} <= set(kinds)
    assert kinds["p"] > kinds["h1"] > kinds["h2"] > 0
    pieces = sum(len(a.pieces) for a in articles)
    # Placeholders are occasional: in some pieces, not in all.
    assert 0.1 * pieces < with_blanks < 0.9 * pieces


def test_to_text_writes_the_importers_plain_shape() -> None:
    article = corpus.generate_one(seed=3, index=0)
    text = corpus.to_text(article, editor="笔尘")
    lines = text.split("\n")
    assert lines[0] == article.title
    assert lines[1] == "小编:笔尘"
    assert f"{article.title}篇一" in lines
    assert f"{article.title}篇{corpus.cn_number(len(article.pieces))}" in lines
    assert article.pieces[0][0]["text"] in lines


@pytest.mark.django_db
def test_it_creates_n_published_articles_with_their_pieces() -> None:
    output = run("--articles", "30", "--seed", "3")
    assert "gen_corpus: 30 articles" in output and "articles/s" in output
    articles = Article.objects.filter(source_key__startswith="gen:3:")
    assert articles.count() == 30
    now = timezone.now()
    for article in articles.prefetch_related("pieces"):
        pieces = list(article.pieces.all())
        assert article.is_public
        assert now - timedelta(days=366) < article.published_at <= now
        assert article.piece_count == len(pieces)
        assert [p.position for p in pieces] == list(range(1, len(pieces) + 1))
        assert pieces[0].title == f"{article.title}篇一"
        assert all(p.text == "\n".join(b["text"] for b in p.blocks) for p in pieces)
        assert article.editor_name in corpus.EDITORS
    # The categories are the demo's, created when missing, with the tree intact.
    assert Category.objects.get(slug="gaozhong-zuowen").parent.slug == "zuowen"
    assert articles.values("category").distinct().count() >= 4
    assert len({a.view_count for a in articles}) > 5


@pytest.mark.django_db
def test_it_stores_the_placeholders_the_importer_would_find() -> None:
    run("--articles", "20", "--seed", "5")
    with_placeholders = Piece.objects.exclude(placeholders=[])
    assert with_placeholders.exists()
    for piece in with_placeholders:
        for ph in piece.placeholders:
            assert piece.text[ph["start"] : ph["end"]] == ph["text"]
            assert ph["kind"] in {"year", "date", "unit", "name", "number", "blank", "other"}


@pytest.mark.django_db
def test_two_runs_with_the_same_seed_write_identical_titles_and_text() -> None:
    run("--articles", "12", "--seed", "9")
    first = generated(9)
    run("--articles", "12", "--seed", "9", "--clear")
    assert generated(9) == first
    # And the database holds exactly what the generator yields.
    assert first == [
        (
            a.title,
            a.intro,
            [
                (a.piece_title(i), "\n".join(b["text"] for b in blocks))
                for i, blocks in enumerate(a.pieces)
            ],
        )
        for a in corpus.generate(12, seed=9)
    ]


@pytest.mark.django_db
def test_a_second_run_adds_the_next_articles_instead_of_repeating() -> None:
    run("--articles", "4", "--seed", "2")
    output = run("--articles", "3", "--seed", "2")
    assert "from #4" in output
    keys = sorted(Article.objects.values_list("source_key", flat=True))
    assert keys == sorted(f"gen:2:{i}" for i in range(7))
    assert [t for t, _, _ in generated(2)] == [a.title for a in corpus.generate(7, seed=2)]


@pytest.mark.django_db
def test_clear_deletes_generated_articles_only() -> None:
    category = Category.objects.create(name="通知", slug="tongzhi")
    kept = Article.objects.create(category=category, title="放假通知", source_key="demo:x/01.txt")
    Piece.objects.create(article=kept, position=1, blocks=[{"kind": "p", "text": "正文"}])
    run("--articles", "6", "--seed", "4")
    gen_piece = Piece.objects.filter(article__source_key__startswith="gen:").first()
    copy = Piece.objects.create(article=kept, position=2, duplicate_of=gen_piece)

    output = run("--articles", "0", "--seed", "4", "--clear")

    assert "cleared 6" in output
    assert list(Article.objects.all()) == [kept]
    assert kept.pieces.count() == 2
    copy.refresh_from_db()
    assert copy.duplicate_of_id is None
