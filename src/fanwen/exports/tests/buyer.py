"""A demo article bought by a real, paid order, and what its buyer copies and downloads.

The mark and render tests use these, so what they measure is what the site hands out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.http import HttpResponse
from django.test import Client

from fanwen.accounts.models import Visitor
from fanwen.accounts.visitors import set_visitor_cookie
from fanwen.exports.docx import build_docx
from fanwen.exports.text import article_text
from fanwen.library.demo.loader import load_demo
from fanwen.library.models import Article
from fanwen.orders.models import Order, Plan
from fanwen.orders.tests.fixtures import APPID, MCHID, make_order, settle

# A demo article in three pieces with headings: title, piece titles and long paragraphs.
DEMO_TITLE = "社区志愿服务活动总结"


@dataclass
class Purchase:
    article: Article
    order: Order
    browser: Client  # holds the buyer's visitor cookie

    def copied(self, piece: int | None = None) -> str:
        """What 复制全文 (or 复制本篇 of `piece`) puts on the clipboard: the server's marked text."""
        response = self.browser.post(
            f"/a/{self.article.pk}/text/", json.dumps({}), content_type="application/json"
        )
        assert response.status_code == 200, response.content
        data = response.json()
        if piece is None:
            return data["text"]
        return next(item["text"] for item in data["pieces"] if item["position"] == piece)

    def unmarked(self, piece: int | None = None) -> str:
        return article_text(self.article, piece_position=piece)

    def docx(self, piece: int | None = None) -> bytes:
        return build_docx(self.article, piece_position=piece, order_id=self.order.pk)


def paid_order(article: Article, visitor: Visitor | None = None) -> Order:
    Plan.objects.get_or_create(
        code=Plan.Code.ARTICLE_COPY,
        defaults={"name": "单篇复制/下载", "price_fen": 599, "list_price_fen": 1000},
    )
    order = make_order(
        visitor or Visitor.objects.create(),
        Plan.Code.ARTICLE_COPY,
        article,
        mchid=MCHID,
        appid=APPID,
    )
    settle(order)
    return Order.objects.get(pk=order.pk)


def demo_purchase(title: str = DEMO_TITLE) -> Purchase:
    """The demo library loaded, `title` bought and paid by a visitor whose browser is returned."""
    load_demo()
    article = Article.objects.get(title=title)
    visitor = Visitor.objects.create()
    response = HttpResponse()
    set_visitor_cookie(response, visitor)
    browser = Client()
    browser.cookies.update(response.cookies)
    order = paid_order(article, visitor)
    assert order.status == Order.Status.PAID
    return Purchase(article, order, browser)
