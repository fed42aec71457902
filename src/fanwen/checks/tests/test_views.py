"""/check/: a check's result, the free checks a day and the pass, uploads, kept reports, and
that nothing of a draft is stored or logged unless the buyer keeps a report."""

from __future__ import annotations

import datetime as dt
import io
import logging
import re

import pytest
from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from django.utils import timezone

from fanwen.accounts.models import Visitor
from fanwen.accounts.visitors import set_visitor_cookie
from fanwen.checks.models import KeptReport
from fanwen.checks.tests.conftest import SAFETY, VOLUNTEER
from fanwen.checks.tests.testset import FRESH_SENTENCES
from fanwen.orders.models import Entitlement

CHECK = "/check/"
# The buyer's own sentence: written for this test, found nowhere in the library.
OWN = "我们车间今年新招了十二名学徒，由八位老师傅一对一带教，三个月后全部通过了岗位考核。"


def draft_with_a_copied_sentence() -> str:
    # SAFETY[1] with two characters changed, and two sentences of the buyer's own.
    copied = SAFETY[1].replace("逐栋", "逐个").replace("老化", "破旧")
    return f"{OWN}{copied}\n{FRESH_SENTENCES[0]}"


def as_browser_of(client, visitor: Visitor):
    response = HttpResponse()
    set_visitor_cookie(response, visitor)
    name = settings.FANWEN_VISITOR_COOKIE
    client.cookies[name] = response.cookies[name].value
    return client


def test_the_page_has_the_form_and_the_footer_links_it(client, db):
    page = client.get(CHECK)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="draft"' in html and 'type="file"' in html and 'name="keep"' in html
    assert "今日还可免费检测 <strong>3</strong> 次" in html
    assert page["Cache-Control"] == "private, no-store"
    assert '<a href="/check/">原创度检测</a>' in client.get("/").content.decode()


def test_a_copied_sentence_is_marked_and_links_its_article(client, small_library):
    page = client.post(CHECK, {"draft": draft_with_a_copied_sentence()})
    assert page.status_code == 200
    html = page.content.decode()
    safety = small_library["safety"]
    # 1 of 3 sentences.
    assert 'id="ck-share">33%<' in html
    hits = re.findall(r'<a class="ck-hit" href="([^"]+)"[^>]*><mark>([^<]+)</mark>', html)
    copied = draft_with_a_copied_sentence().split("\n")[0][len(OWN) :]
    assert hits == [(f"/a/{safety.pk}.html", copied)]
    assert (
        f'<a href="/a/{safety.pk}.html" target="_blank" rel="noopener">安全生产工作总结</a>' in html
    )
    # The buyer sees their own words, never the library's: neither the copied sentence as
    # the library has it nor the article's other sentences.
    assert SAFETY[1] not in html and SAFETY[0] not in html and SAFETY[2] not in html


def test_fresh_text_and_hidden_articles_match_nothing(client, small_library):
    hidden_text = "这篇文章已经隐藏起来了，检测时不应该作为来源出现在报告里。"
    html = client.post(CHECK, {"draft": FRESH_SENTENCES[1] + hidden_text}).content.decode()
    assert 'id="ck-share">0%<' in html and "ck-hit" not in html


def test_nothing_of_the_draft_is_stored_or_logged(client, small_library, caplog):
    marker = OWN
    caplog.set_level(logging.DEBUG)
    page = client.post(CHECK, {"draft": draft_with_a_copied_sentence()})
    assert page.status_code == 200 and marker in page.content.decode()
    assert not KeptReport.objects.exists()
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                assert marker[:12] not in repr(row), table
    assert all(marker[:12] not in record.getMessage() for record in caplog.records)


def test_three_free_checks_a_day_then_the_pass(client, small_library):
    draft = {"draft": draft_with_a_copied_sentence()}
    for left in (2, 1, 0):
        page = client.post(CHECK, draft)
        assert page.status_code == 200
        assert f"今日还可免费检测 <strong>{left}</strong> 次" in page.content.decode()
    page = client.post(CHECK, draft)
    assert page.status_code == 429
    assert "免费检测已用完" in page.content.decode() and "ck-result" not in page.content.decode()
    # A browser with a running 30-day pass checks on.
    visitor = Visitor.objects.create()
    now = timezone.now()
    Entitlement.objects.create(
        visitor=visitor,
        kind=Entitlement.Kind.PASS,
        starts_at=now - dt.timedelta(days=1),
        ends_at=now + dt.timedelta(days=29),
    )
    as_browser_of(client, visitor)
    for _ in range(3):
        page = client.post(CHECK, draft)
        assert page.status_code == 200 and "ck-result" in page.content.decode()
        assert "包月有效期内，不限次数检测" in page.content.decode()


def test_an_expired_pass_counts_as_none(client, small_library):
    visitor = Visitor.objects.create()
    now = timezone.now()
    Entitlement.objects.create(
        visitor=visitor,
        kind=Entitlement.Kind.PASS,
        starts_at=now - dt.timedelta(days=31),
        ends_at=now - dt.timedelta(days=1),
    )
    as_browser_of(client, visitor)
    codes = [client.post(CHECK, {"draft": OWN}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_a_draft_that_cannot_be_checked_costs_no_free_check(client, small_library):
    assert client.post(CHECK, {"draft": "  \n "}).status_code == 400
    long = client.post(CHECK, {"draft": "字" * 10_001})
    assert long.status_code == 400 and "每次最多检测 10,000 字符" in long.content.decode()
    page = client.get(CHECK)
    assert "今日还可免费检测 <strong>3</strong> 次" in page.content.decode()


def test_a_gbk_text_file_is_read_like_an_import(client, small_library):
    data = f"{VOLUNTEER[0]}\r\n{OWN}\r\n".encode("gb18030")
    upload = io.BytesIO(data)
    upload.name = "稿件.txt"
    html = client.post(CHECK, {"draft": "", "file": upload}).content.decode()
    assert 'id="ck-share">50%<' in html
    assert f'href="/a/{small_library["volunteer"].pk}.html"' in html


def test_a_word_document_is_read(client, small_library):
    import docx

    document = docx.Document()
    document.add_paragraph(OWN)
    document.add_paragraph(SAFETY[0])
    out = io.BytesIO()
    document.save(out)
    out.seek(0)
    out.name = "稿件.docx"
    html = client.post(CHECK, {"file": out}).content.decode()
    assert 'id="ck-share">50%<' in html
    assert f'href="/a/{small_library["safety"].pk}.html"' in html


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("old.doc", b"\xd0\xcf\x11\xe0 old word", "不支持旧版 Word"),
        ("page.pdf", b"%PDF-1.4", "只能上传 .txt 或 .docx 文件"),
        ("broken.docx", b"PK\x03\x04 not really", "不是有效的 .docx 文件"),
    ],
)
def test_other_files_are_refused_with_a_reason(client, small_library, name, data, reason):
    upload = io.BytesIO(data)
    upload.name = name
    page = client.post(CHECK, {"file": upload})
    assert page.status_code == 400 and reason in page.content.decode()


def test_a_kept_report_has_a_private_link_until_deleted(client, small_library):
    page = client.post(CHECK, {"draft": draft_with_a_copied_sentence(), "keep": "1"})
    assert page.status_code == 302
    kept = KeptReport.objects.get()
    assert page["Location"] == f"/check/r/{kept.token}/" and len(kept.token) >= 24
    report = client.get(page["Location"])
    html = report.content.decode()
    assert report.status_code == 200 and 'id="ck-share">33%<' in html and OWN in html
    assert report["Referrer-Policy"] == "same-origin" and "noindex" in report["X-Robots-Tag"]
    assert client.get(f"/check/r/{kept.token[:-1]}x/").status_code == 404
    deleted = client.post(f"/check/r/{kept.token}/delete/")
    assert deleted.status_code == 302 and not KeptReport.objects.exists()
    assert client.get(page["Location"]).status_code == 404


def test_a_report_past_its_days_is_gone(client, small_library, settings):
    client.post(CHECK, {"draft": OWN, "keep": "1"})
    kept = KeptReport.objects.get()
    KeptReport.objects.filter(pk=kept.pk).update(
        created_at=timezone.now() - dt.timedelta(days=settings.FANWEN_CHECK_REPORT_DAYS + 1)
    )
    assert client.get(kept.get_absolute_url()).status_code == 404
    assert not KeptReport.objects.exists()


def test_an_upload_past_the_size_limit_is_refused_without_being_kept(client, small_library):
    from fanwen.checks.drafts import MAX_UPLOAD_BYTES

    upload = io.BytesIO(b"a" * (MAX_UPLOAD_BYTES + 1))
    upload.name = "big.txt"
    page = client.post(CHECK, {"file": upload})
    assert page.status_code == 400 and "文件过大" in page.content.decode()


def test_the_form_needs_its_csrf_token(small_library):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    assert browser.post(CHECK, {"draft": OWN}).status_code == 403
    page = browser.get(CHECK)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    assert browser.post(CHECK, {"draft": OWN, "csrfmiddlewaretoken": token}).status_code == 200


def test_a_pass_held_by_the_logged_in_account_counts_in_any_browser(client, small_library):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("buyer", password="x-long-password-1")
    now = timezone.now()
    Entitlement.objects.create(
        user=user,
        kind=Entitlement.Kind.PASS,
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(days=30),
    )
    client.force_login(user)
    codes = [client.post(CHECK, {"draft": OWN}).status_code for _ in range(5)]
    assert codes == [200] * 5


def test_without_a_search_index_the_result_says_it_may_be_low(client, small_library, settings):
    settings.SEARCH_BACKENDS["default"]["OPTIONS"]["path"] += "-elsewhere"
    from fanwen.search.backends import backends

    backends.reset()
    html = client.post(CHECK, {"draft": draft_with_a_copied_sentence()}).content.decode()
    assert "未能与整个范文库比对" in html


def test_a_client_rotating_forwarded_ips_headers_and_cookies_gets_three_checks(small_library):
    from django.test import Client

    draft = {"draft": draft_with_a_copied_sentence()}
    answered = []
    for n in range(20):
        # A new cookie jar, a forged proxy chain and another browser name every time.
        attacker = Client(
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.{n}",
            HTTP_X_REAL_IP=f"192.0.2.{n}",
            HTTP_USER_AGENT=f"Mozilla/5.0 probe/{n}",
        )
        answered.append(attacker.post(CHECK, draft).status_code)
    assert answered.count(200) == 3 and answered.count(429) == 17
