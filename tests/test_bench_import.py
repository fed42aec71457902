"""bench/import.py: the generated batch is what it says, and a tiny run goes through end to end."""

from __future__ import annotations

import importlib.util
import json
import sys
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def bench():
    # "import" is a keyword: load bench/import.py by path.
    spec = importlib.util.spec_from_file_location("bench_import", ROOT / "bench" / "import.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_import"] = module
    spec.loader.exec_module(module)
    return module


def test_the_batch_mixes_formats_plants_near_copies_and_bad_files(tmp_path):
    module = bench()
    planted = module.write_files(tmp_path, 400, library=50)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 400
    suffixes = {p.suffix for p in files}
    assert {".txt", ".html", ".docx"} <= suffixes
    assert len(planted["bad"]) == 400 // module.BAD_EVERY == 1
    assert planted["near_batch"] and planted["near_library"]
    # A near-copy of a batch file names a file that is in the batch and is no copy itself.
    for source in planted["near_batch"].values():
        assert (tmp_path / source).exists() and source not in planted["near_batch"]
    # The same arguments write the same bytes.
    again = tmp_path / "again"
    assert module.write_files(again, 400, library=50) == planted
    first = sorted(p.relative_to(tmp_path).as_posix() for p in files)[0]
    assert (again / first).read_bytes() == (tmp_path / first).read_bytes()


def test_varied_text_keeps_headings_and_words_but_not_3_grams():
    module = bench()
    from fanwen.library.importer import dedup

    article = module.generate_one(module.LIBRARY_SEED, 3)
    varied = module.vary(article, module.LIBRARY_SEED, 3)
    assert varied == module.vary(article, module.LIBRARY_SEED, 3)
    for blocks, new_blocks in zip(article.pieces, varied.pieces, strict=True):
        assert [b["kind"] for b in blocks] == [b["kind"] for b in new_blocks]
        headings = [b["text"] for b in blocks if b["kind"] != "p"]
        assert headings == [b["text"] for b in new_blocks if b["kind"] != "p"]
        text = "".join(b["text"] for b in blocks)
        new_text = "".join(b["text"] for b in new_blocks)
        assert sorted(text) == sorted(new_text)  # the same characters, other orders
    other = module.article_for(module.LIBRARY_SEED, 4, templated=False)
    a = "\n".join(b["text"] for b in varied.pieces[0])
    b = "\n".join(b["text"] for b in other.pieces[0])
    assert dedup.similarity(a, b) < 0.3


def test_a_tiny_run_imports_finds_the_planted_copies_and_indexes_them():
    module = bench()
    out = StringIO()
    with redirect_stdout(out):
        status = module.main(["--files", "120", "--library", "20", "--json"])
    assert status == 0
    figures = json.loads(out.getvalue()[: out.getvalue().rindex("}") + 1])
    full, apply = figures["import"], figures["apply"]
    assert figures["parse"]["ok"] == 120
    assert full["articles"] == 120 and full["rate"] > 0
    assert full["queries"] > 0 and full["p95_ms"] >= full["p50_ms"] > 0
    assert apply["near_batch"][0] == apply["near_batch"][1] > 0
    assert apply["near_library"][0] == apply["near_library"][1] > 0
    assert apply["flagged_unplanted"] == 0
    assert apply["left"] == 0 and apply["search_found"][0] == apply["search_found"][1] > 0
