import io
import random
import unicodedata

import docx
import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fanwen.accounts.models import Visitor
from fanwen.exports.docx import build_docx
from fanwen.exports.tests.buyer import demo_purchase
from fanwen.exports.text import article_text, title_line_numbers
from fanwen.library.models import Article
from fanwen.library.tests.factories import make_article, make_category
from fanwen.orders.models import Order, Plan
from fanwen.orders.tests.fixtures import APPID, MCHID, make_order, settle
from fanwen.protection import staff_views
from fanwen.protection.mark import ALPHABET, embed_mark, find_marks, strip_marks

pytestmark = pytest.mark.django_db
URL = "/staff/mark/"


@pytest.fixture
def staff_client(client):
    # No password: hashing one costs most of a second per test.
    kefu = get_user_model().objects.create_user("kefu", is_staff=True)
    client.force_login(kefu)
    return client


@pytest.fixture
def essay(db) -> Article:
    return make_article(
        make_category("工作总结", "zongjie"), title="社区志愿服务工作总结", pieces=3
    )


def paid_order(article: Article) -> Order:
    Plan.objects.get_or_create(
        code=Plan.Code.ARTICLE_COPY,
        defaults={"name": "单篇复制/下载", "price_fen": 599, "list_price_fen": 1000},
    )
    order = make_order(
        Visitor.objects.create(), Plan.Code.ARTICLE_COPY, article, mchid=MCHID, appid=APPID
    )
    settle(order)
    return Order.objects.get(pk=order.pk)


@pytest.fixture
def leaker(essay) -> Order:
    return paid_order(essay)


@pytest.fixture
def other_buyer(essay) -> Order:
    return paid_order(essay)


def test_the_url_is_the_staff_mark_page():
    assert reverse("protection_staff:mark_lookup") == URL


def test_pasted_text_names_the_order_that_bought_it(staff_client, leaker, other_buyer):
    copied = embed_mark(article_text(leaker.article), leaker.pk)
    # What turns up elsewhere is usually an excerpt, re-wrapped with Windows line ends.
    excerpt = copied[300:900].replace("\n", "\r\n")
    response = staff_client.post(URL, {"text": excerpt})
    page = response.content.decode()
    assert response.status_code == 200
    assert [found.order_id for found in response.context["results"]] == [leaker.pk]
    assert leaker.out_trade_no in page and other_buyer.out_trade_no not in page
    assert "5.99元" in page and "已支付" in page
    assert str(leaker.visitor_id) in page
    assert reverse("admin:orders_order_change", args=[leaker.pk]) in page


def test_an_uploaded_docx_names_its_order(staff_client, leaker, other_buyer):
    data = build_docx(leaker.article, piece_position=2, order_id=leaker.pk)
    upload = SimpleUploadedFile("范文.docx", data)
    response = staff_client.post(URL, {"text": "", "document": upload})
    assert [found.order_id for found in response.context["results"]] == [leaker.pk]
    found = response.context["results"][0]
    assert found.in_document and found.marks_in_text == 0
    assert leaker.out_trade_no in response.content.decode()


def test_text_without_marks_says_so(staff_client, leaker):
    response = staff_client.post(URL, {"text": article_text(leaker.article)})
    assert response.context["results"] == []
    assert "没有找到标记" in response.content.decode()


def test_a_valid_mark_of_an_order_that_is_gone_is_reported_as_such(staff_client, essay):
    response = staff_client.post(URL, {"text": embed_mark(article_text(essay), 999_999)})
    assert [found.order_id for found in response.context["results"]] == [999_999]
    assert "数据库里没有这笔订单" in response.content.decode()


def test_a_garbage_upload_gets_a_message_not_an_error(staff_client):
    upload = SimpleUploadedFile("leak.docx", b"PK\x03\x04 definitely not a zip")
    response = staff_client.post(URL, {"document": upload})
    assert response.status_code == 200
    assert response.context["results"] is None
    assert "不是有效的 .docx 文件" in response.content.decode()


def test_an_oversized_upload_is_refused(staff_client, monkeypatch):
    monkeypatch.setattr(staff_views, "MAX_UPLOAD_BYTES", 1024)
    upload = SimpleUploadedFile("big.docx", b"x" * 2048)
    response = staff_client.post(URL, {"document": upload})
    assert response.context["results"] is None
    assert "文件太大" in response.content.decode()


def test_an_empty_form_asks_for_something(staff_client):
    response = staff_client.post(URL, {"text": "   "})
    assert response.context["results"] is None
    assert "请粘贴文字" in response.content.decode()


def test_the_page_is_for_staff_only(client, leaker):
    text = embed_mark(article_text(leaker.article), leaker.pk)
    anonymous = client.post(URL, {"text": text})
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    client.force_login(get_user_model().objects.create_user("alice"))
    for response in (client.get(URL), client.post(URL, {"text": text})):
        assert response.status_code == 403
        assert leaker.out_trade_no.encode() not in response.content


def test_staff_see_the_form(staff_client):
    response = staff_client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'enctype="multipart/form-data"' in page and "查找购买标记" in page
    assert response.context["results"] is None


def test_a_docx_without_its_property_is_still_traced_by_its_text(staff_client, leaker):
    document = docx.Document(io.BytesIO(build_docx(leaker.article, order_id=leaker.pk)))
    document.part.package.rels.pop(
        next(
            rid
            for rid, rel in document.part.package.rels.items()
            if rel.reltype.endswith("/custom-properties")
        )
    )
    buffer = io.BytesIO()
    document.save(buffer)
    response = staff_client.post(URL, {"document": SimpleUploadedFile("a.docx", buffer.getvalue())})
    assert [found.order_id for found in response.context["results"]] == [leaker.pk]


def visible_window(marked: str, start: int, length: int) -> str:
    """`length` visible characters of `marked` from visible position `start`, marks inside kept."""
    positions = [index for index, char in enumerate(marked) if char not in ALPHABET]
    return marked[positions[start] : positions[start + length - 1] + 1]


@pytest.mark.parametrize("form", ["NFC", "NFKC"])
def test_any_200_characters_of_a_bought_demo_article_name_its_order(staff_client, form):
    purchase = demo_purchase()
    copied = purchase.copied()
    assert strip_marks(copied) == purchase.unmarked()
    body_start = len("\n".join(purchase.unmarked().split("\n")[:2])) + 1
    visible = len(purchase.unmarked())
    for start in range(body_start, visible - 200 + 1):
        excerpt = unicodedata.normalize(form, visible_window(copied, start, 200))
        assert [order_id for order_id, _count in find_marks(excerpt)] == [purchase.order.pk], start
    # And through the staff page, for a few excerpts taken anywhere, re-wrapped on Windows.
    for start in random.Random(form).sample(range(body_start, visible - 200 + 1), 3):
        excerpt = unicodedata.normalize(form, visible_window(copied, start, 200))
        response = staff_client.post(URL, {"text": excerpt.replace("\n", "\r\n")})
        assert [found.order_id for found in response.context["results"]] == [purchase.order.pk]
        assert purchase.order.out_trade_no in response.content.decode()


def test_the_copied_titles_carry_no_mark():
    purchase = demo_purchase()
    lines = purchase.copied().split("\n")
    titles = title_line_numbers(purchase.article)
    assert len(titles) >= 2  # the article's title and its piece titles
    for number in titles:
        assert not set(lines[number]) & set(ALPHABET), lines[number]
