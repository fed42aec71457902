"""Upload batches: create_batch stores files (zips expanded safely), run_batch imports them
group by group, a bad file stores nothing, runners never double-import, a crash is resumed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from fanwen.library.importing import parse_group
from fanwen.library.models import Article, Category
from fanwen.ops.management.commands.worker import JOBS
from fanwen.staff import importing
from fanwen.staff.importing import create_batch, run_batch
from fanwen.staff.models import ImportBatch, ImportItem
from fanwen.staff.tests.conftest import LIBRARY_FIXTURES, essay, make_zip

pytestmark = pytest.mark.django_db


def new_batch(files, user=None, **options) -> ImportBatch:
    options = {
        "category": None,
        "category_from_folder": False,
        "publish_mode": "draft",
        "publish_at": None,
        **options,
    }
    return create_batch(files, user=user, **options)


def stored_files(media: Path) -> list[Path]:
    return sorted(p for p in (media / "imports").rglob("*") if p.is_file())


def test_a_batch_imports_good_files_and_refuses_a_bad_one(
    media, editor, django_capture_on_commit_callbacks
):
    category = Category.objects.create(name="心得体会", slug="xinde")
    files = [
        ("学习委员总结.txt", essay("学习委员工作总结", 1)),
        ("坏文件.docx", b"this is not a zip at all"),
        ("空文件.txt", b"   \n"),
        ("志愿服务.txt", (LIBRARY_FIXTURES / "volunteer-summary.txt").read_bytes()),
        ("读书心得.md", essay("# 读书心得", 2)),
    ]
    batch = new_batch(files, user=editor, category=category)
    assert batch.status == "queued" and batch.total == 5 and batch.done == 0
    assert len(stored_files(media)) == 5
    # The editor's file names never reach the file system.
    assert all(p.parent.name == str(batch.pk) for p in stored_files(media))

    with django_capture_on_commit_callbacks(execute=True):  # the stored files' removal
        batch = run_batch(batch.pk)
    assert (batch.status, batch.total, batch.done, batch.ok, batch.refused) == (
        "done",
        5,
        5,
        3,
        2,
    )
    assert batch.finished_at is not None and batch.created_by == editor
    items = {item.name: item for item in batch.items.all()}
    bad = items["坏文件.docx"]
    assert bad.status == "refused" and bad.article is None and bad.reason
    assert any("\u4e00" <= ch <= "\u9fff" for ch in bad.reason)
    assert items["空文件.txt"].reason == "文件是空的"
    # A refused file stores nothing: three files, three draft articles, all in the category.
    assert Article.objects.count() == 3
    assert set(Article.objects.values_list("category__name", "status")) == {("心得体会", "draft")}
    ok = items["志愿服务.txt"]
    assert ok.status == "ok" and ok.article.title == ok.result["title"] == "社区志愿服务工作总结"
    assert ok.result["piece_count"] == 3
    [duplicate] = ok.result["duplicates"]
    assert duplicate["piece"] == 4 and duplicate["of_position"] == 3
    assert duplicate["same_article"] is True and duplicate["of_article_id"] == ok.article_id
    # Done files are removed from storage; the articles hold the content.
    assert stored_files(media) == [] and not any(item.file for item in items.values())


def test_a_near_copy_of_a_library_article_is_reported(media):
    first = run_batch(new_batch([("原文.txt", essay("原文", 7))]).pk)
    original = first.items.get().article
    second = run_batch(new_batch([("抄的.txt", essay("抄的文章", 7))]).pk)
    [duplicate] = second.items.get().result["duplicates"]
    assert duplicate["same_article"] is False
    assert duplicate["of_article_id"] == original.pk and duplicate["of_article_title"] == "原文"


def test_publish_now_and_at_a_time(media):
    now_batch = run_batch(new_batch([("a.txt", essay("立即发布的", 3))], publish_mode="now").pk)
    assert now_batch.items.get().article.is_public
    when = timezone.now() + timedelta(days=2)
    at_batch = run_batch(
        new_batch([("b.txt", essay("定时发布的", 4))], publish_mode="at", publish_at=when).pk
    )
    article = at_batch.items.get().article
    assert article.status == "scheduled" and article.published_at == when
    assert not article.is_public
    with pytest.raises(ValueError):
        new_batch([("c.txt", b"x")], publish_mode="at")


def test_a_zip_with_folders_gives_categories_from_its_folders(media):
    upload = make_zip(
        {
            "范文/作文/春天.txt": essay("春天来了", 11),
            "范文/总结/年终.txt": essay("年终总结", 12),
            "顶层.txt": essay("顶层的文章", 13),
            "__MACOSX/范文/作文/._春天.txt": b"\x00\x05",
            ".DS_Store": b"\x00",
            "范文/作文/图片.png": b"\x89PNG",
            "范文/作文/旧文.doc": b"\xd0\xcf\x11\xe0",
        }
    )
    batch = run_batch(new_batch([("范文.zip", upload)], category_from_folder=True).pk)
    items = {item.name: item for item in batch.items.all()}
    assert set(items) == {
        "范文.zip/范文/作文/春天.txt",
        "范文.zip/范文/总结/年终.txt",
        "范文.zip/顶层.txt",
        "范文.zip/范文/作文/图片.png",
        "范文.zip/范文/作文/旧文.doc",
    }
    assert items["范文.zip/范文/作文/春天.txt"].article.category.name == "作文"
    assert items["范文.zip/范文/总结/年终.txt"].article.category.name == "总结"
    assert items["范文.zip/顶层.txt"].article.category.name == "未分类"
    assert "不支持的文件类型 .png" in items["范文.zip/范文/作文/图片.png"].reason
    assert ".docx" in items["范文.zip/范文/作文/旧文.doc"].reason
    assert (batch.ok, batch.refused, batch.done, batch.total) == (3, 2, 5, 5)


def test_a_gbk_named_zip_member_keeps_its_chinese_name(media):
    # Windows writes names in GBK without the UTF-8 flag: swap the raw bytes of a placeholder.
    gbk = "作文/春天.txt".encode("gb18030")
    placeholder = b"AAAA/BBBB.txt"
    assert len(gbk) == len(placeholder)
    upload = make_zip({placeholder.decode(): essay("春天", 21)}).replace(placeholder, gbk)
    batch = new_batch([("a.zip", upload)], category_from_folder=True)
    assert batch.items.get().name == "a.zip/作文/春天.txt"
    assert batch.items.get().folder == "作文"


def test_unsafe_zips_are_refused_as_items(media, settings):
    settings.FANWEN_IMPORT_MAX_BYTES = 50_000
    settings.FANWEN_UPLOAD_MAX_UNZIPPED_BYTES = 120_000
    bomb = b"\x00" * 10_000_000  # deflates to ~10 KB
    upload = make_zip(
        {
            "../../etc/逃出去.txt": essay("逃出去", 31),
            "/绝对路径.txt": essay("绝对路径", 32),
            "里面/套娃.zip": make_zip({"a.txt": essay("套娃", 33)}),
            "炸弹.txt": bomb,
            "正常.txt": essay("正常的文章", 34),
        }
    )
    assert len(upload) < 100_000
    batch = new_batch([("上传.zip", upload)])
    items = {item.name: item for item in batch.items.all()}
    assert "不安全" in items["上传.zip/../../etc/逃出去.txt"].reason
    assert "不安全" in items["上传.zip//绝对路径.txt"].reason
    assert "压缩包里的压缩包" in items["上传.zip/里面/套娃.zip"].reason
    assert "文件过大" in items["上传.zip/炸弹.txt"].reason
    assert items["上传.zip/正常.txt"].status == "queued"
    # Only the one good member was written to storage, under the batch's own folder.
    [stored] = stored_files(media)
    assert stored.read_bytes() == essay("正常的文章", 34)
    assert not list(media.parent.rglob("逃出去.txt"))

    # The whole archive inflating past its cap: members beyond it are refused.
    many = make_zip({f"{n}.txt": essay(f"第{n}篇", 40 + n, paragraphs=150) for n in range(6)})
    items = list(new_batch([("大.zip", many)]).items.all())
    assert any("解压后超过上限" in item.reason for item in items)
    assert sum(item.status == "queued" for item in items) < 6

    settings.FANWEN_UPLOAD_MAX_ZIP_MEMBERS = 3
    [refused] = new_batch([("多.zip", many)]).items.all()
    assert "超过上限 3 个" in refused.reason
    [broken] = new_batch([("坏.zip", b"PK\x03\x04 no")]).items.all()
    assert "损坏" in broken.reason


def test_a_runner_never_imports_an_item_another_holds(media):
    files = [(f"{n}.txt", essay(f"第{n}篇文章", 100 + n)) for n in range(6)]
    batch = new_batch(files)
    # Runner A claims the first group and stops there (as if it were still parsing).
    held = importing._claim_items(batch.pk, "runner-a", 3)
    assert len(held) == 3
    # Runner B runs the batch: it does the rest and leaves A's fresh claims alone.
    batch = run_batch(batch.pk)
    assert batch.done == 3 and batch.status == "running"
    assert Article.objects.count() == 3
    # A's claims go stale; B's next run takes them over and finishes the batch...
    ImportItem.objects.filter(claim="runner-a").update(
        claimed_at=timezone.now() - timedelta(seconds=importing.STALE_SECONDS + 1)
    )
    batch = run_batch(batch.pk)
    assert (batch.status, batch.done, batch.ok) == ("done", 6, 6)
    # ...and when A wakes up, it finds its items taken and stores nothing.
    job = importing.FileJob(name=held[0].name, read=lambda: essay("x", 1), source_key="a/x")
    parse_group([job])
    assert importing._finish_item(batch, held[0], job, "runner-a") is False
    assert Article.objects.count() == 6
    assert ImportBatch.objects.get(pk=batch.pk).done == 6


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing on the way catches it."""


def run_until_the_third_store_crashes(batch, monkeypatch, *, commit_seconds: float) -> None:
    real_store = importing.store_parsed
    calls = []

    def dying_store(job, **kwargs):
        calls.append(job.name)
        if len(calls) == 3:
            raise Crash
        return real_store(job, **kwargs)

    monkeypatch.setattr(importing, "store_parsed", dying_store)
    monkeypatch.setattr(importing, "COMMIT_SECONDS", commit_seconds)
    with pytest.raises(Crash):
        run_batch(batch.pk)
    monkeypatch.setattr(importing, "store_parsed", real_store)


def test_a_crashed_batch_is_resumed_by_the_worker(media, monkeypatch):
    files = [(f"{n}.txt", essay(f"崩溃测试{n}", 200 + n)) for n in range(5)]
    batch = new_batch(files)
    # Files stored in the same second share a commit: the crash undoes the third one's
    # companions too. One commit per file here, so two files are done before the crash.
    run_until_the_third_store_crashes(batch, monkeypatch, commit_seconds=0)
    batch.refresh_from_db()
    assert (batch.status, batch.done, Article.objects.count()) == ("running", 2, 2)

    # A fresh heartbeat: the runner may be alive, the worker leaves the batch alone.
    assert JOBS["import_batches"]()["batches"] == 0
    long_ago = timezone.now() - timedelta(seconds=importing.STALE_SECONDS + 5)
    ImportBatch.objects.filter(pk=batch.pk).update(heartbeat_at=long_ago)
    ImportItem.objects.filter(batch=batch).update(claimed_at=long_ago)
    counts = JOBS["import_batches"]()
    assert counts["batches"] == 1 and counts["files"] == 3
    batch.refresh_from_db()
    assert (batch.status, batch.done, batch.ok) == ("done", 5, 5)
    assert Article.objects.count() == 5
    assert JOBS["import_batches"]()["batches"] == 0


def test_a_crash_undoes_the_uncommitted_files_and_they_are_done_again(media, monkeypatch):
    batch = new_batch([(f"{n}.txt", essay(f"一起提交{n}", 250 + n)) for n in range(4)])
    run_until_the_third_store_crashes(batch, monkeypatch, commit_seconds=60)
    # The two files stored before the crash were in the same (rolled back) commit.
    assert ImportBatch.objects.get(pk=batch.pk).done == 0 and Article.objects.count() == 0
    ImportItem.objects.filter(batch=batch).update(
        claimed_at=timezone.now() - timedelta(seconds=importing.STALE_SECONDS + 1)
    )
    batch = run_batch(batch.pk)
    assert (batch.status, batch.done, batch.ok, Article.objects.count()) == ("done", 4, 4, 4)


def test_the_worker_runs_a_queued_batch(media):
    batch = new_batch([("a.txt", essay("排队的", 300))])
    assert JOBS["import_batches"]() == {"batches": 1, "files": 1}
    assert ImportBatch.objects.get(pk=batch.pk).status == "done"


def test_a_batch_that_fails_to_save_leaves_no_files(media, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(ImportItem.objects, "bulk_create", broken)
    with pytest.raises(RuntimeError):
        new_batch([("a.txt", essay("一", 1)), ("b.txt", essay("二", 2))])
    assert not ImportBatch.objects.exists()
    assert stored_files(media) == []


def test_the_batch_models_speak_the_core_s_values():
    from fanwen.library import importing as core

    assert {core.OK, core.REFUSED, core.ERROR} <= set(ImportItem.Status.values)
    assert {core.DRAFT, core.NOW, core.AT} == set(ImportBatch.PublishMode.values)
