"""The paywall on the server: who gets the clean text, the DOCX, the page variants, the QR code."""

from __future__ import annotations

import io
import json
import unicodedata

import pytest
from django.http import HttpResponse
from django.test import Client
from docx import Document

from fanwen.accounts.models import Visitor
from fanwen.accounts.visitors import set_visitor_cookie
from fanwen.exports.docx import docx_text
from fanwen.exports.text import article_text
from fanwen.library.models import Article
from fanwen.library.tests.factories import empty_cache, make_article, make_category  # noqa: F401
from fanwen.orders.actions import do_complete_refund, do_refund
from fanwen.orders.models import Plan
from fanwen.orders.tests.fixtures import make_order, plans, settle  # noqa: F401  (fixtures)
from fanwen.protection import crawlers, fonts
from fanwen.protection.mark import find_marks, strip_marks
from fanwen.protection.models import PassUse


@pytest.fixture(autouse=True)
def font_dir(settings, tmp_path):
    settings.FANWEN_FONT_DIR = str(tmp_path / "fonts")
    settings.FANWEN_PROTECTION = "font"
    yield
    fonts.wait_for_builds()


@pytest.fixture
def category(db):
    return make_category("工作总结", "pw-zongjie")


@pytest.fixture
def doc(category, plans) -> Article:  # noqa: F811
    item = make_article(category, title="社区志愿服务工作总结", pieces=3)
    fonts.build_font(item)
    return item


def body_texts(article: Article) -> list[str]:
    return article.body_paragraphs()


def reader() -> tuple[Client, Visitor]:
    """A browser holding a new visitor's signed cookie."""
    visitor = Visitor.objects.create()
    response = HttpResponse()
    set_visitor_cookie(response, visitor)
    browser = Client()
    browser.cookies.update(response.cookies)
    return browser, visitor


def buy(visitor: Visitor, article: Article | None, plan: str = Plan.Code.ARTICLE_COPY):
    order = make_order(visitor, plan, article if plan == Plan.Code.ARTICLE_COPY else None)
    settle(order)
    order.refresh_from_db()
    return order


def text_of(client: Client, article: Article, **body) -> tuple[int, dict]:
    response = client.post(
        f"/a/{article.pk}/text/", json.dumps(body), content_type="application/json"
    )
    return response.status_code, response.json()


# --- the clean text ---


def test_a_new_visitor_gets_402_and_no_text(doc):
    status, body = text_of(Client(), doc)
    assert status == 402
    assert body["code"] == "PaymentRequired"
    assert not any(t in json.dumps(body, ensure_ascii=False) for t in body_texts(doc))


def test_a_buyer_gets_the_clean_text_with_the_mark_of_the_order(doc):
    browser, visitor = reader()
    order = buy(visitor, doc)
    status, body = text_of(browser, doc)
    assert status == 200
    assert strip_marks(body["text"]) == article_text(doc)
    assert find_marks(body["text"])[0][0] == order.pk
    first = body["pieces"][0]
    assert strip_marks(first["text"]) == article_text(doc, piece_position=1)
    assert body["paras"][doc.pieces.get(position=1).anchor][0] == body_texts(doc)[0]
    # The mark survives what a leaker does with the text.
    for form in ("NFC", "NFKC"):
        assert find_marks(unicodedata.normalize(form, body["text"]))[0][0] == order.pk


def test_a_buyer_of_another_article_gets_402(doc, category):
    other = make_article(category, title="另一篇总结", pieces=1)
    browser, visitor = reader()
    buy(visitor, other)
    assert text_of(browser, doc)[0] == 402


def test_a_refund_takes_the_right_back(doc):
    browser, visitor = reader()
    order = buy(visitor, doc)
    assert text_of(browser, doc)[0] == 200
    order = do_refund(order, reason="测试退款")
    do_complete_refund(order.out_refund_no, "SUCCESS")
    assert text_of(browser, doc)[0] == 402


def test_fill_values_reach_the_text_and_bad_ones_are_refused(doc):
    browser, visitor = reader()
    buy(visitor, doc)
    status, body = text_of(browser, doc)
    groups = body["fill_groups"]
    assert groups, "the test article has a 20__年 placeholder"
    key = groups[0]["key"]
    status, body = text_of(browser, doc, fill={key: "2025"})
    assert status == 200
    assert "2025年" in strip_marks(body["text"])
    assert "20__年" not in strip_marks(body["text"])
    assert text_of(browser, doc, fill="2025")[0] == 400
    assert text_of(browser, doc, fill={key: "x" * 500})[0] == 400
    assert text_of(browser, doc, piece=99)[0] == 400


def test_a_pass_has_a_daily_cap_counted_in_articles(doc, category, settings):
    settings.FANWEN_PASS_DAILY_CAP = 2
    others = [make_article(category, title=f"包月测试{i}", pieces=1) for i in range(2)]
    browser, visitor = reader()
    buy(visitor, None, Plan.Code.PASS_30D)
    assert text_of(browser, doc)[0] == 200
    assert text_of(browser, doc)[0] == 200  # the same article again is free
    assert text_of(browser, others[0])[0] == 200
    status, body = text_of(browser, others[1])
    assert status == 429
    assert body["code"] == "PassCapReached"
    assert "2篇" in body["message"]
    assert PassUse.objects.count() == 2


# --- the DOCX ---


def test_download_without_the_right_is_402(doc):
    response = Client().get(f"/a/{doc.pk}/download")
    assert response.status_code == 402
    assert "购买" in response.content.decode()


def test_a_buyer_downloads_a_docx_that_reads_back_the_article(doc):
    browser, visitor = reader()
    order = buy(visitor, doc)
    response = browser.get(f"/a/{doc.pk}/download")
    assert response.status_code == 302
    docx = browser.get(response["Location"])
    assert docx.status_code == 200
    assert "attachment" in docx["Content-Disposition"]
    data = docx.content
    Document(io.BytesIO(data))  # python-docx opens it
    assert strip_marks(docx_text(data)) == article_text(doc)
    assert find_marks(docx_text(data))[0][0] == order.pk


def test_download_links_are_signed_and_short_lived(doc, settings):
    browser, visitor = reader()
    buy(visitor, doc)
    url = browser.get(f"/a/{doc.pk}/download")["Location"]
    assert Client().get(url.replace(".docx", "x.docx")).status_code == 403
    assert Client().get("/dl/not-a-token.docx").status_code == 403
    settings.FANWEN_DOWNLOAD_URL_SECONDS = -1
    assert Client().get(url).status_code == 403


# --- the page variants ---


def test_a_new_visitor_gets_the_remapped_page(doc):
    html = Client().get(doc.get_absolute_url()).content.decode()
    assert 'data-variant="protected"' in html
    for text in body_texts(doc):
        assert text not in html
    assert "@font-face" in html
    # Titles and headings stay readable for everyone.
    assert "一、主要做法" in html


def test_a_buyer_gets_the_clean_page(doc):
    browser, visitor = reader()
    buy(visitor, doc)
    html = browser.get(doc.get_absolute_url()).content.decode()
    assert 'data-variant="clean"' in html
    assert all(text in html for text in body_texts(doc))
    # …and a new visitor still gets the remapped one, cached apart.
    assert body_texts(doc)[0] not in Client().get(doc.get_absolute_url()).content.decode()


def test_a_verified_crawler_gets_the_clean_page(doc, monkeypatch):
    monkeypatch.setattr(crawlers, "reverse_dns", lambda ip: "baiduspider-1-2-3-4.crawl.baidu.com")
    monkeypatch.setattr(crawlers, "forward_dns", lambda host: ["127.0.0.1"])
    spider = Client(HTTP_USER_AGENT="Mozilla/5.0 (compatible; Baiduspider/2.0)")
    html = spider.get(doc.get_absolute_url()).content.decode()
    assert all(text in html for text in body_texts(doc))


def test_a_forged_crawler_gets_the_remapped_page(doc, monkeypatch):
    monkeypatch.setattr(crawlers, "reverse_dns", lambda ip: "evil.example.com")
    monkeypatch.setattr(crawlers, "forward_dns", lambda host: ["127.0.0.1"])
    spider = Client(HTTP_USER_AGENT="Mozilla/5.0 (compatible; Baiduspider/2.0)")
    html = spider.get(doc.get_absolute_url()).content.decode()
    assert not any(text in html for text in body_texts(doc))


def test_the_js_level_sends_clean_text_and_no_font(doc, settings):
    settings.FANWEN_PROTECTION = "js"
    html = Client().get(doc.get_absolute_url()).content.decode()
    assert 'data-variant="open"' in html
    assert "@font-face" not in html
    assert body_texts(doc)[0] in html


def test_the_paywall_block_carries_the_server_prices(doc):
    html = Client().get(doc.get_absolute_url()).content.decode()
    assert "a.付费复制" in html and "b.包月复制" in html
    assert "特价<strong>5.99</strong>元" in html
    assert "原价10元" in html
    assert "已付款请点这里" in html and "联系客服" in html and "下载此文档" in html


# --- the QR code ---


def test_the_qr_code_is_drawn_only_for_payment_links():
    ok = Client().get("/qr.svg", {"d": "weixin://wxpay/bizpayurl?pr=abc123"})
    assert ok.status_code == 200
    assert ok["Content-Type"] == "image/svg+xml"
    assert b"<svg" in ok.content
    assert Client().get("/qr.svg", {"d": "https://evil.example.com/"}).status_code == 400
    assert Client().get("/qr.svg", {"d": "weixin://" + "x" * 600}).status_code == 400
    # The sandbox payer pages, WeChat's and Alipay's, stand in for the providers' links.
    for page in ("/sandbox/pay/abc/", "/sandbox/alipay/pay/abc/"):
        assert Client().get("/qr.svg", {"d": "http://127.0.0.1:8000" + page}).status_code == 200
    assert Client().get("/qr.svg", {"d": "http://127.0.0.1:8000/sandbox/other/"}).status_code == 400


def test_a_buyers_clean_page_comes_from_the_fast_path_until_the_right_changes(doc):
    from fanwen.library import fastpath
    from fanwen.library.tests.test_fastpath import Inner, call, environ_for

    browser, visitor = reader()
    order = buy(visitor, doc)
    html = browser.get(doc.get_absolute_url()).content.decode()  # Django finds the right
    assert 'data-variant="clean"' in html
    cookie = "; ".join(f"{m.key}={m.coded_value}" for m in browser.cookies.values())
    inner = Inner()
    status, _, body = call(
        fastpath.wrap(inner), environ_for(doc.get_absolute_url(), HTTP_COOKIE=cookie)
    )
    assert (status, inner.calls) == ("200 OK", 0)
    assert body_texts(doc)[0] in body.decode()
    # A refund drops the remembered right: the next page is Django's to decide.
    order = do_refund(order, reason="测试退款")
    do_complete_refund(order.out_refund_no, "SUCCESS")
    status, _, _ = call(
        fastpath.wrap(inner), environ_for(doc.get_absolute_url(), HTTP_COOKIE=cookie)
    )
    assert inner.calls == 1
    # A forged cookie never reaches the clean page.
    forged = cookie.replace(str(visitor.pk)[:8], "00000000")
    call(fastpath.wrap(inner), environ_for(doc.get_absolute_url(), HTTP_COOKIE=forged))
    assert inner.calls == 2
