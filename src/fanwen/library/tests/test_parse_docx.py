"""Word files: styles and text markers, and every way a .docx can be bad or hostile."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.test import override_settings

from fanwen.library.importer import ImportRejected, parse_bytes

BODY_A = "本学期我担任初二（3）班班主任，始终把学生的安全和成长放在第一位，班级各项工作有序推进。"
BODY_B = "我坚持每天早到校、晚离校，利用课间和午休时间与学生谈心，及时了解他们的思想动态。"
BODY_C = "期中考试后，我召开了家长会，和家长们一起分析孩子的学习情况，商量改进的办法。"


def kinds(piece) -> list[tuple[str, str]]:
    return [(block["kind"], block["text"]) for block in piece.blocks]


def rewrite_part(data: bytes, name: str, transform) -> bytes:
    """Copy a docx, passing one part through `transform`."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            target.writestr(info, transform(content) if info.filename == name else content)
    return out.getvalue()


def test_it_reads_the_title_style_and_heading_styles(make_docx):
    data = make_docx(
        [
            ("Title", "班主任工作总结(优秀2篇)"),
            (None, BODY_A),
            ("Heading 1", "班级管理"),
            (None, BODY_B),
            ("Heading 2", "家校沟通"),
            (None, BODY_C),
            ("Heading 3", "家访记录"),
            (None, BODY_A),
        ]
    )
    article = parse_bytes(data, "总结.docx")
    assert article.title == "班主任工作总结"
    assert article.source_format == "docx"
    assert kinds(article.pieces[0]) == [
        ("p", BODY_A),
        ("h1", "班级管理"),
        ("p", BODY_B),
        ("h2", "家校沟通"),
        ("p", BODY_C),
        ("h3", "家访记录"),
        ("p", BODY_A),
    ]


def test_it_uses_text_markers_in_plain_word_paragraphs(make_docx):
    data = make_docx(
        [
            (None, "班主任工作总结"),
            (None, "以下是小编整理的班主任工作总结，供大家参考。"),
            (None, "班主任工作总结篇一"),
            (None, "一、加强班级管理"),
            (None, BODY_A),
            (None, "（一）建立班规"),
            (None, BODY_B),
            (None, "班主任工作总结篇二"),
            (None, "1、关注后进生"),
            (None, BODY_C),
        ]
    )
    article = parse_bytes(data, "总结.docx")
    assert article.title == "班主任工作总结"
    assert article.intro == "以下是小编整理的班主任工作总结，供大家参考。"
    assert [p.title for p in article.pieces] == ["班主任工作总结篇一", "班主任工作总结篇二"]
    assert kinds(article.pieces[0])[:3] == [
        ("h1", "一、加强班级管理"),
        ("p", BODY_A),
        ("h2", "（一）建立班规"),
    ]
    assert kinds(article.pieces[1])[0] == ("h3", "1、关注后进生")


def test_it_splits_pieces_on_heading_styled_markers(make_docx):
    data = make_docx(
        [
            ("Title", "读书笔记"),
            ("Heading 1", "第一篇 平凡的世界"),
            (None, BODY_A),
            ("Heading 1", "第二篇 活着"),
            (None, BODY_B),
        ]
    )
    article = parse_bytes(data, "读书笔记.docx")
    assert [(p.title, p.text) for p in article.pieces] == [
        ("平凡的世界", BODY_A),
        ("活着", BODY_B),
    ]


def test_it_reads_text_inside_tables(make_docx):
    data = make_docx(
        [("Title", "值日安排"), (None, BODY_A)], table=[["星期一", "张华"], ["星期二", "李明"]]
    )
    text = parse_bytes(data, "a.docx").pieces[0].text
    assert "星期一" in text and "李明" in text


def test_it_finds_placeholders_in_word_files(make_docx):
    data = make_docx(
        [
            ("Title", "请假条"),
            (None, "本人因家中有事，需于20xx年xx月xx日请假一天，请某某老师批准。"),
        ]
    )
    placeholders = parse_bytes(data, "a.docx").pieces[0].placeholders
    assert [(ph["kind"], ph["text"]) for ph in placeholders] == [
        ("date", "20xx年xx月xx日"),
        ("name", "某某"),
    ]


def test_it_rejects_a_file_that_is_not_a_zip():
    with pytest.raises(ImportRejected, match="不是有效的 .docx"):
        parse_bytes(b"PK\x03\x04 this is not really a zip archive" * 10, "坏文件.docx")


def test_it_rejects_a_truncated_docx(make_docx):
    data = make_docx([("Title", "标题"), (None, BODY_A)])
    with pytest.raises(ImportRejected, match="docx"):
        parse_bytes(data[: len(data) // 2], "截断.docx")


def test_it_rejects_a_zip_without_a_word_document():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(ImportRejected, match="word/document.xml"):
        parse_bytes(buffer.getvalue(), "表格改名.docx")


def test_it_rejects_an_old_doc_file_renamed_to_docx():
    with pytest.raises(ImportRejected, match=r"\.doc"):
        parse_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "改名.docx")


def test_it_rejects_a_zip_bomb_by_its_compression_ratio(make_docx):
    data = make_docx([("Title", "标题"), (None, BODY_A)])
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/media/padding.bin", b"\0" * (8 * 1024 * 1024))
    with pytest.raises(ImportRejected, match="zip 炸弹"):
        parse_bytes(buffer.getvalue(), "炸弹.docx")


@override_settings(FANWEN_IMPORT_MAX_UNZIPPED_BYTES=64 * 1024)
def test_it_rejects_a_docx_whose_declared_unzipped_size_is_too_big(make_docx):
    data = make_docx([("Title", "标题"), (None, BODY_A)])
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_STORED) as archive:
        archive.writestr("word/media/big.bin", b"\x01" * (100 * 1024))
    with pytest.raises(ImportRejected, match="超过上限"):
        parse_bytes(buffer.getvalue(), "大.docx")


def _xxe(content: bytes) -> bytes:
    declaration = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    )
    body = content.split(b"?>", 1)[1]
    return declaration + body.replace("泄露测试".encode(), b"&xxe;")


def test_it_refuses_xxe_in_a_docx_and_never_leaks_local_files(make_docx):
    data = rewrite_part(
        make_docx([("Title", "标题"), (None, "泄露测试")]), "word/document.xml", _xxe
    )
    with pytest.raises(ImportRejected, match="DOCTYPE") as caught:
        parse_bytes(data, "xxe.docx")
    assert "root:" not in str(caught.value)


def test_it_refuses_a_utf16_encoded_dtd_in_a_docx(make_docx):
    def to_utf16(content: bytes) -> bytes:
        text = _xxe(content).decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
        return text.encode("utf-16")

    data = rewrite_part(make_docx([(None, "泄露测试")]), "word/document.xml", to_utf16)
    with pytest.raises(ImportRejected, match="DOCTYPE"):
        parse_bytes(data, "xxe16.docx")


def test_even_the_word_parser_itself_would_not_resolve_the_entity(make_docx):
    # Defence in depth: python-docx's own XML parser leaves external entities alone.
    from docx.oxml.parser import oxml_parser
    from lxml import etree

    data = rewrite_part(make_docx([(None, "泄露测试")]), "word/document.xml", _xxe)
    xml = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml")
    tree = etree.fromstring(xml, oxml_parser)
    assert "root:" not in etree.tostring(tree, encoding="unicode")


def test_it_reads_a_merged_table_cell_once():
    import docx

    document = docx.Document()
    document.add_heading("值日安排", level=0)
    document.add_paragraph(BODY_A)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "本周值日安排"
    table.cell(1, 0).text = "星期一"
    table.cell(1, 1).text = "张华"
    buffer = io.BytesIO()
    document.save(buffer)
    text = parse_bytes(buffer.getvalue(), "a.docx").pieces[0].text
    assert text.split("\n")[1:] == ["本周值日安排", "星期一", "张华"]
