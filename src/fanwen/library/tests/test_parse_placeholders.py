"""Fill-in blanks: every kind, exact offsets into the piece text, no false alarms."""

from __future__ import annotations

import pytest

from fanwen.library.importer import parse_bytes
from fanwen.library.importer.placeholders import PLACEHOLDER_GROUPS, find_placeholders


def found(text: str) -> list[tuple[str, str]]:
    return [(ph["kind"], ph["text"]) for ph in find_placeholders(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20xx年，我们完成了任务。", [("year", "20xx")]),
        ("在20__年的工作中", [("year", "20__")]),
        ("xx年的防汛工作", [("year", "xx")]),
        ("__年党风廉政建设任务", [("year", "__")]),
        ("20XX-20XX学年度", [("year", "20XX"), ("year", "20XX")]),
        ("于20xx年xx月xx日正式实施", [("date", "20xx年xx月xx日")]),
        ("落款：20__年__月__日", [("date", "20__年__月__日")]),
        ("xx月xx日上午召开", [("date", "xx月xx日")]),
        ("2024年x月x日", [("date", "2024年x月x日")]),
        ("由xx同志担任组长", [("name", "xx")]),
        ("某某同学表现突出", [("name", "某某")]),
        ("申请人：____", [("name", "____")]),
        ("由___副局长分管", [("name", "___")]),
        ("我们和xx公司签订协议", [("unit", "xx")]),
        ("××局认真贯彻落实", [("unit", "××")]),
        ("组织__系统开展活动", [("unit", "__")]),
        ("某某社区居委会", [("unit", "某某")]),
        ("全年新注册志愿者__人", [("number", "__")]),
        ("获得第__名", [("number", "__")]),
        ("共计__万元", [("number", "__")]),
        ("学习党的xx大会议精神", [("number", "xx")]),
        ("送__进社区", [("blank", "__")]),
        ("结合“____”普法宣传", [("blank", "____")]),
        ("请填写□□后交回", [("blank", "□□")]),
        ("学习xx3号文件精神", [("other", "xx")]),
        ("××认为应当加强", [("other", "××")]),
    ],
)
def test_it_finds_every_kind_of_placeholder(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "人均gdp和单位gdp能耗都达到了要求。",
        "他穿xxl码的衣服，用Linux系统，读了xxx.com的文章。",
        "面积为3×4米，比分2:1。",
        "某单位在2023年9月13日完成了验收。",
        "file_name 和 snake_case 都是程序员的写法。",
    ],
)
def test_it_does_not_flag_ordinary_words(text):
    assert find_placeholders(text) == []


def test_offsets_point_into_the_piece_text_across_blocks():
    text = (
        "公司工作总结\n一、概况\n20xx年，xx公司共有员工__人。\n二、打算\n请于xx月xx日前报送某某。"
    )
    piece = parse_bytes(text.encode("utf-8"), "a.txt").pieces[0]
    assert piece.placeholders
    for ph in piece.placeholders:
        assert piece.text[ph["start"] : ph["end"]] == ph["text"]
    assert [ph["kind"] for ph in piece.placeholders] == [
        "year",
        "unit",
        "number",
        "date",
        "name",
    ]


def test_every_kind_has_a_question_for_the_fill_in_form():
    kinds = {"year", "date", "unit", "name", "number", "blank", "other"}
    assert kinds <= set(PLACEHOLDER_GROUPS)
    assert PLACEHOLDER_GROUPS["unit"] == "单位名称"
    assert PLACEHOLDER_GROUPS["blank"] == PLACEHOLDER_GROUPS["other"] == "其他"
