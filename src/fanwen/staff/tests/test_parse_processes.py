"""A large batch is parsed in parse processes while its runner stores: the same results as
parsing inline, the parent's import limits hold there too, and a killed parse process costs
nothing but time (the group is parsed again in the runner)."""

from __future__ import annotations

import os
import signal

import pytest

from fanwen import search
from fanwen.library import importing as core
from fanwen.library.importing import FileJob, GroupParser
from fanwen.library.models import Article
from fanwen.search import analysis
from fanwen.staff.importing import run_batch
from fanwen.staff.tests.conftest import essay
from fanwen.staff.tests.test_importing import new_batch

pytestmark = pytest.mark.django_db

CHROME = "本文由范文站小编整理发布，转载请注明出处"


def _files(count: int) -> list[tuple[str, bytes]]:
    files = []
    for n in range(count):
        text = essay(f"年度工作总结第{n}篇", 1000 + n).decode()
        # A line every file of the batch repeats: learnt as chrome within each group.
        files.append((f"批量/{n:03d}.txt", f"{text}\n{CHROME}\n".encode()))
    files.append(("批量/坏文件.docx", b"not a zip"))
    # A near-copy of the first file: found across groups parsed by different processes.
    files.append(
        ("批量/副本.txt", files[0][1].replace("年度工作总结第0篇".encode(), "副本".encode()))
    )
    return files


def test_a_large_batch_parsed_in_processes_stores_what_inline_parsing_does(
    media, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.FANWEN_IMPORT_PARSE_PROCESSES = 2
    parsers = []
    real_init = GroupParser.__init__

    def recording_init(self, processes, **options):
        parsers.append(self)
        real_init(self, processes, **options)

    monkeypatch.setattr(GroupParser, "__init__", recording_init)
    with django_capture_on_commit_callbacks(execute=True):  # the index writes
        batch = run_batch(new_batch(_files(160), publish_mode="now").pk)

    # Two processes to the end: none died, nothing fell back to parsing in the runner.
    assert [parser.processes for parser in parsers] == [2]
    assert (batch.status, batch.done, batch.ok, batch.refused) == ("done", 162, 161, 1)
    assert Article.objects.count() == 161
    assert not any(CHROME in a.body_paragraphs()[-1] for a in Article.objects.all())
    copy = Article.objects.get(title="副本")
    assert copy.pieces.get().duplicate_of.article.title == "年度工作总结第0篇"
    assert copy.piece_count == 0
    # The parse processes segmented each published article for the index: every one of those
    # analyses was taken by the index writes (none left over, none made again here).
    assert not analysis._AHEAD
    assert search.search("年度工作总结第37篇").total >= 1


def test_the_parents_limits_hold_in_the_parse_processes(settings):
    settings.FANWEN_IMPORT_MAX_PARAGRAPHS = 3
    jobs = [FileJob(name="长.txt", read=lambda: essay("长文", 7, paragraphs=8), source_key="长")]
    with GroupParser(1) as parser:
        parser.collect(jobs, parser.submit(jobs))
    assert jobs[0].parsed is None
    assert jobs[0].result["status"] == core.REFUSED and "3" in jobs[0].result["reason"]


def test_a_killed_parse_process_only_costs_a_parse_in_the_runner():
    jobs = [
        FileJob(name=f"{n}.txt", read=lambda n=n: essay(f"标题{n}", n), source_key=str(n))
        for n in range(3)
    ]
    with GroupParser(1) as parser:
        first = parser.submit(jobs[:1])
        parser.collect(jobs[:1], first)
        # The parse process dies (the OOM killer, an operator's kill -9) with a group in hand.
        for pid in list(parser._pool._processes):
            os.kill(pid, signal.SIGKILL)
        handle = parser.submit(jobs[1:])
        parser.collect(jobs[1:], handle)
        assert parser.processes == 0, "the broken pool is given up"
    assert [job.parsed.title for job in jobs] == ["标题0", "标题1", "标题2"]
