import re

import pytest

from fanwen.exports.fill import apply_fill
from fanwen.exports.text import article_placeholder_groups, article_text
from fanwen.library.models import Piece


def by_token(groups: list[dict]) -> dict[tuple[str, str], dict]:
    return {(g["kind"], g["token"]): g for g in groups}


def test_placeholders_are_grouped_by_kind_with_a_label_an_example_and_a_count(with_blanks):
    groups = article_placeholder_groups(with_blanks)
    found = by_token(groups)
    assert set(found) == {
        ("year", "20__"),
        ("date", "20__年xx月xx日"),
        ("unit", "xx"),
        ("number", "xx"),
        ("name", "某某"),
        ("other", "____"),
    }
    # The title's 20__年 and two in the body; the title's xx公司 and three in the body.
    assert found[("year", "20__")]["count"] == 3
    assert found[("unit", "xx")]["count"] == 4
    assert found[("number", "xx")]["count"] == 2
    assert found[("year", "20__")]["label"] == "年份"
    assert found[("unit", "xx")]["label"] == "单位名称"
    assert found[("date", "20__年xx月xx日")]["label"] == "日期"
    assert found[("other", "____")]["label"] == "其他"
    assert found[("unit", "xx")]["example"] == "xx公司20__年工…"
    assert found[("number", "xx")]["example"] == "全年营业收入达到xx万元，新增客户不…"
    # Form order: year, date, unit, name, number, other.
    assert [g["kind"] for g in groups] == ["year", "date", "unit", "name", "number", "other"]
    for group in groups:
        assert re.fullmatch(r"[a-z]+-[0-9a-f]{8}", group["key"])


def test_keys_are_the_same_for_the_same_placeholder_anywhere(with_blanks, three_pieces):
    first = {(g["kind"], g["token"]): g["key"] for g in article_placeholder_groups(with_blanks)}
    again = {(g["kind"], g["token"]): g["key"] for g in article_placeholder_groups(with_blanks)}
    elsewhere = {
        (g["kind"], g["token"]): g["key"] for g in article_placeholder_groups(three_pieces)
    }
    assert first == again
    assert elsewhere[("year", "20__")] == first[("year", "20__")]
    assert len(set(first.values())) == len(first)


def test_a_piece_alone_has_only_its_own_placeholders(three_pieces):
    Piece.objects.filter(article=three_pieces, position=3).update(
        blocks=[{"kind": "p", "text": "xx社区全体志愿者于xx月xx日集中开展服务。"}]
    )
    assert {g["token"] for g in article_placeholder_groups(three_pieces, piece_position=1)} == {
        "20__"
    }
    third = by_token(article_placeholder_groups(three_pieces, piece_position=3))
    assert set(third) == {("unit", "xx"), ("date", "xx月xx日")}
    assert by_token(article_placeholder_groups(three_pieces))[("year", "20__")]["count"] == 2


def test_filled_values_replace_every_place_of_their_group_and_only_those(with_blanks):
    found = by_token(article_placeholder_groups(with_blanks))
    fill = {
        found[("year", "20__")]["key"]: "2025",
        found[("unit", "xx")]["key"]: " 青山建设 ",
        found[("date", "20__年xx月xx日")]["key"]: "2025年1月6日",
        found[("number", "xx")]["key"]: "",
    }
    lines = article_text(with_blanks, fill=fill).split("\n")
    assert lines == [
        "青山建设公司2025年工作计划",
        "",
        "2025年，青山建设公司将围绕年度目标，扎实推进各项工作。",
        "一、主要目标",
        "全年营业收入达到xx万元，新增客户不少于xx家，青山建设公司品牌影响力进一步提升。",
        "某某同志负责牵头，2025年底前完成考核。",
        "联系人：____",
        "青山建设公司办公室",
        "2025年1月6日",
    ]
    assert apply_fill(article_text(with_blanks), fill) == "\n".join(lines)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("长" * 51, "太长"),
        ("第一行\n第二行", "控制字符或不可见字符"),
        ("隐\u200b藏", "控制字符或不可见字符"),
        ("\u202e反向", "控制字符或不可见字符"),
        ("\ue000", "控制字符或不可见字符"),
        (2025, "必须是文字"),
    ],
)
def test_bad_values_are_refused_with_a_message(with_blanks, value, message):
    key = article_placeholder_groups(with_blanks)[0]["key"]
    with pytest.raises(ValueError, match=message):
        article_text(with_blanks, fill={key: value})


def test_malformed_keys_and_too_many_values_are_refused():
    with pytest.raises(ValueError, match="未知的填写项"):
        apply_fill("20__年", {"<script>": "2025"})
    with pytest.raises(ValueError, match="太多"):
        apply_fill("20__年", {f"year-{n:08x}": "1" for n in range(101)})
    with pytest.raises(ValueError, match="格式不对"):
        apply_fill("20__年", ["2025"])


def test_a_value_of_fifty_characters_is_accepted(with_blanks):
    key = by_token(article_placeholder_groups(with_blanks))[("unit", "xx")]["key"]
    assert article_text(with_blanks, fill={key: "长" * 50}).startswith("长" * 50 + "公司20__年")


def test_stale_or_broken_stored_placeholders_do_not_matter(with_blanks):
    # The importer's offsets go stale when a block is edited; garbage must not break the form.
    Piece.objects.filter(article=with_blanks).update(placeholders={"start": "x"})
    assert by_token(article_placeholder_groups(with_blanks))[("unit", "xx")]["count"] == 4
    Piece.objects.filter(article=with_blanks).update(
        placeholders=[{"start": 500, "end": 2, "kind": "nonsense", "text": None}, "x"]
    )
    assert by_token(article_placeholder_groups(with_blanks))[("unit", "xx")]["count"] == 4


def test_odd_placeholders_are_found_and_words_are_left_alone(with_blanks):
    Piece.objects.filter(article=with_blanks).update(
        blocks=[
            {"kind": "p", "text": "×××同志于x月x日在Linux培训班上讲课，尺码xxl，邮箱xx@qq.com。"},
            {"kind": "p", "text": "本次共有＿＿人参加，地点：□□□。"},
        ]
    )
    tokens = {(g["kind"], g["token"]) for g in article_placeholder_groups(with_blanks)}
    assert ("name", "×××") in tokens
    assert ("date", "x月x日") in tokens
    assert ("number", "＿＿") in tokens
    assert ("other", "□□□") in tokens
    assert not any("Linux" in t or "xxl" in t or "@" in t for _kind, t in tokens)
