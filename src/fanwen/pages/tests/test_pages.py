"""用户协议, 隐私政策, 退款说明 and 关于我们: there from the start, edited by staff as plain text,
linked from every page's footer and from where buyers pay; the footer carries the operator's
name and 备案 numbers when they are set."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fanwen.library.tests.factories import make_article
from fanwen.pages.models import SitePage

pytestmark = pytest.mark.django_db
TRUST = {"terms": "用户协议", "privacy": "隐私政策", "refunds": "退款说明", "about": "关于我们"}


@pytest.mark.parametrize("slug", sorted(TRUST))
def test_each_trust_page_is_there_from_the_start(client, slug):
    response = client.get(f"/info/{slug}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"<h1>{TRUST[slug]}</h1>" in html
    assert html.count("<h2>") >= 2 and html.count("<p>") >= 3


def test_an_unknown_page_is_404(client):
    assert client.get("/info/no-such-page/").status_code == 404


def test_staff_edit_a_page_as_plain_text_and_readers_see_it(admin_client, client):
    page = SitePage.objects.get(slug="refunds")
    url = reverse("admin:pages_sitepage_change", args=[page.pk])
    form = admin_client.get(url).content.decode()
    assert 'name="slug"' not in form, "an existing page keeps its address"
    body = "退款时限\n付款后 15 天内可申请退款，请提供订单号。"
    response = admin_client.post(url, {"title": "退款说明", "body": body})
    assert response.status_code == 302
    html = client.get("/info/refunds/").content.decode()
    assert "<h2>退款时限</h2>" in html and "<p>付款后 15 天内可申请退款，请提供订单号。</p>" in html


def test_the_footer_links_the_trust_pages_and_shows_the_filings_when_set(settings, client):
    settings.FANWEN_COMPANY_NAME = "某某文化传媒有限公司"
    settings.FANWEN_ICP_BEIAN = "京ICP备12345678号-1"
    settings.FANWEN_GONGAN_BEIAN = "京公网安备11010502000001号"
    html = client.get("/").content.decode()
    for slug, name in TRUST.items():
        assert f'<a href="/info/{slug}/">{name}</a>' in html
    assert "某某文化传媒有限公司" in html
    assert 'href="https://beian.miit.gov.cn/"' in html and "京ICP备12345678号-1" in html
    assert "code=11010502000001" in html and "京公网安备11010502000001号" in html


def test_without_filings_the_footer_shows_none(settings, client):
    settings.FANWEN_ICP_BEIAN = settings.FANWEN_GONGAN_BEIAN = ""
    html = client.get("/").content.decode()
    assert "beian" not in html and "ICP" not in html


def test_the_paywall_links_the_terms_and_the_refund_rules(client, summaries):
    article = make_article(summaries, "年度工作总结")
    html = client.get(article.get_absolute_url()).content.decode()
    assert 'href="/info/terms/"' in html and 'href="/info/refunds/"' in html
    assert "付款即表示同意" in html
