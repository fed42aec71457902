"""Every search test gets an index of its own (the database rolls back; the index would not)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fanwen.library.models import Article, Category, Piece
from fanwen.search.tests.fixtures import *  # noqa: F403  (own_search_index)


@pytest.fixture(autouse=True)
def search_index(own_search_index):
    return own_search_index


@pytest.fixture
def category(db) -> Category:
    return Category.objects.create(name="工作总结", slug="zongjie")


def write_article(
    category: Category,
    title: str,
    *paragraphs: str,
    status: str = Article.Status.PUBLISHED,
    published_at: dt.datetime | None = None,
    intro: str = "",
) -> Article:
    """An article of one piece whose blocks are `paragraphs` (headings given as h1:… or h2:…)."""
    article = Article.objects.create(
        category=category,
        title=title,
        intro=intro,
        status=status,
        published_at=published_at or timezone.now() - dt.timedelta(hours=1),
        piece_count=1,
    )
    blocks = [
        {"kind": text[:2], "text": text[3:]}
        if text[:3] in ("h1:", "h2:", "h3:")
        else {"kind": "p", "text": text}
        for text in paragraphs
    ]
    Piece.objects.create(
        article=article,
        position=1,
        blocks=blocks,
        text="\n".join(block["text"] for block in blocks),
    )
    return article
