"""Encodings, and the files that must be refused with a clear reason."""

from __future__ import annotations

import codecs
import random

import pytest
from django.test import override_settings

from fanwen.library.importer import ImportRejected, parse_bytes, parse_file

TEXT = "秋季运动会总结\n本次运动会共有十二个班级参加，同学们奋勇拼搏，赛出了风格，也赛出了水平。\n一、赛事概况\n比赛历时两天，共进行了二十个项目的角逐，打破校纪录三项。"


def assert_parsed(article) -> None:
    assert article.title == "秋季运动会总结"
    assert article.pieces[0].blocks[0]["text"].startswith("本次运动会共有十二个班级参加")
    assert article.pieces[0].blocks[1] == {"kind": "h1", "text": "一、赛事概况"}


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode("utf-8"),
        codecs.BOM_UTF8 + TEXT.encode("utf-8"),
        TEXT.encode("gb18030"),
        TEXT.encode("gbk"),
        codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
        TEXT.replace("\n", "\r\n").encode("utf-8"),
    ],
    ids=["utf-8", "utf-8-bom", "gb18030", "gbk", "utf-16-le", "utf-16-be", "crlf"],
)
def test_it_decodes_every_supported_encoding(data):
    assert_parsed(parse_bytes(data, "总结.txt"))


def test_it_reads_characters_only_gb18030_has():
    text = "生僻字总结\n㐀㐁这两个字在扩展区里，也要原样保留下来，不能变成问号或者乱码。"
    article = parse_bytes(text.encode("gb18030"), "a.txt")
    assert "㐀㐁" in article.pieces[0].text


def test_it_uses_the_charset_a_web_page_declares(import_fixture):
    html = import_fixture("site-a-bracketed.html").read_text(encoding="utf-8")
    article = parse_bytes(html.encode("gb18030"), "page.html")
    assert article.title == "学雷锋活动心得体会"
    assert len(article.pieces) == 3


def test_it_rejects_binary_files_with_nul_bytes():
    with pytest.raises(ImportRejected, match="二进制"):
        parse_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "图片.txt")


def test_it_rejects_binary_files_full_of_control_characters():
    junk = bytes([1, 2, 3, 4, 5, 6, 7, 8, 14, 15, 16, 17]) * 200
    with pytest.raises(ImportRejected, match="二进制"):
        parse_bytes(junk, "a.txt")


@pytest.mark.parametrize("data", [b"", b"   \n\r\n\t  ", "\ufeff".encode()])
def test_it_rejects_empty_files(data):
    with pytest.raises(ImportRejected, match="空|没有正文"):
        parse_bytes(data, "空白.txt")


def test_it_rejects_a_file_with_a_title_but_no_text():
    with pytest.raises(ImportRejected, match="没有正文"):
        parse_bytes(
            "<html><head><title>空页面</title></head><body></body></html>".encode(), "a.html"
        )


def test_it_rejects_files_over_the_size_limit_without_reading_them(tmp_path, monkeypatch):
    big = tmp_path / "很大.txt"
    with big.open("wb") as fh:
        fh.seek(20 * 1024 * 1024)
        fh.write(b"x")
    read = []
    monkeypatch.setattr(type(big), "read_bytes", lambda self: read.append(self) or b"")
    with pytest.raises(ImportRejected, match="过大"):
        parse_file(big)
    assert read == []


@override_settings(FANWEN_IMPORT_MAX_BYTES=100)
def test_the_size_limit_comes_from_settings():
    with pytest.raises(ImportRejected, match="过大"):
        parse_bytes(TEXT.encode("utf-8") * 3, "a.txt")


@pytest.mark.parametrize("name", ["表格.xlsx", "照片.jpg", "说明", "课件.pdf"])
def test_it_rejects_unsupported_extensions(name):
    with pytest.raises(ImportRejected, match="不支持的文件类型"):
        parse_bytes(TEXT.encode("utf-8"), name)


def test_it_tells_the_editor_to_convert_old_word_files():
    with pytest.raises(ImportRejected, match=r"\.doc"):
        parse_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "旧文档.doc")


def test_it_reports_a_missing_file(tmp_path):
    with pytest.raises(ImportRejected, match="无法读取"):
        parse_file(tmp_path / "nope.txt")


def test_invalid_utf8_is_refused_with_the_offset_of_the_first_bad_byte():
    data = TEXT.encode("utf-8")
    broken = data[:40] + b"\xff\xfe" + data[40:]
    with pytest.raises(ImportRejected, match="第 40 字节"):
        parse_bytes(broken, "总结.txt")


def test_random_bytes_without_nul_are_rejected():
    rng = random.Random(1)
    junk = bytes(rng.randrange(1, 256) for _ in range(4000))
    with pytest.raises(ImportRejected, match="编码|二进制"):
        parse_bytes(junk, "乱码.txt")
