"""Benchmark an import batch: N generated files through the same path as an upload batch.

Writes --files (default 10,000) files into a scratch folder — a mix of .txt, .html and .docx
of generated multi-piece articles with headings and placeholders (bench/corpus.py, the words
of most sentences shuffled so that unrelated pieces are as unlike as real ones; --templated
keeps the phrase bank's self-similar text), 4% near-copies of other files of the batch and
4% of library articles, one bad file in 400 — then, against a throwaway database (SQLite in
the scratch folder; --database-url postgres://… makes and drops a scratch PostgreSQL
database on that server) holding a library of --library generated articles
(bench/gen_corpus.py fill, given the same text and near-duplicate signatures), runs:

  1. parse only: parse_bytes of every file, no database (the reference);
  2. the full path: fanwen.staff.importing create_batch + run_batch (published now; with
     --runners N, N processes share the batch), else the same per-file core
     (parse_bytes → strip_repeated → do_import_article);
  3. the search outbox left, applied as the worker does (apply_outbox_job), then a search
     for 200 imported titles and a check of the planted near-copies.

Each step runs in its own child process, so peak RSS (ru_maxrss) is that step's own. Prints
files, articles/s, per-file p50/p95 ms, peak RSS, queries per article, ms per article in the
main functions of the path, near-duplicates found vs planted, the full path / parse only
ratio, and the time of the index writes.

Goal: >= 100 articles/s for the full path on SQLite (exit status 1 when missed, with --goal).

Usage:
  .venv/bin/python bench/import.py [--files 10000] [--library 2000] [--runners 1]
      [--database-url postgres://postgres@127.0.0.1:5432/postgres] [--publish draft|now]
      [--templated] [--core] [--profile 30] [--tracemalloc] [--keep] [--json] [--goal]
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
# This checkout's code, not whatever `fanwen` the virtualenv has installed.
for _path in (str(ROOT), str(ROOT / "src")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from bench.corpus import GenArticle, generate_one, meta_for, to_text  # noqa: E402

GOAL_RATE = 100.0
# Shares of the batch: near-copies of an earlier file / of a library article, and bad files.
NEAR_BATCH = 0.04
NEAR_LIBRARY = 0.04
BAD_EVERY = 400
# Characters changed in each paragraph of a near-copy: ~1% keeps 3-gram Jaccard near 0.94.
EDIT_SHARE = 0.01
SITE_NAMES = ("范文网", "好文库", "第一范文", "学习啦", "文档之家")
LIBRARY_SEED = 1
BATCH_SEED = 9


# --- the files ------------------------------------------------------------------------------

# The corpus's phrase bank makes any two pieces of one genre share ~66% of their 3-grams,
# where real unrelated essays share 1-5% (importer/dedup.py): then one piece in ten passes
# the near-duplicate screens and every import reads hundreds of texts. So the words of most
# sentences are shuffled (rjieba's segmentation): the same words and characters, as the
# search index sees them, in orders that make other 3-grams. --templated keeps the text.
KEEP_SENTENCES = 0.2
_SENTENCE_END = re.compile(r"(?<=[。！？；])")
_JIEBA = []


def _words(sentence: str) -> list[str]:
    if not _JIEBA:
        import rjieba

        _JIEBA.append(rjieba.Jieba())
    return _JIEBA[0].cut(sentence)


def vary(article: GenArticle, seed: int, index: int) -> GenArticle:
    """The article with the words of most body sentences shuffled (deterministic)."""
    rng = random.Random(f"bench-import-vary:{seed}:{index}")
    pieces = []
    for blocks in article.pieces:
        new_blocks = []
        for block in blocks:
            if block["kind"] != "p":
                new_blocks.append(block)
                continue
            out = []
            for sentence in _SENTENCE_END.split(block["text"]):
                if not sentence or rng.random() < KEEP_SENTENCES:
                    out.append(sentence)
                    continue
                body = sentence.rstrip("。！？；")
                words = _words(body)
                rng.shuffle(words)
                out.append("".join(words) + sentence[len(body) :])
            new_blocks.append({"kind": "p", "text": "".join(out)})
        pieces.append(new_blocks)
    return article._replace(pieces=pieces)


def article_for(seed: int, index: int, templated: bool) -> GenArticle:
    article = generate_one(seed, index)
    return article if templated else vary(article, seed, index)


def _near_copy(article: GenArticle, rng: random.Random) -> GenArticle:
    """The article with ~1% of each paragraph's characters replaced: a near-duplicate."""
    pieces = []
    for blocks in article.pieces:
        new_blocks = []
        for block in blocks:
            text = block["text"]
            if block["kind"] == "p" and len(text) > 20:
                chars = list(text)
                for _ in range(max(1, int(len(chars) * EDIT_SHARE))):
                    chars[rng.randrange(len(chars))] = rng.choice("的了和在是我们这有就不也")
                text = "".join(chars)
            new_blocks.append({"kind": block["kind"], "text": text})
        pieces.append(new_blocks)
    return article._replace(pieces=pieces)


def _html(article: GenArticle, editor: str, rng: random.Random) -> bytes:
    site = rng.choice(SITE_NAMES)
    crumb = {"zongjie": "工作总结", "jihua": "工作计划", "xinde": "心得体会"}.get(
        article.category_slug, "范文"
    )
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{escape(article.title)}_{site}</title></head><body>",
        f"<div class='top'><a href='/'>首页</a> | <a href='/login'>登录</a> | {site}</div>",
        f"<div class='position'>当前位置：<a href='/'>网站首页</a> &gt;&gt; "
        f"<a href='/{article.category_slug}/'>{crumb}</a> &gt;&gt; {escape(article.title)}</div>",
        f"<h1>{escape(article.title)}</h1>",
        f"<div class='info'>时间：2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)} 小编：{editor}</div>",
        "<div class='content'>",
        f"<p>{escape(article.intro)}</p>",
    ]
    for i, blocks in enumerate(article.pieces):
        if len(article.pieces) > 1:
            parts.append(f"<h2>{escape(article.piece_title(i))}</h2>")
        for block in blocks:
            parts.append(f"<p>{escape(block['text'])}</p>")
    parts.append("</div><div class='footer'>联系我们 | 网站地图</div></body></html>")
    return "\n".join(parts).encode("utf-8")


_DOCX_BASE: dict[str, bytes] = {}


def _docx(article: GenArticle, editor: str) -> bytes:
    if not _DOCX_BASE:
        import docx

        buffer = io.BytesIO()
        docx.Document().save(buffer)
        with zipfile.ZipFile(buffer) as archive:
            _DOCX_BASE.update({i.filename: archive.read(i) for i in archive.infolist()})
    base = _DOCX_BASE["word/document.xml"].decode()
    head, _, tail = base.partition("<w:body>")
    section = tail[tail.index("<w:sectPr") :]

    def para(text: str, style: str | None = None) -> str:
        props = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
        return f'<w:p>{props}<w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>'

    body = [para(article.title, "Title"), para(f"小编：{editor}"), para(article.intro)]
    for i, blocks in enumerate(article.pieces):
        if len(article.pieces) > 1:
            body.append(para(article.piece_title(i), "Heading1"))
        for block in blocks:
            body.append(para(block["text"]))
    parts = dict(_DOCX_BASE)
    parts["word/document.xml"] = (head + "<w:body>" + "".join(body) + section).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _bad_file(n: int) -> tuple[str, bytes]:
    kind = n % 4
    if kind == 0:
        return "损坏的文档.docx", b"PK\x03\x04 this is not a whole zip" + bytes(range(256))
    if kind == 1:
        return "空文件.txt", b""
    if kind == 2:
        return (
            "日文.txt",
            "秋の運動会のまとめ\n今回の運動会には十二のクラスが参加しました。\n".encode(),
        )
    return "旧版.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512


def write_files(
    folder: Path, count: int, library: int, seed: int = BATCH_SEED, templated: bool = False
) -> dict:
    """The batch's files under folder/<category slug>/; returns what was planted:
    {"near_batch": {file: source file}, "near_library": {file: library index}, "bad": [...]}."""
    rng = random.Random(f"bench-import:{seed}")
    planted: dict = {"near_batch": {}, "near_library": {}, "bad": []}
    written: list[str] = []
    for n in range(count):
        if n % BAD_EVERY == BAD_EVERY - 1:
            name, data = _bad_file(n // BAD_EVERY)
            relative = f"bad/{n:05d}-{name}"
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            planted["bad"].append(relative)
            continue
        roll = rng.random()
        if roll < NEAR_BATCH and written:
            source = rng.choice(written)
            index = int(Path(source).name.split(".")[0])
            article = _near_copy(article_for(seed, index, templated), rng)
            origin = ("near_batch", source)
        elif roll < NEAR_BATCH + NEAR_LIBRARY and library:
            index = rng.randrange(library)
            article = _near_copy(article_for(LIBRARY_SEED, index, templated), rng)
            origin = ("near_library", index)
        else:
            article = article_for(seed, n, templated)
            origin = None
        editor = meta_for(seed, n).editor
        ext = rng.choices((".txt", ".html", ".docx"), weights=(4, 3, 3))[0]
        relative = f"{article.category_slug}/{n:05d}{ext}"
        if ext == ".txt":
            data = to_text(article, editor).encode("utf-8")
        elif ext == ".html":
            data = _html(article, editor, rng)
        else:
            data = _docx(article, editor)
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if origin is None:
            written.append(relative)
        else:
            planted[origin[0]][relative] = origin[1]
    return planted


def list_files(folder: Path) -> list[tuple[str, Path]]:
    """(name relative to the folder, path) of every file: read one at a time, as an upload
    handler or `fanwen import` would, so a step's peak memory is its own."""
    return [
        (path.relative_to(folder).as_posix(), path)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    ]


# --- the steps, each in its own child process ---------------------------------------------


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanwen.settings")
    import django

    django.setup()


class QueryCounter:
    """Counts statements sent to the database (execute_wrapper: no SQL kept in memory)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def step_prepare(args: argparse.Namespace) -> dict:
    """Migrate, fill the library, give its pieces near-duplicate signatures, index it."""
    _django()
    from django.core.management import call_command
    from django.db import transaction

    from bench.gen_corpus import fill
    from fanwen.library.importer import dedup
    from fanwen.library.importer.placeholders import find_placeholders
    from fanwen.library.models import Piece

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    summary = fill(args.library, seed=LIBRARY_SEED) if args.library else "no library"
    # fill() leaves simhash 0 and no bands: sign the pieces as an import would have, after
    # giving them the same varied text the batch's copies of them are made from.
    signed = time.perf_counter()
    fields = ["simhash", *dedup.BAND_FIELDS]
    pieces = list(
        Piece.objects.filter(article__source_key__startswith=f"gen:{LIBRARY_SEED}:")
        .select_related("article")
        .only("id", "position", "text", "article__source_key")
    )
    varied: dict[int, GenArticle] = {}
    if not args.templated:
        fields += ["text", "blocks", "placeholders"]
    for piece in pieces:
        if not args.templated:
            index = int(piece.article.source_key.rsplit(":", 1)[1])
            if index not in varied:
                varied = {index: article_for(LIBRARY_SEED, index, templated=False)}
            piece.blocks = varied[index].pieces[piece.position - 1]
            piece.text = "\n".join(block["text"] for block in piece.blocks)
            piece.placeholders = find_placeholders(piece.text)
        for name, value in dedup.signature_fields(piece.text).items():
            setattr(piece, name, value)
    with transaction.atomic():
        Piece.objects.bulk_update(pieces, fields, batch_size=500)
    signed = time.perf_counter() - signed
    indexed = time.perf_counter()
    call_command("search_reindex", verbosity=0)
    return {
        "summary": summary,
        "pieces": len(pieces),
        "sign_seconds": signed,
        "index_seconds": time.perf_counter() - indexed,
        "seconds": time.perf_counter() - started,
    }


def step_parse(args: argparse.Namespace) -> dict:
    """The reference: parse_bytes of every file, nothing stored."""
    _django()
    from fanwen.library.importer import ImportRejected, parse_bytes

    if args.tracemalloc:
        import tracemalloc

        tracemalloc.start()
    files = list_files(Path(args.files_dir))
    times: list[float] = []
    ok = refused = 0
    started = time.perf_counter()
    for name, path in files:
        t0 = time.perf_counter()
        try:
            parse_bytes(path.read_bytes(), name)
            ok += 1
        except ImportRejected:
            refused += 1
        times.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    out = {
        "files": len(files),
        "ok": ok,
        "refused": refused,
        "seconds": elapsed,
        "rate": ok / elapsed if elapsed else 0.0,
        "p50_ms": percentile(times, 50) * 1000,
        "p95_ms": percentile(times, 95) * 1000,
        "peak_mb": _peak_mb(),
    }
    if args.tracemalloc:
        out["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 1048576
    return out


def _core_batch(files: list[tuple[str, Path]], publish: bool, times: list[float]) -> dict:
    """The per-file core an upload batch runs, for when fanwen.staff.importing is missing:
    parse every file, strip the batch's repeated lines, store each article."""
    from django.db import transaction

    from fanwen.library.actions import do_get_or_create_category, do_import_article
    from fanwen.library.importer import ImportRejected, parse_bytes
    from fanwen.library.importer.boilerplate import strip_repeated

    parsed = []
    refused = 0
    for name, path in files:
        t0 = time.perf_counter()
        try:
            parsed.append((name, parse_bytes(path.read_bytes(), name), t0))
        except ImportRejected:
            refused += 1
            times.append(time.perf_counter() - t0)
            continue
        times.append(time.perf_counter() - t0)
    strip_repeated([article for _, article, _ in parsed])
    for index, (name, article, _) in enumerate(parsed):
        t0 = time.perf_counter()
        with transaction.atomic():
            category = do_get_or_create_category(name.split("/", 1)[0])
            do_import_article(article, category=category, publish=publish, source_key=name)
        times[index] += time.perf_counter() - t0
    return {"ok": len(parsed), "refused": refused, "path": "core"}


def _timed(module, name: str, spent: dict, key=None):
    """Wrap module.name so the time of each call adds to spent[key(args)] (or spent[name])."""
    inner = getattr(module, name)

    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            slot = key(*args) if key else name
            spent[slot] = spent.get(slot, 0.0) + time.perf_counter() - t0

    setattr(module, name, wrapper)


BREAKDOWN: dict[str, float] = {}
RUNNERS = [1]


def step_run(args: argparse.Namespace) -> dict:
    """A further runner of the batch the import step made (--runners)."""
    _django()
    from fanwen.staff import importing

    counter = QueryCounter()
    done = itertools.count()
    inner = importing._finish_item

    def finish(*a, **k):
        next(done)
        return inner(*a, **k)

    importing._finish_item = finish
    from django.db import connection

    with connection.execute_wrapper(counter):
        importing.run_batch(int(os.environ["BENCH_IMPORT_BATCH"]))
    return {"items": next(done), "queries": counter.count, "peak_mb": _peak_mb()}


def _upload_batch(files: list[tuple[str, Path]], publish: bool, times: list[float]) -> dict:
    from fanwen.staff import importing

    # Per file: its parse (inside parse_group) and its store (_finish_item), as run_batch
    # calls them through the module.
    per_file: dict = {}
    numbers = itertools.count()
    from fanwen.library import importing as core
    from fanwen.library.importer import groups

    # Parsed in the runner (no parse processes): each file's parse is timed; in parse
    # processes it is not seen here, and the runner's wait for a group is GroupParser.collect.
    _timed(groups, "parse_bytes", per_file, key=lambda data, name: ("parse", next(numbers)))
    _timed(importing, "_finish_item", per_file, key=lambda batch, item, job, token: item.pk)
    # Where a file's time goes, by the functions the path calls through module attributes.
    from fanwen.library import actions
    from fanwen.library.importer import dedup

    for module, name in (
        (core.GroupParser, "collect"),
        (groups, "strip_repeated"),
        (importing, "store_parsed"),
        (core, "do_import_article"),
        (core, "duplicates_of"),
        (dedup, "signature"),
        (dedup, "find_in_library"),
        (dedup, "find_within"),
        (actions, "_existing_article"),
    ):
        _timed(module, name, BREAKDOWN)
    user = _bench_user()
    batch = importing.create_batch(
        files,
        user=user,
        category=None,
        category_from_folder=True,
        publish_mode="now" if publish else "draft",
        publish_at=None,
    )
    created = time.perf_counter()
    # More runners share the batch as the worker and the desk's thread may (claims keep an
    # item to one of them); each is a process of its own, so each has its own core.
    helpers = [
        subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--step", "run"],
            env={**os.environ, "BENCH_IMPORT_BATCH": str(batch.pk)},
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(RUNNERS[0] - 1)
    ]
    batch = importing.run_batch(batch.pk)
    helped = [json.loads(h.communicate()[0].strip().splitlines()[-1]) for h in helpers]
    batch.refresh_from_db()
    parse_times = [v for k, v in per_file.items() if isinstance(k, tuple)]
    store_times = [v for k, v in per_file.items() if not isinstance(k, tuple)]
    # Files pair up in order: the n-th parse with the n-th store (refused files have no store);
    # parsed in parse processes, a file's time here is its store.
    if parse_times:
        times.extend(p + s for p, s in zip(parse_times, store_times, strict=False))
    else:
        times.extend(store_times)
    return {
        "path": ("run_batch" if RUNNERS[0] == 1 else f"run_batch x{RUNNERS[0]}")
        + f", {_parse_processes(len(files))} parse proc",
        "helpers": helped,
        "mine": len(store_times),
        "batch": batch.pk,
        "batch_counts": [batch.ok, batch.refused, batch.errors],
        "run_seconds": time.perf_counter() - created,
    }


def _parse_processes(files: int) -> int:
    from fanwen.library.importing import parse_processes

    return parse_processes(files)


def _bench_user():
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(
        username="bench-editor", defaults={"is_staff": True}
    )
    return user


def step_import(args: argparse.Namespace) -> dict:
    _django()
    from django.db import connection

    from fanwen.library.models import Article, Piece
    from fanwen.search.follow import pending

    if args.tracemalloc:
        import tracemalloc

        tracemalloc.start()
    files = list_files(Path(args.files_dir))
    before = Article.objects.count()
    try:
        import fanwen.staff.importing  # noqa: F401

        run = _upload_batch
    except ImportError:
        run = _core_batch
    if args.core:
        run = _core_batch
    RUNNERS[0] = args.runners
    times: list[float] = []
    counter = QueryCounter()
    from fanwen.search import outbox

    # The index writes the batch makes on its way (bulk_import applies every 500 rows).
    indexing: dict = {}
    _timed(outbox, "apply", indexing)
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        result = run(files, args.publish == "now", times)
    elapsed = time.perf_counter() - started
    if profiler is not None:
        import pstats

        profiler.disable()
        stream = io.StringIO()
        stats = pstats.Stats(profiler, stream=stream)
        stats.sort_stats("cumulative").print_stats(args.profile)
        if os.environ.get("BENCH_PROFILE_DUMP"):
            stats.dump_stats(os.environ["BENCH_PROFILE_DUMP"])
        stats.sort_stats("tottime").print_stats(args.profile)
        result["profile"] = stream.getvalue()
    made = Article.objects.count() - before
    # Queries and peak memory of every runner: the others report theirs.
    helpers = result.get("helpers", [])
    queries = counter.count + sum(h["queries"] for h in helpers)
    result.update(
        files=len(files),
        articles=made,
        pieces=Piece.objects.exclude(article__source_key__startswith="gen:").count(),
        seconds=elapsed,
        rate=made / elapsed if elapsed else 0.0,
        p50_ms=percentile(times, 50) * 1000,
        p95_ms=percentile(times, 95) * 1000,
        queries=queries,
        queries_per_article=queries / made if made else 0.0,
        outbox_rows=pending().count(),
        index_seconds=indexing.get("apply", 0.0),
        breakdown={**BREAKDOWN, "outbox.apply": indexing.get("apply", 0.0)},
        peak_mb=max([_peak_mb(), *(h["peak_mb"] for h in helpers)]),
    )
    if args.tracemalloc:
        result["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 1048576
        # What is still held when the batch ends (caches), by the line that allocated it.
        top = tracemalloc.take_snapshot().statistics("lineno")[:8]
        result["traced_top"] = [f"{stat.size / 1048576:.0f} MB {stat.traceback}" for stat in top]
    return result


def step_apply(args: argparse.Namespace) -> dict:
    """Apply the outbox as the worker does, then check the index and the duplicates found."""
    _django()
    from fanwen import search
    from fanwen.library.models import Article, Piece
    from fanwen.search.follow import pending
    from fanwen.search.jobs import apply_outbox_job

    # The outbox is a log every node reads: what counts is what this index has not applied.
    rows = pending().count()
    started = time.perf_counter()
    applied = 0
    while pending().exists():
        done = apply_outbox_job().get("applied", 0)
        applied += done
        if not done:
            break
    elapsed = time.perf_counter() - started

    planted = json.loads(Path(args.planted).read_text())
    keys = {a.source_key: a for a in Article.objects.exclude(source_key__startswith="gen:")}
    library_ids = dict(
        Article.objects.filter(source_key__startswith=f"gen:{LIBRARY_SEED}:").values_list(
            "source_key", "pk"
        )
    )
    flagged: dict[int, set[int]] = {}
    for article_id, other_article in Piece.objects.filter(
        article_id__in=[a.pk for a in keys.values()], duplicate_of__isnull=False
    ).values_list("article_id", "duplicate_of__article_id"):
        flagged.setdefault(article_id, set()).add(other_article)
    found_batch = sum(
        1
        for name, source in planted["near_batch"].items()
        if name in keys and source in keys and keys[source].pk in flagged.get(keys[name].pk, ())
    )
    found_library = sum(
        1
        for name, index in planted["near_library"].items()
        if name in keys
        and library_ids.get(f"gen:{LIBRARY_SEED}:{index}") in flagged.get(keys[name].pk, ())
    )
    planted_names = set(planted["near_batch"]) | set(planted["near_library"])
    unplanted = sum(1 for name, a in keys.items() if a.pk in flagged and name not in planted_names)
    # The index after the batch: each of a sample of imported titles finds its article.
    sample = [a for a in keys.values() if a.status == Article.Status.PUBLISHED][:200]
    search_started = time.perf_counter()
    hits = sum(1 for a in sample if a.pk in _results(search, a))
    return {
        "outbox_rows": rows,
        "applied": applied,
        "apply_seconds": elapsed,
        "apply_rate": applied / elapsed if elapsed else 0.0,
        "left": pending().count(),
        "near_batch": [found_batch, len(planted["near_batch"])],
        "near_library": [found_library, len(planted["near_library"])],
        "flagged_unplanted": unplanted,
        "search_found": [hits, len(sample)],
        "search_seconds": time.perf_counter() - search_started,
        "peak_mb": _peak_mb(),
    }


def _results(search, article) -> set[int]:
    # Titles repeat across a generated library: look within the article's category, 100 deep.
    found = search.search(f'"{article.title}"', category_id=article.category_id, per_page=100)
    return {hit.article_id for hit in found.hits}


STEPS = {
    "prepare": step_prepare,
    "parse": step_parse,
    "import": step_import,
    "run": step_run,
    "apply": step_apply,
}


# --- the parent: files, a scratch database, the children, the table ------------------------


def _scratch_postgres(url: str, name: str, create: bool) -> str:
    """Create (or drop) database `name` on the server of `url`; returns its URL."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path="/" + name))


def run_step(step: str, env: dict, args: argparse.Namespace, work: Path) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--step", step]
    command += ["--files-dir", str(work / "files"), "--planted", str(work / "planted.json")]
    command += ["--library", str(args.library), "--publish", args.publish]
    if args.profile:
        command += ["--profile", str(args.profile)]
    if args.tracemalloc:
        command.append("--tracemalloc")
    if args.core:
        command.append("--core")
    if args.templated:
        command.append("--templated")
    command += ["--runners", str(args.runners)]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"step {step} failed (exit {done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10000)
    parser.add_argument("--library", type=int, default=2000, help="articles already stored")
    parser.add_argument("--database-url", help="a PostgreSQL server (a scratch db is made)")
    parser.add_argument("--publish", choices=("draft", "now"), default="now")
    parser.add_argument("--core", action="store_true", help="the per-file core, not run_batch")
    parser.add_argument("--runners", type=int, default=1, help="processes running the batch")
    parser.add_argument(
        "--parse-processes",
        type=int,
        help="FANWEN_IMPORT_PARSE_PROCESSES of the runners (default: the setting's, the CPUs)",
    )
    parser.add_argument(
        "--templated", action="store_true", help="the phrase bank's text as is (self-similar)"
    )
    parser.add_argument("--profile", type=int, default=0, help="print the top N of cProfile")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace allocations")
    parser.add_argument("--goal", action="store_true", help="exit 1 below 100 articles/s")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder and db")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--step", choices=sorted(STEPS), help=argparse.SUPPRESS)
    parser.add_argument("--files-dir", help=argparse.SUPPRESS)
    parser.add_argument("--planted", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.step:
        print(json.dumps(STEPS[args.step](args), ensure_ascii=False))
        return 0

    work = Path(tempfile.mkdtemp(prefix="fanwen-bench-import-"))
    env = {
        **os.environ,
        "FANWEN_VAR_DIR": str(work / "var"),
        "DJANGO_SETTINGS_MODULE": "fanwen.settings",
    }
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT), env.get("PYTHONPATH", "")])
    env.pop("DATABASE_URL", None)
    if args.parse_processes is not None:
        env["FANWEN_IMPORT_PARSE_PROCESSES"] = str(args.parse_processes)
    database = "SQLite"
    scratch_db = f"fanwen_bench_import_{os.getpid()}"
    if args.database_url:
        env["DATABASE_URL"] = _scratch_postgres(args.database_url, scratch_db, create=True)
        database = "PostgreSQL"
    try:
        started = time.perf_counter()
        planted = write_files(work / "files", args.files, args.library, templated=args.templated)
        (work / "planted.json").write_text(json.dumps(planted, ensure_ascii=False))
        written = time.perf_counter() - started
        prepare = run_step("prepare", env, args, work)
        parse = run_step("parse", env, args, work)
        full = run_step("import", env, args, work)
        apply = run_step("apply", env, args, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
            if args.database_url:
                _scratch_postgres(args.database_url, scratch_db, create=False)
    figures = {
        "database": database,
        "files": args.files,
        "library": args.library,
        "write_seconds": written,
        "prepare": prepare,
        "parse": parse,
        "import": {k: v for k, v in full.items() if k != "profile"},
        "apply": apply,
        "ratio": parse["rate"] / full["rate"] if full["rate"] else 0.0,
    }
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=1))
    else:
        report(figures)
    if full.get("profile"):
        print(full["profile"])
    if args.keep:
        print(f"kept {work}" + (f" and database {scratch_db}" if args.database_url else ""))
    return 1 if args.goal and full["rate"] < GOAL_RATE else 0


def report(f: dict) -> None:
    parse, full, apply, prep = f["parse"], f["import"], f["apply"], f["prepare"]
    print(f"import bench on {f['database']}: {f['files']:,} files, library {f['library']:,}")
    print(
        f"  {prep['summary']}; signed {prep['pieces']:,} pieces in {prep['sign_seconds']:.1f}s, "
        f"indexed in {prep['index_seconds']:.1f}s"
    )
    print(
        f"  {'':<24}{'files':>7}{'articles':>9}{'sec':>8}{'art/s':>8}{'p50 ms':>8}"
        f"{'p95 ms':>8}{'peak MB':>9}"
    )
    for label, row, made in (
        ("parse only (reference)", parse, parse["ok"]),
        (f"full path ({full['path']})", full, full["articles"]),
    ):
        print(
            f"  {label:<24}{row['files']:>7}{made:>9}{row['seconds']:>8.1f}{row['rate']:>8.1f}"
            f"{row['p50_ms']:>8.1f}{row['p95_ms']:>8.1f}{row['peak_mb']:>9.0f}"
        )
    if "traced_peak_mb" in full:
        print(
            f"  tracemalloc peak: parse only {parse.get('traced_peak_mb', 0):.0f} MB, "
            f"full path {full['traced_peak_mb']:.0f} MB"
        )
        for line in full.get("traced_top", []):
            print(f"    held at the end: {line}")
    if full.get("breakdown"):
        made = max(1, full.get("mine") or full["articles"])
        parts = ", ".join(
            f"{name} {seconds / made * 1000:.1f}"
            for name, seconds in sorted(full["breakdown"].items(), key=lambda kv: -kv[1])
        )
        print(f"  ms per article (nested, so they overlap): {parts}")
    goal = "met" if full["rate"] >= GOAL_RATE else "MISSED"
    slower = parse["rate"] / full["rate"] if full["rate"] else 0.0
    print(
        f"  full path / parse only: {slower:.2f}x the time per article "
        f"(storage, dedup, outbox, index: {1 - 1 / slower if slower else 0:.0%} of it); "
        f"goal >= {GOAL_RATE:.0f} articles/s {goal}"
    )
    print(
        f"  queries: {full['queries']:,} ({full['queries_per_article']:.1f} per article); "
        f"pieces {full['pieces']:,}; index writes during the batch "
        f"{full.get('index_seconds', 0):.1f}s; outbox rows left after it {full['outbox_rows']:,}"
    )
    print(
        f"  near-duplicates found/planted: copies of batch files {apply['near_batch'][0]}/"
        f"{apply['near_batch'][1]}, of library articles {apply['near_library'][0]}/"
        f"{apply['near_library'][1]}; flagged but not planted {apply['flagged_unplanted']}"
    )
    print(
        f"  then the worker job: {apply['applied']:,} outbox rows in {apply['apply_seconds']:.1f}s, "
        f"left {apply['left']}; search finds {apply['search_found'][0]}/"
        f"{apply['search_found'][1]} imported titles ({apply['search_seconds']:.1f}s)"
    )


if __name__ == "__main__":
    sys.exit(main())
