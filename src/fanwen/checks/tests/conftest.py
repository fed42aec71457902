"""Libraries to check drafts against, each with a search index of its own test."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from fanwen.checks import matching
from fanwen.library.models import Article, Category, Piece
from fanwen.search.tests.fixtures import *  # noqa: F403  (own_search_index)


@pytest.fixture(autouse=True)
def fresh_state(own_search_index):
    # Rate-limit counters live in the shared locmem cache; the 3-gram cache is per process
    # and keyed by article id, which a rolled-back database hands out again.
    cache.clear()
    matching.clear_cache()
    yield
    cache.clear()
    matching.clear_cache()


def reindex() -> None:
    call_command("search_reindex", "--no-progress", stdout=open("/dev/null", "w"))


def write_article(category: Category, title: str, *paragraphs: str) -> Article:
    article = Article.objects.create(
        category=category,
        title=title,
        status=Article.Status.PUBLISHED,
        published_at=timezone.now() - dt.timedelta(hours=1),
        piece_count=1,
    )
    blocks = [{"kind": "p", "text": text} for text in paragraphs]
    Piece.objects.create(article=article, position=1, blocks=blocks, text="\n".join(paragraphs))
    return article


SAFETY = (
    "今年以来，我们坚持把安全生产摆在突出位置，层层签订目标责任书，全年未发生一起责任事故。",
    "针对老旧厂房电线私拉乱接的问题，组织电工逐栋排查，更换老化线路一千二百米。",
    "这是付费正文里的一句话，报告不应该把它交给买家看见。",
)
VOLUNTEER = (
    "社区志愿服务队每月开展两次环境整治活动，清理卫生死角四十余处。",
    "我们为辖区八十岁以上的独居老人建立了联系卡，志愿者每周上门探访一次。",
)


@pytest.fixture
def small_library(db) -> dict[str, Article]:
    """Two short published articles (and a hidden one) in the index."""
    category = Category.objects.create(name="工作总结", slug="zongjie")
    safety = write_article(category, "安全生产工作总结", *SAFETY)
    volunteer = write_article(category, "社区志愿服务总结", *VOLUNTEER)
    hidden = write_article(
        category, "已隐藏的总结", "这篇文章已经隐藏起来了，检测时不应该作为来源出现在报告里。"
    )
    reindex()
    Article.objects.filter(pk=hidden.pk).update(status=Article.Status.HIDDEN)
    return {"safety": safety, "volunteer": volunteer, "hidden": hidden}
