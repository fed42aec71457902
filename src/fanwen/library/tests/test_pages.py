"""The reading pages: home, category, article, 404, robots and sitemap, and the page cache."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from fanwen.library.models import Article, Piece
from fanwen.library.tests.factories import make_article, make_category

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    """The page's visible text, tags stripped and whitespace collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", html).replace("&gt;", ">").replace("&lt;", "<")
    return " ".join(text.split())


def canonical(response) -> str:
    match = re.search(r'<link rel="canonical" href="([^"]+)">', response.content.decode())
    assert match, "no canonical link"
    return match[1]


def description(response) -> str:
    match = re.search(r'<meta name="description" content="([^"]*)">', response.content.decode())
    assert match, "no meta description"
    return match[1]


# --- home -------------------------------------------------------------------------------


def test_home_lists_categories_with_their_subcategories(client, year_end, essays):
    make_article(year_end)
    make_article(essays)
    text = text_of(client.get("/"))
    assert "工作总结" in text and "年终总结" in text and "作文" in text


def test_home_lists_latest_published_articles_but_not_drafts_or_scheduled_ones(client, year_end):
    make_article(year_end, title="已经发布的总结")
    make_article(year_end, title="还是草稿的总结", status=Article.Status.DRAFT)
    make_article(
        year_end, title="明天才发布的总结", published_at=timezone.now() + dt.timedelta(days=1)
    )
    text = text_of(client.get("/"))
    assert "已经发布的总结(优秀3篇)" in text
    assert "还是草稿的总结" not in text
    assert "明天才发布的总结" not in text


def test_home_ranks_most_read_articles_by_view_count(client, year_end):
    make_article(year_end, title="少人看的总结", view_count=3)
    make_article(year_end, title="很多人看的总结", view_count=900)
    html = client.get("/").content.decode()
    ranking = html[html.index("阅读排行") :]
    assert ranking.index("很多人看的总结") < ranking.index("少人看的总结")
    assert "900次阅读" in ranking


# --- category ---------------------------------------------------------------------------


def test_category_page_shows_breadcrumb_subcategories_and_article_count(
    client, summaries, year_end
):
    make_article(make_category("季度总结", "jidu", parent=summaries))
    make_article(year_end)
    text = text_of(client.get("/c/zongjie/"))
    assert "当前位置： 网站首页 >> 工作总结" in text
    assert "年终总结" in text and "季度总结" in text
    assert "共2篇" in text
    # A sub-category with nothing published is not offered.
    make_category("月度总结", "yuedu", parent=summaries)
    assert "月度总结" not in text_of(client.get("/c/zongjie/?page=1"))


def test_subcategory_breadcrumb_goes_through_its_parent(client, article, year_end):
    text = text_of(client.get("/c/nianzhong/"))
    assert "网站首页 >> 工作总结 >> 年终总结" in text


def test_category_page_includes_articles_of_its_subcategories(client, summaries, year_end, essays):
    make_article(summaries, title="直接放在总结下的文章")
    make_article(year_end, title="放在年终总结下的文章")
    make_article(essays, title="别的分类的文章")
    text = text_of(client.get("/c/zongjie/"))
    assert "直接放在总结下的文章" in text and "放在年终总结下的文章" in text
    assert "别的分类的文章" not in text


def test_category_item_shows_title_with_piece_count_date_and_intro(client, article):
    text = text_of(client.get("/c/nianzhong/"))
    assert "社区志愿服务工作总结(优秀3篇)" in text
    assert "2024-03-02" in text  # 18:30 UTC is the next morning in Shanghai
    assert "写总结要实事求是" in text


def test_category_pages_are_paginated_twenty_per_page_newest_first(client, year_end):
    now = timezone.now()
    for i in range(45):
        make_article(year_end, title=f"第{i:02d}号总结", published_at=now - dt.timedelta(hours=i))
    first = text_of(client.get("/c/nianzhong/"))
    assert "第00号总结" in first and "第19号总结" in first and "第20号总结" not in first
    third = client.get("/c/nianzhong/?page=3")
    assert third.status_code == 200
    assert text_of(third).count("号总结(优秀3篇)") == 5
    assert "第44号总结" in text_of(third)
    assert 'href="/c/nianzhong/?page=2" rel="prev"' in third.content.decode()


@pytest.mark.parametrize("page", ["4", "0", "abc", "-1"])
def test_category_page_past_the_end_or_not_a_number_is_404(client, year_end, page):
    for _ in range(45):
        make_article(year_end)
    assert client.get(f"/c/nianzhong/?page={page}").status_code == 404


def test_unknown_category_is_404(client, year_end):
    assert client.get("/c/no-such-thing/").status_code == 404


# --- article ----------------------------------------------------------------------------


def test_article_breadcrumb_runs_through_the_category_ancestors(client, article):
    text = text_of(client.get(article.get_absolute_url()))
    assert "当前位置： 网站首页 >> 工作总结 >> 年终总结 >> 社区志愿服务工作总结(优秀3篇)" in text


def test_article_shows_title_with_piece_count_and_meta_in_shanghai_time(client, article):
    response = client.get(article.get_absolute_url())
    assert '<h1 class="doc-title">社区志愿服务工作总结(优秀3篇)</h1>' in response.content.decode()
    text = text_of(response)
    words = int(re.search(r"字数:([\d,]+)", text)[1].replace(",", ""))
    assert words > 0
    assert f"格式:DOCX 字数:{words:,} 共3篇 上传日期:2024-03-02 02:30 小编:笔尘" in text
    assert "写总结要实事求是、条理清楚" in text


def test_article_meta_counts_words_as_word_does_and_the_pieces(client, year_end):
    # 格式 is what is sold (a Word file), whatever the source was.
    item = make_article(year_end, title="字数统计", pieces=0, source_format="txt")
    Piece.objects.create(
        article=item,
        position=1,
        title="篇一 Python",  # 2 characters + 1 word
        blocks=[
            {"kind": "h1", "text": "一、总结"},  # 3
            {"kind": "p", "text": "我们在2024年完成了 Python 培训。"},  # 9 + "2024" + "Python"
        ],
    )
    Piece.objects.create(
        article=item, position=2, title="", blocks=[{"kind": "p", "text": "OK，好。"}]
    )  # 1 + 1

    text = text_of(client.get(item.get_absolute_url()))

    assert "格式:DOCX 字数:19 共2篇" in text
    assert "TXT" not in text


def test_the_word_count_groups_thousands(client, year_end):
    item = make_article(year_end, title="长文", pieces=0)
    Piece.objects.create(article=item, position=1, blocks=[{"kind": "p", "text": "字" * 2345}])
    assert "字数:2,345 共1篇" in text_of(client.get(item.get_absolute_url()))


def test_article_has_a_piece_navigator_and_one_section_per_piece(client, article):
    html = client.get(article.get_absolute_url()).content.decode()
    nav = re.search(r'<nav class="piece-nav".*?</nav>', html, re.S)[0]
    assert re.findall(r'href="#(p\d)">(篇.)<', nav) == [
        ("p1", "篇一"),
        ("p2", "篇二"),
        ("p3", "篇三"),
    ]
    for n, label in ((1, "一"), (2, "二"), (3, "三")):
        section = re.search(rf'<section class="piece" id="p{n}"[^>]*>(.*?)</section>', html, re.S)[
            1
        ]
        assert f'<h2 class="piece-title">社区志愿服务工作总结篇{label}</h2>' in section
        assert f"第{n}篇的开头" in section and f"第{n}篇的结尾" in section


def test_block_kinds_become_heading_levels_inside_a_piece(client, article):
    html = client.get(article.get_absolute_url()).content.decode()
    assert '<h3 class="bh1">一、主要做法</h3>' in html
    assert '<h4 class="bh2">（一）健全工作机制</h4>' in html
    assert '<h5 class="bh3">1、建立台账</h5>' in html
    assert '<p class="bt">成立工作小组，明确分工' in html


def test_block_text_is_escaped_not_trusted_as_html(client, article):
    piece = article.pieces.get(position=1)
    piece.blocks = [{"kind": "p", "text": '<script>alert("x")</script><b>粗体</b>'}]
    piece.save()
    html = client.get(article.get_absolute_url()).content.decode()
    assert "<script>alert" not in html and "<b>粗体</b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_near_duplicate_piece_is_still_shown_with_a_note(client, article):
    second, third = article.pieces.get(position=2), article.pieces.get(position=3)
    third.duplicate_of = second
    third.save()
    html = client.get(article.get_absolute_url()).content.decode()
    section = re.search(r'<section class="piece" id="p3"[^>]*>(.*?)</section>', html, re.S)[1]
    assert "本篇与篇二内容相近" in section
    assert "第3篇的开头" in section


def test_a_single_untitled_piece_needs_no_navigator(client, year_end):
    single = make_article(year_end, title="一篇的范文", pieces=1)
    single.pieces.update(title="")
    html = client.get(single.get_absolute_url()).content.decode()
    assert 'class="piece-nav"' not in html
    assert re.search(r'<section class="piece" id="p1"[ >]', html)
    assert '<h1 class="doc-title">一篇的范文</h1>' in html


def test_article_ends_with_the_end_marker_and_the_paywall_block(client, article):
    html = client.get(article.get_absolute_url()).content.decode()
    block = '<section class="paywall" id="paywall"'
    assert block in html
    assert html.index("全文阅读已结束") < html.index(block)
    assert html.index('id="p3"') < html.index("全文阅读已结束")


def test_article_lists_related_articles_of_its_category_but_not_itself(client, article, essays):
    make_article(article.category, title="同类的另一篇总结", view_count=50)
    make_article(essays, title="别的分类的作文")
    html = client.get(article.get_absolute_url()).content.decode()
    aside = html[html.index('<aside class="col-side">') :]
    assert "同类的另一篇总结" in aside
    assert "别的分类的作文" not in aside
    assert "社区志愿服务工作总结" not in aside


@pytest.mark.parametrize(
    "change",
    [
        {"status": Article.Status.DRAFT},
        {"status": Article.Status.HIDDEN},
        {"published_at": timezone.now() + dt.timedelta(days=2)},
    ],
    ids=["draft", "hidden", "scheduled"],
)
def test_unpublished_articles_are_404_for_readers(client, article, change):
    Article.objects.filter(pk=article.pk).update(**change)
    assert client.get(article.get_absolute_url()).status_code == 404


def test_staff_can_preview_a_draft(admin_client, year_end):
    draft = make_article(year_end, title="还没发布的总结", status=Article.Status.DRAFT)
    response = admin_client.get(draft.get_absolute_url())
    assert response.status_code == 200
    assert "预览：这篇文章尚未发布" in text_of(response)


@pytest.mark.parametrize("article_id", ["987654", "99999999999999999999999"])
def test_unknown_article_is_404(client, year_end, article_id):
    assert client.get(f"/a/{article_id}.html").status_code == 404


# --- every page: canonical, description, 404, robots, sitemap ---------------------------


@pytest.mark.parametrize(
    "path, expected",
    [
        ("/", "http://testserver/"),
        ("/c/nianzhong/", "http://testserver/c/nianzhong/"),
        ("/c/nianzhong/?page=1", "http://testserver/c/nianzhong/"),
        ("/a/{id}.html", "http://testserver/a/{id}.html"),
        ("/a/999999.html", "http://testserver/a/999999.html"),
    ],
)
def test_every_page_has_a_canonical_link_and_a_description(client, article, path, expected):
    response = client.get(path.format(id=article.pk))
    assert canonical(response) == expected.format(id=article.pk)
    assert 0 < len(description(response)) <= 120
    assert "<title>" in response.content.decode()


def test_canonical_links_use_site_url_when_it_is_set(client, article, settings):
    settings.SITE_URL = "https://fanwen.example.cn"
    response = client.get(article.get_absolute_url())
    assert canonical(response) == f"https://fanwen.example.cn/a/{article.pk}.html"
    assert f'<meta property="og:url" content="https://fanwen.example.cn/a/{article.pk}.html">' in (
        response.content.decode()
    )


def test_article_description_is_the_intro_else_the_title_never_the_body(client, year_end):
    long_intro = "很长的导语" * 60
    with_intro = make_article(year_end, intro=long_intro)
    text = description(client.get(with_intro.get_absolute_url()))
    assert len(text) == 120 and text.startswith("很长的导语") and text.endswith(("…", "..."))
    without = make_article(year_end, intro="")
    Piece.objects.filter(article=without, position=1).update(
        blocks=[{"kind": "p", "text": "正文段落不进描述。" * 5}]
    )
    # Search engines show the description to everyone: it comes from the free parts only.
    text = description(client.get(without.get_absolute_url()))
    assert "正文段落" not in text and without.title in text


def test_page_title_tag_carries_the_display_title(client, article):
    html = client.get(article.get_absolute_url()).content.decode()
    assert "<title>社区志愿服务工作总结(优秀3篇) - 范文网</title>" in html


def test_not_found_page_is_in_chinese_with_links_home_and_to_categories(client, year_end, essays):
    make_article(year_end)
    make_article(essays)
    response = client.get("/a/424242.html")
    assert response.status_code == 404
    html = response.content.decode()
    assert "页面不存在" in html
    assert 'href="/">返回网站首页</a>' in html
    assert 'href="/c/zongjie/"' in html and 'href="/c/zuowen/"' in html


def test_server_error_page_is_in_chinese_and_needs_no_request():
    html = render_to_string("500.html")
    assert "服务器暂时出错了" in html and 'href="/"' in html


def test_robots_txt_points_to_the_sitemap(client, settings):
    response = client.get("/robots.txt")
    assert response["Content-Type"].startswith("text/plain")
    assert "Sitemap: http://testserver/sitemap.xml" in response.content.decode()
    assert "Disallow: /admin/" in response.content.decode()
    settings.SITE_URL = "https://fanwen.example.cn"
    assert (
        "Sitemap: https://fanwen.example.cn/sitemap.xml"
        in client.get("/robots.txt").content.decode()
    )


def test_sitemap_lists_published_articles_and_categories_only(client, article):
    draft = make_article(article.category, status=Article.Status.DRAFT)
    index = client.get("/sitemap.xml").content.decode()
    assert "http://testserver/sitemap-articles.xml" in index
    articles = client.get("/sitemap-articles.xml").content.decode()
    assert f"http://testserver/a/{article.pk}.html" in articles
    assert f"/a/{draft.pk}.html" not in articles
    assert (
        "http://testserver/c/nianzhong/" in client.get("/sitemap-categories.xml").content.decode()
    )


# --- page cache ---------------------------------------------------------------------------


def test_second_anonymous_visit_is_served_from_the_cache_without_queries(
    client, article, django_assert_num_queries
):
    first = client.get(article.get_absolute_url())
    assert first["X-Page-Cache"] == "miss"
    with django_assert_num_queries(0):
        second = client.get(article.get_absolute_url())
    assert second["X-Page-Cache"] == "hit"
    assert second.content == first.content
    assert int(second["Content-Length"]) == len(second.content)


def test_cached_pages_carry_no_cookie_csrf_token_or_user_bits(client, admin_client, article):
    admin_client.get(article.get_absolute_url())  # staff render first: must not be cached
    for _ in range(2):
        response = client.get(article.get_absolute_url())
        assert "Set-Cookie" not in response.headers and not response.cookies
        html = response.content.decode()
        assert "csrfmiddlewaretoken" not in html and "管理后台" not in html


def test_an_edit_shows_at_once_on_the_cached_article_page(client, article):
    assert "社区志愿服务工作总结" in text_of(client.get(article.get_absolute_url()))
    article.title = "社区志愿服务年度总结"
    article.save()
    response = client.get(article.get_absolute_url())
    assert response["X-Page-Cache"] == "miss"
    assert "社区志愿服务年度总结(优秀3篇)" in text_of(response)


def test_an_edit_saved_by_another_worker_process_shows_at_once(client, article, settings):
    import os

    from django.core.cache import cache

    from fanwen.library import pagecache

    # With the per-process cache (the default; the Redis run sets it here) another gunicorn
    # worker's edit reaches this one only through the shared stamp file, so play that worker
    # with a raw update and a touch.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"}
    }
    cache.clear()
    client.get(article.get_absolute_url())
    Article.objects.filter(pk=article.pk).update(title="另一个进程改的标题")
    assert "另一个进程改的标题" not in text_of(client.get(article.get_absolute_url()))
    stamp = pagecache._stamp_path()
    later = os.stat(stamp).st_mtime_ns + 1_000_000
    os.utime(stamp, ns=(later, later))
    assert "另一个进程改的标题" in text_of(client.get(article.get_absolute_url()))


def test_an_edit_saved_by_another_process_shows_at_once_with_redis(client, article, settings):
    from django.core.cache import caches

    from fanwen.library import pagecache

    # With Redis the generation lives in it, shared by every process of every node: play the
    # other process with a raw update and its bump of the generation over a client of its own.
    if not settings.REDIS_URL:
        pytest.skip("the default cache is per process without REDIS_URL")
    client.get(article.get_absolute_url())
    Article.objects.filter(pk=article.pk).update(title="另一个进程改的标题")
    assert "另一个进程改的标题" not in text_of(client.get(article.get_absolute_url()))
    caches.create_connection("default").incr(pagecache.GEN_KEY)
    assert "另一个进程改的标题" in text_of(client.get(article.get_absolute_url()))


def test_an_edited_piece_shows_at_once(client, article):
    client.get(article.get_absolute_url())
    piece = article.pieces.get(position=2)
    piece.blocks = [{"kind": "p", "text": "改过的第二篇正文。"}]
    piece.save()
    assert "改过的第二篇正文。" in text_of(client.get(article.get_absolute_url()))


def test_a_renamed_category_shows_at_once_on_cached_pages(client, article):
    for path in ("/", "/c/nianzhong/", article.get_absolute_url()):
        client.get(path)
    category = article.category
    category.name = "年度总结"
    category.save()
    for path in ("/", "/c/nianzhong/", article.get_absolute_url()):
        assert "年度总结" in text_of(client.get(path)), path


def test_a_new_article_shows_at_once_on_cached_home_and_category_pages(client, year_end):
    client.get("/")
    client.get("/c/nianzhong/")
    make_article(year_end, title="刚刚发布的总结")
    assert "刚刚发布的总结" in text_of(client.get("/"))
    assert "刚刚发布的总结" in text_of(client.get("/c/nianzhong/"))


def test_hiding_an_article_in_the_admin_takes_its_cached_page_down(client, admin_client, article):
    assert client.get(article.get_absolute_url()).status_code == 200
    response = admin_client.post(
        "/admin/library/article/",
        {"action": "hide_selected", "_selected_action": [article.pk]},
    )
    assert response.status_code == 302
    assert client.get(article.get_absolute_url()).status_code == 404


def test_deleting_an_article_takes_its_cached_page_down(client, article):
    url = article.get_absolute_url()
    client.get(url)
    article.delete()
    assert client.get(url).status_code == 404


def test_staff_bypass_the_page_cache(client, admin_client, article):
    client.get(article.get_absolute_url())
    response = admin_client.get(article.get_absolute_url())
    assert "X-Page-Cache" not in response.headers
    assert "管理后台" in response.content.decode()


def test_cached_home_and_category_pages_are_served_without_queries(
    client, article, django_assert_num_queries
):
    client.get("/")
    client.get("/c/nianzhong/")
    with django_assert_num_queries(0):
        assert client.get("/")["X-Page-Cache"] == "hit"
        assert client.get("/c/nianzhong/")["X-Page-Cache"] == "hit"


def test_the_article_view_serves_the_cache_by_itself_without_queries(
    client, article, django_assert_num_queries
):
    client.get(article.get_absolute_url())
    with django_assert_num_queries(0):
        response = client.get(article.get_absolute_url())
    assert response["X-Page-Cache"] == "hit"
    assert response["X-Frame-Options"] == "DENY"


def test_fast_path_responses_keep_the_security_headers(client, article):
    client.get(article.get_absolute_url())
    response = client.get(article.get_absolute_url())
    assert response["X-Page-Cache"] == "hit"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
