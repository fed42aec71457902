"""The general rules for site chrome and titles (issue 12): what goes, and what must stay."""

from __future__ import annotations

import pytest

from fanwen.library.importer import parse_bytes
from fanwen.library.importer.structure import is_chrome, is_edge_chrome, strip_title_noise

CHROME_AT_THE_EDGE = [
    "全文完",
    "（完）",
    "— END —",
    "-THE END-",
    "发布时间：2023-06-12 09:31",
    "2024-03-05 07:21",
    "时间：2023-06-12 09:31",
    "更新于 2023-08-01",
    "发表于 2022-3-4 10:20 | 只看该作者",
    "会员可阅读全文",
    "VIP会员免费下载全文",
    "开通会员，全文免费阅读",
    "第1页 共3页",
    "1/3页",
    "阅读：1234次",
    "浏览次数：88",
    "阅读 5678",
    "上传者：文库君",
    "文档编号：YW2023-118",
    "文档ID：88123",
    "贡献者：学海无涯",
    "举报",
    "分享到：微信 微博",
    "下载本文",
    "收藏本文 | 打印本文",
    "点赞（12） 收藏（3）",
    "本文链接：https://www.example.com/a/1.html",
    "（责任编辑：小周）",
    "文字：编辑部 | 排版：小周",
    "本文首发于公众号「某某」，转载请联系作者。",
    "--------------------------------",
    "- 2 -",
    "评论 356  转发  点赞 2.1万",
    "举报 | 纠错",
    "喜欢这篇文章？点赞支持一下",
]

TEXT_AT_THE_EDGE = [
    "2024年3月5日",
    "二〇二四年三月五日",
    "申请人：李明",
    "此致",
    "敬礼！",
    "谢谢大家！",
    "一、主要工作",
    "（一）存在的问题",
    "今年我们把课件统一放到校内平台，老师们可以随时下载使用，节省了大量重复备课的时间。",
    "工会会员活动每季度举办一次，参与人数比去年增加了三成。",
    "我把书中最喜欢的一句话抄在日记本上。",
    "姓名：__________",
    "__________",
    "学会分享",
    "日期：2024年3月5日",
    "2023年9月10日于杭州",
    "二、会员可享受的权益",
    "举报电话：0371-12345678",
]


@pytest.mark.parametrize("line", CHROME_AT_THE_EDGE)
def test_chrome_lines_near_the_edge_are_chrome(line):
    assert is_chrome(line) or is_edge_chrome(line)


@pytest.mark.parametrize("line", TEXT_AT_THE_EDGE)
def test_the_genre_s_own_lines_are_not(line):
    assert not is_chrome(line) and not is_edge_chrome(line)


def test_a_letter_keeps_its_signature_and_loses_the_page_s_furniture():
    text = "\n".join(
        [
            "入党申请书",
            "发布时间：2024-03-06 10:00  阅读：321次",
            "敬爱的党组织：",
            "我志愿加入中国共产党，愿意为共产主义事业奋斗终身。",
            "请党组织在实践中考验我。",
            "此致",
            "敬礼！",
            "申请人：李明",
            "2024年3月5日",
            "（完）",
            "会员可阅读全文",
            "举报",
        ]
    )
    article = parse_bytes(text.encode(), "page.txt")
    texts = [block["text"] for block in article.pieces[0].blocks]
    assert article.title == "入党申请书"
    assert texts == [
        "敬爱的党组织：",
        "我志愿加入中国共产党，愿意为共产主义事业奋斗终身。",
        "请党组织在实践中考验我。",
        "此致",
        "敬礼！",
        "申请人：李明",
        "2024年3月5日",
    ]


def test_chrome_words_inside_prose_in_the_middle_stay():
    middle = "本单位设有下载专区和会员服务，分享到各科室的资料一律登记，举报电话张贴在大厅。"
    lines = ["工作总结", "一、主要工作", "今年完成了三件大事。", middle, "二、不足", "还要努力。"]
    article = parse_bytes("\n".join(lines).encode(), "a.txt")
    assert middle in [block["text"] for block in article.pieces[0].blocks]


def test_title_noise_is_stripped():
    assert strip_title_noise("教学反思（完整版）.doc") == "教学反思"
    assert strip_title_noise("竞选演讲稿（word版可编辑）") == "竞选演讲稿"
    assert strip_title_noise("军训心得体会（两篇）") == "军训心得体会"
    assert strip_title_noise("军训心得体会（一）") == "军训心得体会（一）"


def _page(crumb: str, h1: str = "", title: str = "", first: str = "") -> bytes:
    return f"""<html><head><title>{title}</title></head><body>
<div class="logo"><h1>某某范文网</h1></div>
<div class="weizhi">{crumb}</div>
<div class="content"><h1>{h1}</h1>
<p>{first}</p>
<p>我志愿加入中国共产党，愿意为共产主义事业奋斗终身，随时准备为党和人民牺牲一切。</p>
<p>在校期间，我认真学习党的理论，积极参加志愿服务，帮助同学共同进步。</p>
</div></body></html>""".encode()


def test_a_breadcrumb_ending_at_the_category_gives_the_category_not_the_title():
    page = _page(
        "当前位置：<a href='/'>首页</a> &gt; <a href='/fanwen/'>范文</a> &gt; 入党申请书",
        h1="2024年大学生入党申请书",
        title="2024年大学生入党申请书(优秀3篇)_某某范文网",
        first="2024年大学生入党申请书",
    )
    article = parse_bytes(page, "a.html")
    assert article.title == "2024年大学生入党申请书"
    assert article.category_path == ["范文", "入党申请书"]
    first = article.pieces[0].blocks[0]["text"]
    assert first.startswith("我志愿加入中国共产党")


def test_a_breadcrumb_that_names_the_article_is_no_category():
    page = _page(
        "当前位置：<a href='/'>首页</a> &gt; <a href='/sq/'>申请书</a> &gt; 2024年大学生入党申请书",
        h1="2024年大学生入党申请书（精选3篇）",
        title="2024年大学生入党申请书_某某范文网",
    )
    article = parse_bytes(page, "a.html")
    assert article.title == "2024年大学生入党申请书"
    assert article.category_path == ["申请书"]


def test_without_an_h1_the_page_title_minus_the_site_name_is_the_title():
    page = _page(
        "当前位置：<a href='/'>首页</a> &gt; <a href='/sq/'>申请书</a> &gt; 入党申请书",
        title="大学生入党申请书范文_某某范文网",
    )
    article = parse_bytes(page, "a.html")
    assert article.title == "大学生入党申请书范文"
    assert article.category_path == ["申请书", "入党申请书"]
    assert "某某范文网" not in article.title
