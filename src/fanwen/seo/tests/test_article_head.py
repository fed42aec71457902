"""The head of an article page: JSON-LD, robots and the Baidu meta tags, the same for everyone."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from fanwen.library.tests.factories import make_article

pytestmark = pytest.mark.django_db

LD_BLOCK = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def head_of(html: str) -> str:
    return html.split("</head>", 1)[0]


def ld_nodes(html: str) -> dict[str, dict]:
    return {node["@type"]: node for node in map(json.loads, LD_BLOCK.findall(head_of(html)))}


def test_an_article_page_describes_the_article_and_its_breadcrumb(client, article, settings):
    settings.SITE_URL = "https://fanwen.example.cn"
    settings.FANWEN_COMPANY_NAME = "某某文化传媒有限公司"
    html = client.get(article.get_absolute_url()).content.decode()

    nodes = ld_nodes(html)
    entry = nodes["Article"]
    url = f"https://fanwen.example.cn/a/{article.pk}.html"
    assert entry["@context"] == "https://schema.org"
    assert entry["headline"] == article.display_title == "社区志愿服务工作总结(优秀3篇)"
    assert entry["url"] == entry["mainEntityOfPage"] == url
    # Beijing time with its offset (published 2024-03-01 18:30 UTC).
    assert entry["datePublished"] == "2024-03-02T02:30:00+08:00"
    assert entry["dateModified"].endswith("+08:00")
    assert entry["author"] == {
        "@type": "Organization",
        "name": settings.SITE_NAME,
        "url": "https://fanwen.example.cn/",
    }
    assert entry["publisher"] == {"@type": "Organization", "name": "某某文化传媒有限公司"}
    assert entry["articleSection"] == "年终总结"
    assert entry["inLanguage"] == "zh-CN"
    # The description comes from the free intro, never from a body paragraph.
    assert entry["description"].startswith("写总结要实事求是")
    assert "第1篇的开头" not in json.dumps(nodes, ensure_ascii=False)

    crumbs = nodes["BreadcrumbList"]["itemListElement"]
    assert [(c["position"], c["name"], c["item"]) for c in crumbs] == [
        (1, "网站首页", "https://fanwen.example.cn/"),
        (2, "工作总结", "https://fanwen.example.cn/c/zongjie/"),
        (3, "年终总结", "https://fanwen.example.cn/c/nianzhong/"),
        (4, "社区志愿服务工作总结(优秀3篇)", url),
    ]
    # The same trail the reader sees.
    visible = re.search(r'<nav class="crumbs".*?</nav>', html, re.S).group(0)
    names = re.findall(r">([^<>]+)</(?:a|span)>", visible)
    assert names == [c["name"] for c in crumbs]


def test_the_publisher_is_the_site_when_no_company_is_named(client, article, settings):
    settings.FANWEN_COMPANY_NAME = ""
    nodes = ld_nodes(client.get(article.get_absolute_url()).content.decode())
    assert nodes["Article"]["publisher"]["name"] == settings.SITE_NAME
    assert nodes["Article"]["url"] == f"http://testserver/a/{article.pk}.html"


def test_a_hostile_title_cannot_close_the_json_ld_block(client, year_end):
    hostile = make_article(
        year_end, title='总结</script><script>alert("x")</script>&<!--', pieces=1
    )
    html = client.get(hostile.get_absolute_url()).content.decode()

    head = head_of(html)
    assert "<script>alert" not in head
    # Exactly the two JSON-LD blocks open and close in the head, and they parse back.
    assert head.count("<script") == head.count("</script>") == 2
    nodes = ld_nodes(html)
    assert nodes["Article"]["headline"] == '总结</script><script>alert("x")</script>&<!--'
    assert nodes["BreadcrumbList"]["itemListElement"][-1]["name"] == nodes["Article"]["headline"]
    assert "\\u003C/script\\u003E" in head


def test_article_pages_forbid_snapshots_and_every_page_has_the_baidu_meta(client, article):
    article_html = client.get(article.get_absolute_url()).content.decode()
    assert head_of(article_html).count('<meta name="robots"') == 1
    assert '<meta name="robots" content="noarchive">' in head_of(article_html)
    for html in (article_html, client.get("/").content.decode()):
        head = head_of(html)
        assert '<meta name="applicable-device" content="pc,mobile">' in head
        assert '<meta http-equiv="Cache-Control" content="no-transform">' in head
        assert '<meta http-equiv="Cache-Control" content="no-siteapp">' in head
    # Lists may be snapshotted: only article pages carry the paid text.
    assert 'content="noarchive"' not in client.get("/").content.decode()


def test_the_head_is_the_same_for_a_buyer_a_crawler_claim_and_a_stranger(client, article, settings):
    settings.FANWEN_CRAWLER_VERIFY = False
    stranger = head_of(client.get(article.get_absolute_url()).content.decode())
    # Another browser with cookies of its own gets its own rendering, not another head.
    other = Client(HTTP_USER_AGENT="Mozilla/5.0 (compatible; Baiduspider/2.0)")
    other.cookies["fw_visitor"] = "someone"
    claimed = head_of(other.get(article.get_absolute_url()).content.decode())
    assert claimed == stranger
    assert 'type="application/ld+json"' in stranger


def test_json_ld_blocks_are_data_the_content_security_policy_leaves_alone(client, article):
    response = client.get(article.get_absolute_url())
    policy = response["Content-Security-Policy"]
    # script-src stays 'self' (no inline scripts run); ld+json is never executed, so no
    # hash or nonce is needed for it.
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("style-src")[0]
    assert 'type="application/ld+json"' in response.content.decode()
