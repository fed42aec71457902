"""Saved web pages of different site shapes, and the reference page itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from fanwen.library.importer import ImportRejected, parse_bytes, parse_file

REPO_ROOT = Path(__file__).resolve().parents[4]
SEED_PAGE = REPO_ROOT.parent / "shared" / "reference" / "seed-page.txt"

CHROME = (
    "首页",
    "登录",
    "广告",
    "相关推荐",
    "热门范文",
    "Copyright",
    "版权",
    "下载此文档",
    "全文阅读已结束",
    "上一篇",
    "分享到",
    "猜你喜欢",
    "原创",
    "本文由",
    "侵权",
    "小编：",
    "时间：",
)


def all_text(article) -> str:
    return "\n".join([article.intro] + [piece.text for piece in article.pieces])


def assert_no_chrome(article) -> None:
    text = all_text(article)
    for junk in CHROME:
        assert junk not in text, junk


def test_it_reads_a_page_with_bracketed_markers_and_titles_on_their_own_line(import_fixture):
    article = parse_file(import_fixture("site-a-bracketed.html"))
    assert article.title == "学雷锋活动心得体会"
    assert article.source_format == "html"
    assert article.editor_name == "木子"
    assert article.category_path == ["心得体会"]
    assert article.intro.startswith("心得体会是我们经历一件事情之后的感悟")
    assert [piece.title for piece in article.pieces] == [
        "一次难忘的义务劳动",
        "雷锋精神在身边",
        "做一颗永不生锈的螺丝钉",
    ]
    assert article.pieces[0].text.endswith("不只在三月里做好事。")
    assert_no_chrome(article)


def test_it_reads_a_page_that_separates_lines_with_br_and_marks_pieces_as_fanwen(import_fixture):
    article = parse_file(import_fixture("site-b-fanwen-br.html"))
    # The breadcrumb shortens the title, so the <h1> wins.
    assert article.title == "国旗下讲话稿"
    assert article.category_path == ["演讲稿"]
    assert [piece.title for piece in article.pieces] == ["珍惜时间，从今天做起", "做时间的主人"]
    blocks = [(b["kind"], b["text"]) for b in article.pieces[0].blocks]
    assert ("h1", "一、时间一去不复返") in blocks
    assert ("h2", "（一）做好计划") in blocks
    assert_no_chrome(article)
    # Hidden copy-protection text and the sidebar's excerpts stay out.
    assert "学海范文网" not in all_text(article)
    assert "读书让人明理" not in all_text(article)


def test_it_reads_a_page_with_one_section_per_piece_and_a_list_breadcrumb(import_fixture):
    article = parse_file(import_fixture("site-c-sections.html"))
    assert article.title == "春天的作文600字"
    assert article.editor_name == "春晓"
    assert article.category_path == ["作文", "初中作文"]
    assert [piece.title for piece in article.pieces] == ["我眼中的春天", "春天里的一件小事"]
    assert article.pieces[0].blocks[1] == {"kind": "h1", "text": "一、春天的声音"}
    assert article.pieces[1].text.endswith("可我的心里却是晴天。")
    assert_no_chrome(article)


def test_it_reads_a_single_piece_page_with_no_breadcrumb(import_fixture):
    article = parse_file(import_fixture("site-d-single.html"))
    assert article.title == "实习期满转正申请书"
    assert article.category_path == []
    assert len(article.pieces) == 1
    assert article.intro == "以下是本站为大家整理的转正申请书范文，欢迎阅读参考。"
    piece = article.pieces[0]
    assert piece.blocks[0]["text"] == "尊敬的公司领导："
    assert piece.blocks[-1]["text"] == "20__年__月__日"
    assert {ph["kind"] for ph in piece.placeholders} == {"date", "unit", "number", "name"}
    assert_no_chrome(article)


def test_it_reads_a_gbk_page_with_h2_piece_titles_and_drops_the_count_from_them(import_fixture):
    article = parse_file(import_fixture("site-e-h2-markers-gbk.html"))
    assert article.title == "2024年社区消防安全工作总结范文"
    assert article.category_path == ["工作总结"]
    assert [p.title for p in article.pieces] == [
        f"2024年社区消防安全工作总结范文篇{n}" for n in (1, 2, 3)
    ]
    assert [b["kind"] for b in article.pieces[0].blocks][:4] == ["p", "h1", "p", "h1"]
    assert "下面是小编为大家收集的" in article.intro
    assert_no_chrome(article)
    for junk in ("点击领取", "展开阅读全文", "下载本文", "标签：", "热门文章", "本文已影响"):
        assert junk not in all_text(article), junk


def test_it_joins_source_line_breaks_between_chinese_characters():
    html = "<html><body><div class='content'><p>我们认真\n      开展了各项工作，\n取得了明显成效。</p></div></body></html>"
    article = parse_bytes(html.encode("utf-8"), "换行.html")
    assert article.pieces[0].text == "我们认真开展了各项工作，取得了明显成效。"


def test_it_refuses_html_with_entity_declarations_and_never_leaks_local_files():
    html = (
        '<?xml version="1.0"?><!DOCTYPE html [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        "<html><body><div class='content'><p>泄露测试：&xxe;</p><p>"
        + "正文内容足够长，用来确认页面本身可以解析。" * 3
        + "</p></div></body></html>"
    )
    with pytest.raises(ImportRejected, match="实体") as caught:
        parse_bytes(html.encode("utf-8"), "xxe.html")
    assert "root:" not in str(caught.value)


def test_an_ordinary_doctype_is_fine():
    html = "<!DOCTYPE html><html><body><p>这是一段足够长的正文，用来确认普通的文档类型声明不会被拒绝。</p></body></html>"
    assert parse_bytes(html.encode("utf-8"), "正常.html").pieces


def test_it_rejects_a_page_without_text():
    with pytest.raises(ImportRejected):
        parse_bytes(b"<html><body><script>var a=1;</script></body></html>", "空.html")


# --- the reference page (read in place, never copied into the repository) -------------

seed = pytest.mark.skipif(not SEED_PAGE.exists(), reason="reference page not present")


@seed
def test_it_parses_the_reference_page_title_pieces_and_editor():
    article = parse_file(SEED_PAGE)
    assert article.title == "窗口单位创建文明城市总结"
    assert article.editor_name == "笔尘"
    assert article.category_path == ["作文"]
    assert [piece.title for piece in article.pieces] == [
        f"窗口单位创建文明城市总结篇{n}" for n in "一二三四五"
    ]
    assert article.intro.startswith("写总结最重要的一点")


@seed
def test_the_reference_page_keeps_no_boilerplate_line():
    article = parse_file(SEED_PAGE)
    junk = (
        "当前位置",
        "格式:DOC",
        "上传日期",
        "小编",
        "全文阅读已结束",
        "下载此文档",
        "付费",
        "特价",
        "扫码",
        "已付款",
        "客服",
        "包月",
    )
    for piece in article.pieces:
        for block in piece.blocks:
            assert not any(word in block["text"] for word in junk), block["text"]
            assert block["text"] != "窗口单位创建文明城市总结(优秀5篇)"


@seed
def test_the_reference_page_has_its_split_words_joined_and_stray_dots_removed():
    article = parse_file(SEED_PAGE)
    second = article.pieces[1].text
    assert "是解决创建难题的一大法宝" in second
    assert "解决" not in [block["text"] for block in article.pieces[1].blocks]
    assert "较好的成绩" in article.pieces[3].text
    assert ".成绩" not in article.pieces[3].text


@seed
def test_the_reference_page_has_headings_and_placeholders():
    article = parse_file(SEED_PAGE)
    second = [(b["kind"], b["text"]) for b in article.pieces[1].blocks]
    assert ("h1", "一、振奋精神,继续完善体制机制") in second
    assert ("h2", "(一) 打牢“三个基础”") in second
    assert all(ph["text"] != "gdp" for ph in article.pieces[1].placeholders)
    third_kinds = {ph["kind"] for ph in article.pieces[2].placeholders}
    assert {"year", "name", "unit", "number", "blank"} <= third_kinds


@seed
@pytest.mark.django_db
def test_the_reference_page_counts_four_distinct_pieces():
    from fanwen.library.actions import do_get_or_create_category, do_import_article

    article, _ = do_import_article(
        parse_file(SEED_PAGE),
        category=do_get_or_create_category("作文"),
        publish=False,
        source_key="seed",
    )
    pieces = list(article.pieces.order_by("position"))
    assert pieces[3].duplicate_of_id == pieces[2].pk
    assert [p.duplicate_of_id for p in pieces if p.position != 4] == [None] * 4
    assert article.piece_count == 4
    assert article.display_title == "窗口单位创建文明城市总结(优秀4篇)"


@seed
def test_the_reference_page_parses_the_same_when_saved_as_html_with_site_chrome():
    lines = SEED_PAGE.read_text(encoding="utf-8").splitlines()
    crumb, rest = lines[0], [line for line in lines[1:] if line.strip()]
    paragraphs = "\n".join(f"<p>{line}</p>" for line in rest)
    html = (
        "<html><head><meta charset='gbk'><title>窗口单位创建文明城市总结(优秀5篇)-范文网</title></head><body>"
        "<div class='header'><h1 class='logo'><a href='/'>范文网</a></h1>"
        "<ul class='nav'><li><a href='/zuowen/'>作文</a></li><li><a href='/zongjie/'>总结</a></li></ul></div>"
        f"<div class='crumbs'>{crumb.replace('>>', '&gt;&gt;')}</div>"
        f"<div class='wrap'><div class='left'><div class='article'>{paragraphs}</div>"
        "<div class='xiangguan'><h3>相关文章</h3><ul><li><a href='/1.html'>文明城市创建工作汇报</a></li></ul></div></div>"
        "<div class='right'><h3>热门</h3><p><a href='/2.html'>年度总结</a></p></div></div>"
        "<div class='footer'>Copyright 范文网 版权所有</div></body></html>"
    )
    from_html = parse_bytes(html.encode("gb18030"), "seed.html")
    from_text = parse_file(SEED_PAGE)
    assert from_html.title == from_text.title == "窗口单位创建文明城市总结"
    assert from_html.editor_name == "笔尘"
    assert from_html.category_path == ["作文"]
    assert from_html.intro == from_text.intro
    assert [p.title for p in from_html.pieces] == [p.title for p in from_text.pieces]
    assert [p.blocks for p in from_html.pieces] == [p.blocks for p in from_text.pieces]


def test_it_drops_link_only_lines_but_keeps_linked_piece_titles():
    essay = "敬爱的党组织：自从递交入党申请书以来，我认真学习党的理论知识，不断提高自己的思想认识。"
    html = (
        "<html><head><title>思想汇报(优秀2篇)-范文网</title></head><body>"
        "<header><h1><a href='/'>范文网</a></h1></header>"
        "<main><article><header><h1>入党积极分子思想汇报(优秀2篇)</h1></header><div class='entry'>"
        f"<h2><a href='#p1'>入党积极分子思想汇报篇1</a></h2><p>{essay}</p>"
        f"<p><a href='#p2'>入党积极分子思想汇报篇2</a></p><p>{essay}今后我会继续努力。</p>"
        "<p><a href='/x/2.html'>入党思想汇报范文大全</a></p>"
        "<p><a href='/x/3.html'>预备党员转正申请书</a> <a href='/x/4.html'>入党志愿书</a></p>"
        "</div></article></main></body></html>"
    )
    article = parse_bytes(html.encode("utf-8"), "a.html")
    # The article's own <h1>, not the linked logo in the page header.
    assert article.title == "入党积极分子思想汇报"
    assert [p.title for p in article.pieces] == [
        "入党积极分子思想汇报篇1",
        "入党积极分子思想汇报篇2",
    ]
    assert article.pieces[1].text == f"{essay}今后我会继续努力。"


def test_it_reads_an_old_table_layout_page_with_br_lines():
    lines = [
        "开学第一课观后感",
        "今天晚上，我和爸爸妈妈一起观看了《开学第一课》，节目里的一个个故事让我深受感动。",
        "一、榜样的力量",
        "航天员叔叔在太空中给我们讲课，他们为了梦想刻苦训练、不怕困难的精神值得我学习。",
        "二、我的打算",
        "新学期我要制定学习计划，每天坚持阅读半小时，遇到困难不退缩，做一个有梦想的少年。",
    ]
    html = (
        "<html><head><title>开学第一课观后感_作文网</title></head><body><table width='960'><tr>"
        "<td class='menu' width='200'><a href='/'>首页</a><br><a href='/zuowen/'>作文大全</a><br>"
        "<a href='/guanhougan/'>观后感</a></td>"
        f"<td>{'<br>'.join(lines)}</td>"
        "</tr></table><center>作文网 版权所有</center></body></html>"
    )
    article = parse_bytes(html.encode("gb18030"), "page.htm")
    assert article.title == "开学第一课观后感"
    assert [(b["kind"], b["text"]) for b in article.pieces[0].blocks] == [
        ("p", lines[1]),
        ("h1", lines[2]),
        ("p", lines[3]),
        ("h1", lines[4]),
        ("p", lines[5]),
    ]


def test_it_keeps_the_rest_of_an_article_hidden_behind_a_read_more_button():
    first = "春节前夕，我们走访慰问了辖区内的困难群众，为他们送去了米、面、油等生活用品。"
    rest = (
        "在走访中，我们仔细询问了每户家庭的生活情况，记录下他们的实际困难，能当场解决的当场解决。"
    )
    html = (
        "<html><body><div class='content'>"
        f"<p>{first}<span style='display:none'>范文网</span></p>"
        f"<div class='more' style='display:none'><p>{rest}</p></div>"
        "<a class='show-all'>展开全文</a></div></body></html>"
    )
    article = parse_bytes(html.encode("utf-8"), "慰问活动总结.html")
    assert article.pieces[0].text == f"{first}\n{rest}"


def test_a_trail_without_links_on_a_short_page_names_only_the_categories():
    # The trail's block is climbed for its links; a short page must not make the whole body
    # (title, text, counters) the trail.
    page = (
        "<html><head><title>班级活动总结_范文网</title></head><body>"
        "<div class='crumbs'>当前位置：首页 &gt; 总结 &gt; 班级总结</div><h1>班级活动总结</h1>"
        "<div class='content'><p>本学期我们班开展了读书节、运动会和志愿服务三项活动，"
        "同学们积极参加，班级凝聚力明显增强。</p><p>阅读：1234次</p></div></body></html>"
    )
    parsed = parse_bytes(page.encode(), "short.html")
    assert parsed.title == "班级活动总结"
    assert parsed.category_path == ["总结", "班级总结"]
    assert [b["text"] for b in parsed.pieces[0].blocks] == [
        "本学期我们班开展了读书节、运动会和志愿服务三项活动，同学们积极参加，班级凝聚力明显增强。"
    ]
