"""Shared test data for the reading pages, made with the ORM (no importer, no demo)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.core.cache import cache
from django.utils import timezone

from fanwen.library.models import Article, Category, Piece

_seq = itertools.count(1)


def make_category(name: str, slug: str, parent: Category | None = None, **fields) -> Category:
    return Category.objects.create(name=name, slug=slug, parent=parent, **fields)


def piece_blocks(n: int) -> list[dict]:
    """Blocks in the shape of an imported work summary: headings 一、 (一) 1、 and paragraphs."""
    return [
        {"kind": "p", "text": f"第{n}篇的开头：今年以来，我们围绕服务群众这条主线开展工作。"},
        {"kind": "h1", "text": "一、主要做法"},
        {"kind": "h2", "text": "（一）健全工作机制"},
        {"kind": "p", "text": "成立工作小组，明确分工，每月召开一次例会，把任务落到每个人。"},
        {"kind": "h3", "text": "1、建立台账"},
        {"kind": "p", "text": "对照年初计划逐项建立台账，完成一项销号一项，做到心中有数。"},
        {"kind": "h1", "text": "二、存在的不足"},
        {"kind": "p", "text": f"第{n}篇的结尾：宣传还不够深入，下一步将在20__年继续改进。"},
    ]


def make_article(
    category: Category,
    title: str | None = None,
    pieces: int = 3,
    status: str = Article.Status.PUBLISHED,
    published_at: dt.datetime | None = None,
    **fields,
) -> Article:
    n = next(_seq)
    article = Article.objects.create(
        category=category,
        title=title or f"测试范文{n}",
        intro=fields.pop("intro", "写总结要实事求是、条理清楚。下面几篇范文供大家参考。"),
        editor_name=fields.pop("editor_name", "文心"),
        status=status,
        published_at=published_at or timezone.now() - dt.timedelta(minutes=n),
        piece_count=pieces,
        **fields,
    )
    for position in range(1, pieces + 1):
        Piece.objects.create(
            article=article,
            position=position,
            title=f"{article.title}篇{'一二三四五六七八九十'[position - 1]}",
            blocks=piece_blocks(position),
        )
    return article


@pytest.fixture(autouse=True)
def empty_cache():
    # The database rolls back after each test; the cached pages must go with it.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def summaries(db) -> Category:
    return make_category("工作总结", "zongjie", position=1)


@pytest.fixture
def year_end(summaries) -> Category:
    return make_category("年终总结", "nianzhong", parent=summaries, position=1)


@pytest.fixture
def essays(db) -> Category:
    return make_category("作文", "zuowen", position=2)


@pytest.fixture
def article(year_end) -> Article:
    return make_article(
        year_end,
        title="社区志愿服务工作总结",
        editor_name="笔尘",
        published_at=dt.datetime(2024, 3, 1, 18, 30, tzinfo=dt.UTC),
    )
