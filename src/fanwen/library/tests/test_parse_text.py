"""The line rules shared by every format: title, intro, pieces, headings, site junk."""

from __future__ import annotations

import pytest

from fanwen.library.importer import ImportRejected, parse_bytes, parse_file

BOILERPLATE = (
    "当前位置",
    "格式:DOC",
    "上传日期",
    "小编:",
    "全文阅读已结束",
    "下载此文档",
    "付费复制",
    "付费获得该文章复制权限",
    "特价",
    "微信扫码支付",
    "已付款请点这里",
    "联系客服",
    "包月复制",
    "不限量复制",
    "本文由",
)

BODY_A = "我们坚持每周召开一次例会，及时研究解决工作中遇到的新情况新问题，确保各项任务按时完成。"
BODY_B = "全体同志团结协作、攻坚克难，圆满完成了年初确定的目标任务，得到了上级部门的充分肯定。"
BODY_C = "下一步，我们将认真总结经验，查找不足，进一步完善制度，推动工作再上新台阶。"


def parse_text(text: str, name: str = "样稿.txt"):
    return parse_bytes(text.encode("utf-8"), name)


def kinds(piece) -> list[tuple[str, str]]:
    return [(block["kind"], block["text"]) for block in piece.blocks]


# --- the site-shaped fixture ---------------------------------------------------------


def test_it_reads_title_editor_category_and_intro_from_a_page_dump(import_fixture):
    article = parse_file(import_fixture("volunteer-summary.txt"))
    assert article.title == "社区志愿服务工作总结"
    assert article.editor_name == "青禾"
    assert article.category_path == ["总结"]
    assert article.source_format == "txt"
    assert article.intro.startswith("总结是对过去一段时间工作的回顾")
    assert article.intro.endswith("欢迎借鉴。")


def test_it_finds_pieces_marked_at_the_end_of_a_title_line(import_fixture):
    article = parse_file(import_fixture("volunteer-summary.txt"))
    assert [piece.title for piece in article.pieces] == [
        f"社区志愿服务工作总结篇{n}" for n in "一二三四"
    ]
    assert article.pieces[0].blocks[0]["text"].startswith("20xx年,我们社区")
    assert article.pieces[3].blocks[-1]["text"].startswith("一是加强学习")


def test_it_leaves_no_boilerplate_line_in_any_piece(import_fixture):
    article = parse_file(import_fixture("volunteer-summary.txt"))
    texts = [block["text"] for piece in article.pieces for block in piece.blocks]
    for text in texts:
        assert not any(junk in text for junk in BOILERPLATE), text
    # The repeated title and the meta lines are gone too.
    assert "社区志愿服务工作总结(优秀4篇)" not in texts
    assert not any(text.startswith("时间:") for text in texts)


def test_it_removes_the_dot_sites_insert_between_characters(import_fixture):
    article = parse_file(import_fixture("volunteer-summary.txt"))
    first = article.pieces[1].blocks[0]["text"]
    assert first.endswith("取得了较好的效果。")
    assert ".效果" not in article.pieces[1].text


def test_it_joins_words_split_onto_their_own_lines(import_fixture):
    article = parse_file(import_fixture("volunteer-summary.txt"))
    text = article.pieces[1].text
    assert "对方每年提供活动经费__万元,并资助添置了一批服装和工具。" in text
    assert "资助" not in [block["text"] for block in article.pieces[1].blocks]


def test_it_assigns_heading_levels_by_their_markers(import_fixture):
    piece = parse_file(import_fixture("volunteer-summary.txt")).pieces[0]
    blocks = kinds(piece)
    assert ("h1", "一、健全组织,夯实志愿服务基础") in blocks
    assert ("h2", "(一)完善招募机制") in blocks
    assert ("h3", "1、建立志愿者档案") in blocks
    assert ("h3", "(1)按月汇总时长") in blocks
    # Long paragraphs that open with 一是 keep their marker and stay paragraphs.
    assert blocks[10][0] == "p" and blocks[10][1].startswith("一是关爱独居老人。")


# --- piece markers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markers", "titles"),
    [
        (["篇一", "篇二", "篇三"], ["", "", ""]),
        (["【篇一】", "【篇二】", "【篇三】"], ["", "", ""]),
        (["篇一：春耕", "篇二：夏耘", "篇三：秋收"], ["春耕", "夏耘", "秋收"]),
        (["【篇一】春耕", "【篇二】夏耘", "【篇三】秋收"], ["春耕", "夏耘", "秋收"]),
        (["范文一", "范文二", "范文三"], ["范文一", "范文二", "范文三"]),
        (["范文1", "范文2", "范文3"], ["范文1", "范文2", "范文3"]),
        (["范文1：春耕", "范文2：夏耘", "范文3：秋收"], ["春耕", "夏耘", "秋收"]),
        (["第一篇", "第二篇", "第三篇"], ["第一篇", "第二篇", "第三篇"]),
        (["第1篇 春耕", "第2篇 夏耘", "第3篇 秋收"], ["春耕", "夏耘", "秋收"]),
        (
            ["农事总结篇一", "农事总结篇二", "农事总结篇三"],
            ["农事总结篇一", "农事总结篇二", "农事总结篇三"],
        ),
        (
            ["农事总结 篇1", "农事总结 篇2", "农事总结 篇3"],
            ["农事总结 篇1", "农事总结 篇2", "农事总结 篇3"],
        ),
        (
            ["农事总结（一）", "农事总结（二）", "农事总结（三）"],
            ["农事总结（一）", "农事总结（二）", "农事总结（三）"],
        ),
    ],
)
def test_it_finds_pieces_by_every_kind_of_marker(markers, titles):
    bodies = [BODY_A, BODY_B, BODY_C]
    text = "农事总结\n\n" + "\n\n".join(f"{m}\n\n{b}" for m, b in zip(markers, bodies, strict=True))
    article = parse_text(text)
    assert article.title == "农事总结"
    assert [piece.title for piece in article.pieces] == titles
    assert [piece.text for piece in article.pieces] == bodies


def test_it_finds_pieces_marked_with_bracketed_numbers_and_a_title_on_the_next_line():
    text = f"读书心得\n【篇一】\n开卷有益\n{BODY_A}\n【篇二】\n书香满屋\n{BODY_B}"
    article = parse_text(text)
    assert [piece.title for piece in article.pieces] == ["开卷有益", "书香满屋"]
    assert article.pieces[0].text == BODY_A


def test_it_keeps_a_text_without_markers_as_one_piece():
    article = parse_text(f"年度工作总结\n{BODY_A}\n一、主要成绩\n{BODY_B}\n{BODY_C}")
    assert article.title == "年度工作总结"
    assert len(article.pieces) == 1
    assert article.pieces[0].title == ""
    assert kinds(article.pieces[0])[1] == ("h1", "一、主要成绩")


def test_it_ignores_marker_words_inside_sentences_and_out_of_order_markers():
    text = (
        f"学习心得\n这是我写的第一篇心得，请大家指正。\n{BODY_A}\n篇二\n{BODY_B}\n范文三\n{BODY_C}"
    )
    article = parse_text(text)
    assert len(article.pieces) == 1
    assert "篇二" in article.pieces[0].text


def test_it_drops_a_navigation_line_that_lists_all_the_pieces():
    text = f"学习心得\n篇一 篇二\n篇一\n{BODY_A}\n篇二\n{BODY_B}"
    article = parse_text(text)
    assert len(article.pieces) == 2
    assert article.intro == ""


def test_it_takes_the_title_from_a_title_line_with_the_marker_when_nothing_else_names_it():
    text = f"农事总结篇一\n{BODY_A}\n农事总结篇二\n{BODY_B}"
    article = parse_text(text)
    assert article.title == "农事总结"
    assert len(article.pieces) == 2


def test_it_falls_back_to_the_file_name_for_the_title():
    article = parse_text(f"{BODY_A}\n{BODY_B}", name="秋季运动会总结(优秀2篇).txt")
    assert article.title == "秋季运动会总结"


def test_it_strips_the_piece_count_from_the_title():
    for raw in ("春节慰问信(优秀5篇)", "春节慰问信（精选10篇）", "春节慰问信【通用3篇】"):
        assert parse_text(f"{raw}\n{BODY_A}").title == "春节慰问信"


# --- headings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("一、指导思想", "h1"),
        ("二.工作目标", "h1"),
        ("(一)加强领导", "h2"),
        ("（二）落实责任", "h2"),
        ("1、建立台账", "h3"),
        ("2.定期检查", "h3"),
        ("（1）每月自查", "h3"),
        ("(2)每季督查", "h3"),
        ("①明确分工", "h3"),
        ("一是加强学习。", "h3"),
        ("第一，统一思想", "h3"),
        ("一、强化组织领导，努力夯实工作基础。", "h1"),
        ("一、工作目标：", "h1"),
    ],
)
def test_it_makes_short_marked_lines_headings(line, kind):
    piece = parse_text(f"计划\n{BODY_A}\n{line}\n{BODY_B}").pieces[0]
    assert kinds(piece)[1] == (kind, line)


@pytest.mark.parametrize(
    "line",
    [
        "一是坚持学习不放松。每周五下午集中学习两个小时，由各科室轮流领学，学后交流心得体会。",
        "1、3月份组织开展了植树活动，全体干部职工共栽种树苗三百余棵，成活率达到九成以上。",
        "（1）各小组要在每月底前把本月的工作进展报送办公室，",
        "1.5万元专项经费已经全部到位",
    ],
)
def test_it_keeps_long_or_unfinished_marked_lines_as_paragraphs(line):
    piece = parse_text(f"计划\n{BODY_A}\n{line}\n{BODY_B}").pieces[0]
    assert kinds(piece)[1] == ("p", line)


def test_it_treats_a_run_of_numbered_sentences_as_paragraphs():
    lines = ["1、加强领导。", "2、落实责任。", "3、严格考核。"]
    piece = parse_text("计划\n" + BODY_A + "\n" + "\n".join(lines) + "\n" + BODY_B).pieces[0]
    assert [kind for kind, _ in kinds(piece)[1:4]] == ["p", "p", "p"]


def test_it_does_not_glue_a_heading_to_the_paragraph_after_it():
    piece = parse_text(f"计划\n一、基本情况\n{BODY_A}").pieces[0]
    assert kinds(piece) == [("h1", "一、基本情况"), ("p", BODY_A)]


def test_it_does_not_glue_short_lines_after_finished_sentences():
    piece = parse_text(f"申请书\n{BODY_A}\n此致\n敬礼！\n张三\n2024年3月1日").pieces[0]
    assert [text for _, text in kinds(piece)] == [BODY_A, "此致", "敬礼！", "张三", "2024年3月1日"]


# --- site junk ---------------------------------------------------------------------------


def test_it_cuts_the_paywall_and_everything_after_it():
    text = f"总结\n{BODY_A}\n全文阅读已结束,如果需要下载本文请点击\n下载此文档\n{BODY_B}"
    article = parse_text(text)
    assert article.pieces[0].text == BODY_A


def test_it_cuts_a_related_articles_list_at_the_end():
    text = f"总结\n{BODY_A}\n相关推荐:\n年终总结范文\n半年工作总结"
    assert parse_text(text).pieces[0].text == BODY_A


def test_it_drops_site_credits_but_keeps_the_paragraph_they_are_glued_to():
    text = f"总结\n{BODY_A}本文由范文网整理发布，转载请注明出处。\n本文由范文网整理\n{BODY_B}"
    article = parse_text(text)
    assert article.pieces[0].text == f"{BODY_A}\n{BODY_B}"


def test_it_keeps_a_long_paragraph_that_mentions_a_keyword():
    para = "我们在窗口设立了联系客服专线，群众遇到问题可以随时拨打，工作人员会在一个工作日内答复并跟踪办理结果。"
    assert parse_text(f"总结\n{para}").pieces[0].text == para


def test_it_moves_a_generic_opening_paragraph_of_a_single_piece_into_the_intro():
    intro = "以下是小编为大家整理的入团申请书范文，希望对你有所帮助。"
    article = parse_text(f"入团申请书\n{intro}\n{BODY_A}\n{BODY_B}")
    assert article.intro == intro
    assert article.pieces[0].text == f"{BODY_A}\n{BODY_B}"


def test_it_rejects_a_file_with_only_boilerplate():
    with pytest.raises(ImportRejected, match="没有正文"):
        parse_text("当前位置:网站首页 >> 作文\n全文阅读已结束\n下载此文档")


# --- markdown ---------------------------------------------------------------------------


def test_it_reads_markdown_headings_as_title_and_levels():
    text = (
        "# 班级工作计划\n\n"
        f"{BODY_A}\n\n"
        "## 工作目标\n\n"
        f"{BODY_B}\n\n"
        "### 具体措施\n\n"
        "- **每周**一次班会，[详见附件](http://example.com)\n\n"
        "#### 时间安排\n\n"
        f"{BODY_C}\n"
    )
    article = parse_bytes(text.encode("utf-8"), "计划.md")
    assert article.title == "班级工作计划"
    assert article.source_format == "md"
    assert kinds(article.pieces[0]) == [
        ("p", BODY_A),
        ("h1", "工作目标"),
        ("p", BODY_B),
        ("h2", "具体措施"),
        ("p", "每周一次班会，详见附件"),
        ("h3", "时间安排"),
        ("p", BODY_C),
    ]


def test_it_splits_markdown_pieces_and_prefers_text_markers_for_levels():
    text = (
        "# 读后感\n\n## 篇一：少年的你\n\n"
        f"{BODY_A}\n\n## （一）初读感受\n\n{BODY_B}\n\n## 篇二：远方\n\n{BODY_C}\n"
    )
    article = parse_bytes(text.encode("utf-8"), "读后感.md")
    assert [piece.title for piece in article.pieces] == ["少年的你", "远方"]
    assert kinds(article.pieces[0])[1] == ("h2", "（一）初读感受")
    assert "__" not in article.pieces[0].text


def test_a_bare_fanwen_or_di_marker_names_its_piece():
    text = f"入党申请书\n范文一：\n{BODY_A}\n范文二：\n{BODY_B}"
    assert [piece.title for piece in parse_text(text).pieces] == ["范文一", "范文二"]
    text = f"入党申请书\n【第一篇】\n{BODY_A}\n【第二篇】\n{BODY_B}"
    assert [piece.title for piece in parse_text(text).pieces] == ["第一篇", "第二篇"]
