"""Files the importer must refuse cleanly: not regular, too large, too slow, zip bombs, and
encodings it would otherwise store garbled. A refused file stores nothing; the batch goes on."""

from __future__ import annotations

import codecs
import io
import json
import os
import random
import socket
import time
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from fanwen.exports.docx import docx_mark
from fanwen.library.importer import ImportRejected, parse_bytes, parse_file
from fanwen.library.importer.files import read_regular_file
from fanwen.library.models import Article, Category, Piece

ESSAY = "秋季运动会总结\n本次运动会共有十二个班级参加，同学们奋勇拼搏，赛出了风格，也赛出了水平。\n一、赛事概况\n比赛历时两天，共进行了二十个项目的角逐。"
TRADITIONAL = (
    "秋季運動會總結\n本次運動會共有十二個班級參加，同學們奮勇拼搏，賽出了風格，也賽出了水平。"
)
JAPANESE = (
    "秋の運動会のまとめ\n今回の運動会には十二のクラスが参加し、生徒たちは全力で頑張りました。"
)
KOREAN = "가을 운동회 총결\n이번 운동회에는 열두 개 반이 참가했으며 학생들은 최선을 다했습니다."


# --- encodings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"], ids=lambda e: e
)
def test_utf16_and_utf32_without_a_bom_are_read(encoding):
    article = parse_bytes(ESSAY.encode(encoding), "a.txt")
    assert article.title == "秋季运动会总结"
    assert article.pieces[0].blocks[0]["text"].startswith("本次运动会")


def test_utf16_of_chinese_with_no_ascii_at_all_is_read():
    text = ESSAY.replace("\n", "。")
    article = parse_bytes(text.encode("utf-16-le"), "秋季运动会总结.txt")
    assert "同学们奋勇拼搏" in article.pieces[0].text


def test_big5_is_read_as_big5_and_stored_simplified():
    article = parse_bytes(TRADITIONAL.encode("big5"), "a.txt")
    assert article.title == "秋季运动会总结"
    assert "同学们奋勇拼搏" in article.pieces[0].text


def test_a_big5_web_page_is_read_too():
    html = f'<html><head><meta charset="big5"></head><body><h1>秋季運動會總結</h1><p>{TRADITIONAL}</p></body></html>'
    article = parse_bytes(html.encode("big5"), "a.html")
    assert "同学们奋勇拼搏" in article.pieces[0].text


@pytest.mark.parametrize(
    ("data", "language"),
    [
        (JAPANESE.encode("shift_jis"), "日文"),
        (JAPANESE.encode("euc_jp"), "日文"),
        (JAPANESE.encode("utf-8"), "日文"),
        (KOREAN.encode("euc_kr"), "韩文"),
        (KOREAN.encode("utf-8"), "韩文"),
    ],
    ids=["shift-jis", "euc-jp", "japanese-utf8", "euc-kr", "korean-utf8"],
)
def test_japanese_and_korean_are_refused_not_stored_garbled(data, language):
    with pytest.raises(ImportRejected, match=language):
        parse_bytes(data, "a.txt")


def test_a_bom_that_lies_is_refused_with_the_offset_counted_from_the_file_start():
    with pytest.raises(ImportRejected, match="第 3 字节"):
        parse_bytes(codecs.BOM_UTF8 + b"\xff\xfe\xfd" * 20, "a.txt")


def test_utf8_mixed_with_gbk_is_refused_with_the_first_bad_byte():
    data = ESSAY.encode() + ESSAY.encode("gbk")
    with pytest.raises(ImportRejected, match=f"第 {len(ESSAY.encode())} 字节"):
        parse_bytes(data, "a.txt")


def test_random_bytes_with_nul_in_both_lanes_are_binary():
    junk = random.Random(3).randbytes(4000)
    with pytest.raises(ImportRejected, match="二进制"):
        parse_bytes(junk, "a.txt")


# --- sizes and time ----------------------------------------------------------------------


@override_settings(FANWEN_IMPORT_MAX_CHARS=1000)
def test_text_over_the_character_cap_is_refused_before_parsing():
    with pytest.raises(ImportRejected, match="过长"):
        parse_bytes(("很长的一行。" * 500).encode(), "a.txt")


@override_settings(FANWEN_IMPORT_MAX_PARAGRAPHS=100)
def test_an_article_of_too_many_paragraphs_is_refused_and_one_within_the_cap_is_not():
    parse_bytes(("标题\n" + "一、加强领导\n" * 99).encode(), "a.txt")
    with pytest.raises(ImportRejected, match="段落过多"):
        parse_bytes(("标题\n" + "一、加强领导\n" * 100).encode(), "a.txt")


@override_settings(FANWEN_IMPORT_MAX_SECONDS=1e-9)
def test_a_file_over_its_time_budget_is_refused_with_a_message():
    with pytest.raises(ImportRejected, match="超时"):
        parse_bytes((ESSAY + "\n").encode() * 50, "a.txt")


def test_the_size_a_file_system_reports_is_not_trusted():
    # /proc files say they are 0 bytes long; the read is bounded all the same.
    with pytest.raises(ImportRejected, match="过大"):
        read_regular_file("/proc/self/maps", 64)


# --- not regular files -------------------------------------------------------------------


def test_a_fifo_is_refused_at_once_instead_of_hanging(tmp_path):
    fifo = tmp_path / "管道.txt"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(ImportRejected, match="命名管道"):
        parse_file(fifo)
    assert time.monotonic() - started < 2


def test_a_symlink_is_not_followed_by_parse_file(tmp_path):
    link = tmp_path / "passwd.txt"
    link.symlink_to("/etc/passwd")
    with pytest.raises(ImportRejected, match="符号链接"):
        parse_file(link)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_a_device_is_refused(device):
    with pytest.raises(ImportRejected, match="字符设备"):
        read_regular_file(device, 1024)


def _run(*args: str) -> list[dict]:
    out = io.StringIO()
    try:
        call_command("import_articles", *args, "--json", stdout=out, stderr=io.StringIO())
    except CommandError:
        pass
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.mark.django_db
def test_a_folder_imports_only_its_regular_files_and_stores_nothing_for_the_rest(tmp_path):
    folder = tmp_path / "范文"
    folder.mkdir()
    (folder / "ok.txt").write_text(ESSAY, encoding="utf-8")
    (tmp_path / "outside.txt").write_text(ESSAY.replace("秋季", "春季"), encoding="utf-8")
    (folder / "zero.txt").symlink_to("/dev/zero")
    (folder / "passwd.txt").symlink_to("/etc/passwd")
    (folder / "outside.txt").symlink_to(tmp_path / "outside.txt")
    (folder / "escape.txt").symlink_to("../outside.txt")
    (folder / "loop-a.txt").symlink_to(folder / "loop-b.txt")
    (folder / "loop-b.txt").symlink_to(folder / "loop-a.txt")
    (folder / "inside.txt").symlink_to("ok.txt")
    os.mkfifo(folder / "fifo.txt")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(folder / "socket.txt"))
    (folder / "shift-jis.txt").write_bytes(JAPANESE.encode("shift_jis"))
    reports = {r["file"].rsplit("/", 1)[-1]: r for r in _run(str(folder))}
    server.close()
    assert reports["ok.txt"]["ok"] and reports["inside.txt"]["ok"]
    refused = {name: r["error"] for name, r in reports.items() if not r["ok"]}
    assert "文件夹以外" in refused["zero.txt"]
    assert "文件夹以外" in refused["passwd.txt"]
    assert "文件夹以外" in refused["outside.txt"]
    assert "文件夹以外" in refused["escape.txt"]
    assert "循环" in refused["loop-a.txt"]
    assert "命名管道" in refused["fifo.txt"]
    assert "套接字" in refused["socket.txt"]
    assert "日文" in refused["shift-jis.txt"]
    # Nothing of the refused files: no article, no piece, no category.
    assert Article.objects.count() == 2  # ok.txt, and the link to it inside the folder
    assert not Article.objects.filter(title__contains="春季").exists()
    assert Piece.objects.exclude(article__in=Article.objects.all()).count() == 0
    assert list(Category.objects.values_list("name", flat=True)) == ["范文"]


# --- zip ---------------------------------------------------------------------------------


def _docx_with(make_docx, name: str, data: bytes, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO(make_docx([("Title", "标题"), (None, "正文内容。")]))
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return buffer.getvalue()


def _noisy_xml(size: int) -> bytes:
    # Random characters: compresses ~2x, so only the inflated byte count can stop it.
    rng = random.Random(5)
    body = "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(size // 3))
    return f"<a>{body}</a>".encode()


@override_settings(FANWEN_IMPORT_MAX_UNZIPPED_BYTES=1024 * 1024)
def test_inflating_stops_at_the_byte_limit_it_counts(make_docx):
    data = _docx_with(make_docx, "customXml/item99.xml", _noisy_xml(3 * 1024 * 1024))
    with pytest.raises(ImportRejected, match="解压后超过上限"):
        parse_bytes(data, "大.docx")


def test_a_bzip2_entry_is_refused_before_it_is_inflated(make_docx):
    data = _docx_with(make_docx, "word/footer9.xml", _noisy_xml(300_000), zipfile.ZIP_BZIP2)
    started = time.monotonic()
    with pytest.raises(ImportRejected, match="压缩方式"):
        parse_bytes(data, "炸弹.docx")
    assert time.monotonic() - started < 2


def test_a_media_bomb_is_refused_without_being_inflated(make_docx):
    data = _docx_with(
        make_docx, "word/media/image9.png", b"\0" * (20 * 1024 * 1024), zipfile.ZIP_BZIP2
    )
    started = time.monotonic()
    with pytest.raises(ImportRejected, match="压缩比"):
        parse_bytes(data, "图片.docx")
    assert time.monotonic() - started < 2


def test_media_in_a_docx_is_left_alone_and_the_text_imported(make_docx):
    # Images are not parsed, so they are not inflated: a broken one costs nothing.
    data = _docx_with(make_docx, "word/media/image9.png", b"\x89PNG not really", zipfile.ZIP_STORED)
    assert parse_bytes(data, "图片.docx").pieces[0].text == "正文内容。"


def test_the_staff_mark_lookup_uses_the_same_limits(make_docx):
    data = _docx_with(make_docx, "word/footer9.xml", _noisy_xml(300_000), zipfile.ZIP_BZIP2)
    with pytest.raises(ValueError, match="压缩方式"):
        docx_mark(data)
    xxe = make_docx([(None, "正文")])
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xxe)) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "docProps/core.xml":
                content = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
            target.writestr(info, content)
    with pytest.raises(ValueError, match="DOCTYPE"):
        docx_mark(buffer.getvalue())
