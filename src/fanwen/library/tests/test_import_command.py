"""`fanwen import`: folders, --json reports, categories, and a batch that survives bad files."""

from __future__ import annotations

import io
import json
import shutil

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from fanwen.library.management.commands.import_articles import discover
from fanwen.library.models import Article, Category, Piece

pytestmark = pytest.mark.django_db

ESSAY = "这学期我担任学习委员，每天早上收发作业，督促同学们按时完成。遇到不会的题目，我就和大家一起讨论，直到弄懂为止。"


def run(*args: str) -> tuple[list[dict], str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_articles", *args, "--json", stdout=out, stderr=err)
    return [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue()


def run_failing(*args: str) -> tuple[list[dict], str]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import_articles", *args, "--json", stdout=out, stderr=err)
    assert caught.value.returncode == 1
    return [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue()


def test_it_imports_a_page_and_prints_one_json_object(import_fixture, tmp_path):
    path = tmp_path / "总结" / "volunteer-summary.txt"
    path.parent.mkdir()
    shutil.copy(import_fixture("volunteer-summary.txt"), path)
    [report], err = run(str(path), "--publish")
    assert report["ok"] is True and report["error"] is None
    assert report["file"] == str(path)
    assert report["title"] == "社区志愿服务工作总结"
    article = Article.objects.get(pk=report["article_id"])
    assert article.is_public and article.piece_count == 3
    assert [p["title"] for p in report["pieces"]] == [
        f"社区志愿服务工作总结篇{n}" for n in "一二三四"
    ]
    first = report["pieces"][0]
    assert first["blocks"][1] == {"kind": "h1", "text": "一、健全组织,夯实志愿服务基础"}
    assert {"start", "end", "kind", "text"} <= set(first["placeholders"][0])
    assert [p["duplicate_of"] for p in report["pieces"]] == [
        None,
        None,
        None,
        article.pieces.get(position=3).pk,
    ]
    # Category from the page's breadcrumb (当前位置:网站首页 >> 总结 >> …).
    assert article.category.name == "总结"
    assert "导入完成" in err


def test_json_output_keeps_chinese_readable(import_fixture):
    out = io.StringIO()
    call_command(
        "import_articles",
        str(import_fixture("site-d-single.html")),
        "--json",
        stdout=out,
        stderr=io.StringIO(),
    )
    assert "实习期满转正申请书" in out.getvalue()
    assert "\\u" not in out.getvalue()


def test_a_folder_with_a_bad_file_in_the_middle_imports_the_rest(tmp_path, import_fixture):
    folder = tmp_path / "batch"
    folder.mkdir()
    shutil.copy(import_fixture("site-a-bracketed.html"), folder / "a.html")
    (folder / "b-broken.docx").write_bytes(b"PK\x03\x04 not a real zip file at all")
    (folder / "c.txt").write_text(f"学习委员工作总结\n{ESSAY}", encoding="utf-8")
    reports, err = run_failing(str(folder))
    assert [(r["file"].rsplit("/", 1)[-1], r["ok"]) for r in reports] == [
        ("a.html", True),
        ("b-broken.docx", False),
        ("c.txt", True),
    ]
    broken = reports[1]
    assert "docx" in broken["error"] and broken["article_id"] is None and broken["pieces"] == []
    assert Article.objects.count() == 2
    assert not Article.objects.filter(title__contains="broken").exists()
    assert "成功 2 个，失败 1 个" in err


def test_a_bad_file_stores_nothing_not_even_its_category(tmp_path):
    folder = tmp_path / "新分类"
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    reports, _ = run_failing(str(folder))
    assert reports[0]["ok"] is False and "空" in reports[0]["error"]
    assert (
        Category.objects.count() == 0
        and Article.objects.count() == 0
        and Piece.objects.count() == 0
    )


def test_the_folder_name_is_the_category_when_the_file_has_no_breadcrumb(tmp_path):
    folder = tmp_path / "学生干部"
    folder.mkdir()
    (folder / "c.txt").write_text(f"学习委员工作总结\n{ESSAY}", encoding="utf-8")
    [report], _ = run(str(folder))
    assert Article.objects.get(pk=report["article_id"]).category.name == "学生干部"


def test_the_category_option_wins_and_is_created_once(tmp_path, import_fixture):
    shutil.copy(import_fixture("site-a-bracketed.html"), tmp_path / "a.html")
    shutil.copy(import_fixture("site-c-sections.html"), tmp_path / "c.html")
    reports, _ = run(str(tmp_path), "--category", "精选")
    assert {r["category"] for r in reports} == {"精选"}
    assert Category.objects.filter(name="精选").count() == 1


def test_a_breadcrumb_with_two_levels_makes_a_category_tree(import_fixture):
    [report], _ = run(str(import_fixture("site-c-sections.html")))
    category = Article.objects.get(pk=report["article_id"]).category
    assert (category.name, category.parent.name) == ("初中作文", "作文")


def test_reimporting_a_folder_updates_the_same_articles(tmp_path, import_fixture):
    folder = tmp_path / "batch"
    folder.mkdir()
    shutil.copy(import_fixture("site-b-fanwen-br.html"), folder / "b.html")
    (folder / "c.txt").write_text(f"学习委员工作总结\n{ESSAY}", encoding="utf-8")
    first, _ = run(str(folder))
    (folder / "c.txt").write_text(
        f"学习委员工作总结\n{ESSAY}\n下学期我还要继续努力。", encoding="utf-8"
    )
    second, _ = run(str(folder))
    assert [r["article_id"] for r in first] == [r["article_id"] for r in second]
    assert [r["created"] for r in second] == [False, False]
    assert Article.objects.count() == 2
    article = Article.objects.get(pk=second[1]["article_id"])
    assert article.content_version == 2
    assert article.pieces.get().text.endswith("下学期我还要继续努力。")
    # Naming the file alone finds the same article: the key is "<folder>/<file>" either way.
    [alone], _ = run(str(folder / "c.txt"))
    assert alone["article_id"] == article.pk and alone["created"] is False


def test_a_nested_file_named_alone_updates_the_article_its_folder_import_made(tmp_path):
    nested = tmp_path / "batch" / "学生干部"
    nested.mkdir(parents=True)
    (nested / "c.txt").write_text(f"学习委员工作总结\n{ESSAY}", encoding="utf-8")
    [first], _ = run(str(tmp_path / "batch"))
    [again], _ = run(str(nested / "c.txt"))
    assert again["article_id"] == first["article_id"] and again["created"] is False
    assert Article.objects.count() == 1


def test_two_files_with_the_same_name_and_title_in_different_folders_stay_apart(tmp_path):
    for year in ("2023", "2024"):
        folder = tmp_path / "batch" / year / "学生干部"
        folder.mkdir(parents=True)
        (folder / "c.txt").write_text(f"学习委员工作总结\n{year}年：{ESSAY}", encoding="utf-8")
    reports, _ = run(str(tmp_path / "batch"))
    assert [r["created"] for r in reports] == [True, True]
    assert Article.objects.count() == 2


def test_near_copies_across_files_of_one_batch_are_flagged(tmp_path):
    (tmp_path / "one.txt").write_text(f"学习委员工作总结\n{ESSAY * 2}", encoding="utf-8")
    (tmp_path / "two.txt").write_text(f"学习委员的一学期\n{ESSAY * 2}", encoding="utf-8")
    one, two = run(str(tmp_path))[0]
    assert one["pieces"][0]["duplicate_of"] is None
    assert two["pieces"][0]["duplicate_of"] == Piece.objects.get(article_id=one["article_id"]).pk
    assert two["pieces"][0]["duplicate_of_article_id"] == one["article_id"]


def test_it_reports_every_kind_of_bad_file_and_goes_on(tmp_path, settings, make_docx):
    settings.FANWEN_IMPORT_MAX_BYTES = 4096
    (tmp_path / "1-binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    (tmp_path / "2-empty.md").write_bytes(b"")
    (tmp_path / "3-big.txt").write_bytes("很".encode() * 3000)
    (tmp_path / "4-old.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64)
    (tmp_path / "5-ok.txt").write_text(f"学习委员工作总结\n{ESSAY}", encoding="utf-8")
    (tmp_path / "6-notes.pdf").write_bytes(b"%PDF-1.4")  # not picked up from a folder
    reports, _ = run_failing(
        str(tmp_path), str(tmp_path / "6-notes.pdf"), str(tmp_path / "missing.txt")
    )
    errors = {r["file"].rsplit("/", 1)[-1]: r["error"] for r in reports}
    assert "二进制" in errors["1-binary.txt"]
    assert "空" in errors["2-empty.md"]
    assert "过大" in errors["3-big.txt"]
    assert ".doc" in errors["4-old.doc"]
    assert errors["5-ok.txt"] is None
    assert "不支持的文件类型" in errors["6-notes.pdf"]
    assert "不存在" in errors["missing.txt"]
    assert Article.objects.count() == 1


def test_discovery_walks_folders_recursively_and_skips_saved_page_assets(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "deep.md").write_text("x", encoding="utf-8")
    (tmp_path / "page_files").mkdir()
    (tmp_path / "page_files" / "frame.html").write_text("x", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("x", encoding="utf-8")
    (tmp_path / "~$lock.docx").write_bytes(b"x")
    (tmp_path / "style.css").write_text("x", encoding="utf-8")
    (tmp_path / "top.HTML").write_text("x", encoding="utf-8")
    found = discover([str(tmp_path)])
    # A folder's own files first (sorted), then its subfolders.
    assert [s.path.relative_to(tmp_path).as_posix() for s in found] == ["top.HTML", "a/b/deep.md"]
    assert {s.key for s in found} == {f"{tmp_path.name}/a/b/deep.md", f"{tmp_path.name}/top.HTML"}


def test_a_batch_of_hundreds_of_files_imports_every_one(tmp_path):
    for n in range(300):
        body = "\n".join(
            f"{'一二三'[i]}、第{n}号文件的第{i + 1}部分\n"
            f"这是第{n}份测试材料的第{i + 1}段正文，编号{n * 7 + i}，内容各不相同，用于测量批量导入的速度，确保编辑一次上传上千份文件也不用久等。"
            for i in range(3)
        )
        (tmp_path / f"{n:04d}.txt").write_text(f"测试材料{n}\n{body}", encoding="utf-8")
    call_command(
        "import_articles",
        str(tmp_path),
        "--no-progress",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert Article.objects.count() == 300
    assert Article.objects.filter(title="测试材料299", piece_count=1).exists()


def test_the_progress_bar_goes_to_stderr(tmp_path):
    (tmp_path / "c.txt").write_text(f"学习委员工作总结\n{ESSAY}", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    call_command("import_articles", str(tmp_path), stdout=out, stderr=err)
    assert out.getvalue() == ""
    assert "导入" in err.getvalue() and "1/1" in err.getvalue()
