import pytest

from fanwen.exports.text import article_lines, article_text
from fanwen.library.models import Piece


def test_the_text_is_title_then_each_piece_heading_and_its_blocks_one_per_line(three_pieces):
    lines = article_text(three_pieces).split("\n")
    assert lines[:12] == [
        "社区志愿服务工作总结",
        "",
        "社区志愿服务工作总结篇一",
        "第1篇的开头：今年以来，我们围绕服务群众这条主线开展工作。",
        "一、主要做法",
        "（一）健全工作机制",
        "成立工作小组，明确分工，每月召开一次例会，把任务落到每个人。",
        "1、建立台账",
        "对照年初计划逐项建立台账，完成一项销号一项，做到心中有数。",
        "二、存在的不足",
        "第1篇的结尾：宣传还不够深入，下一步将在20__年继续改进。",
        "",
    ]
    assert lines[12] == "社区志愿服务工作总结篇二"
    assert lines[-1] == "第3篇的结尾：宣传还不够深入，下一步将在20__年继续改进。"
    assert len(lines) == 2 + 3 * 9 + 2  # title + blank, 3 x (heading + 8 blocks), 2 blanks between
    kinds = [line.kind for line in article_lines(three_pieces)]
    assert kinds[:6] == ["title", "blank", "piece", "p", "h1", "h2"]


def test_a_piece_alone_is_titled_like_the_article_without_its_label(three_pieces):
    text = article_text(three_pieces, piece_position=2)
    assert text.split("\n")[:3] == [
        "社区志愿服务工作总结",
        "",
        "第2篇的开头：今年以来，我们围绕服务群众这条主线开展工作。",
    ]
    assert "第1篇" not in text and "第3篇" not in text and "篇二" not in text


def test_a_piece_with_a_title_of_its_own_keeps_it(three_pieces):
    Piece.objects.filter(article=three_pieces, position=2).update(title="我眼中的志愿者")
    whole = article_text(three_pieces).split("\n")
    assert "篇二\u3000我眼中的志愿者" in whole
    assert article_text(three_pieces, piece_position=2).split("\n")[0] == "我眼中的志愿者"


def test_an_article_of_one_piece_has_no_piece_heading(with_blanks):
    lines = article_text(with_blanks).split("\n")
    assert lines[:3] == [
        "xx公司20__年工作计划",
        "",
        "20__年，xx公司将围绕年度目标，扎实推进各项工作。",
    ]


def test_asking_for_a_piece_that_is_not_there_fails(three_pieces):
    with pytest.raises(Piece.DoesNotExist, match="没有第9篇"):
        article_text(three_pieces, piece_position=9)


def test_invisible_junk_and_broken_blocks_do_not_reach_the_export(with_blanks):
    piece = with_blanks.pieces.get()
    piece.blocks = [
        {"kind": "p", "text": "\u3000\u3000第一段\u200b落实\x07到位。\t完成。"},
        {"kind": "h9", "text": "未知级别当作段落"},
        {"kind": "p", "text": ""},
        "不是块",
        {"kind": "p"},
        {"kind": "p", "text": "两行\n合在一块\r\n里"},
    ]
    piece.save()
    assert article_text(with_blanks).split("\n")[2:] == [
        "第一段落实到位。 完成。",
        "未知级别当作段落",
        "两行",
        "合在一块",
        "里",
    ]
    assert [line.kind for line in article_lines(with_blanks)][2:] == ["p"] * 5
