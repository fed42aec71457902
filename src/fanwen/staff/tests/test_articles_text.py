"""A piece as plain text and back (library/importer/edit_text.py): the importer's heading rules,
one paragraph a line, and a round trip that loses nothing on the demo library."""

from __future__ import annotations

import pytest

from fanwen.library.demo.loader import demo_files
from fanwen.library.importer import parse_bytes, parse_file
from fanwen.library.importer.edit_text import blocks_to_text, text_to_blocks


def test_every_demo_piece_survives_the_round_trip_as_plain_text():
    pieces = [piece for _, path in demo_files() for piece in parse_file(path).pieces]
    assert len(pieces) >= 50
    for piece in pieces:
        text = blocks_to_text(piece.blocks)
        assert "{" not in text and '"kind"' not in text
        assert text_to_blocks(text) == piece.blocks, piece.title
    # The demo needs no explicit marks: the rules alone read every line back.
    marked = [
        line
        for piece in pieces
        for line in blocks_to_text(piece.blocks).splitlines()
        if line.startswith(("#", ">"))
    ]
    assert marked == []
    levels = {block["kind"] for piece in pieces for block in piece.blocks}
    assert levels == {"h1", "h2", "h3", "p"}


def test_headings_are_read_by_the_importers_rules():
    text = "\n".join(
        [
            "今年以来，我们围绕中心工作开展了以下几项工作。",
            "一、主要做法",
            "（一）健全机制",
            "成立领导小组，每月召开一次例会。",
            "1、建立台账",
            "对照计划逐项销号。",
            "",
            "二、存在的不足，我们在今后的工作中还需要不断加以改进和完善，并且要继续努力，争取更好成绩。",
        ]
    )
    blocks = text_to_blocks(text)
    assert [b["kind"] for b in blocks] == ["p", "h1", "h2", "p", "h3", "p", "p"]
    # The same rules as an imported .txt file of the same lines.
    imported = parse_bytes(("测试标题\n" + text).encode("utf-8"), "a.txt").pieces[0].blocks
    assert [b["kind"] for b in imported] == [b["kind"] for b in blocks]


def test_a_run_of_numbered_sentences_stays_text():
    blocks = text_to_blocks("1、按时到岗。\n2、认真记录。\n3、及时上报。")
    assert [b["kind"] for b in blocks] == ["p", "p", "p"]


@pytest.mark.parametrize(
    "blocks",
    [
        # A heading the wording does not give away (a .docx style made it one).
        [{"kind": "h2", "text": "加强领导"}, {"kind": "p", "text": "正文一段。"}],
        # A body line that reads like a heading.
        [{"kind": "p", "text": "一、主要做法"}, {"kind": "p", "text": "正文一段。"}],
        # Lines that begin with the marks themselves.
        [{"kind": "p", "text": "> 引用的一句话"}, {"kind": "h1", "text": "# 井号开头"}],
    ],
)
def test_blocks_the_rules_would_misread_carry_a_mark_and_come_back(blocks):
    text = blocks_to_text(blocks)
    assert text_to_blocks(text) == blocks
    assert any(line[:1] in "#>" for line in text.splitlines())


def test_explicit_marks_set_the_level():
    blocks = text_to_blocks("# 总体情况\n## 具体做法\n### 一点体会\n> 一、这是正文")
    assert blocks == [
        {"kind": "h1", "text": "总体情况"},
        {"kind": "h2", "text": "具体做法"},
        {"kind": "h3", "text": "一点体会"},
        {"kind": "p", "text": "一、这是正文"},
    ]


def test_blank_lines_and_spaces_are_tidied_and_nothing_is_nothing():
    assert text_to_blocks("  第一段\u3000有空格  \n\n\n第二段\r\n") == [
        {"kind": "p", "text": "第一段 有空格"},
        {"kind": "p", "text": "第二段"},
    ]
    assert text_to_blocks(" \n\n") == []
    assert blocks_to_text([]) == ""
