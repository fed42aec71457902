"""The originality test set: drafts made of library sentences, lightly edited and shuffled, mixed
with sentences of the buyer's own at 0%, 30%, 60% and 100% — the share the check reports is
within 10 points of the truth; a draft of fresh text stays under 5%.

The library is the demo articles (real text) and 300 articles of bench/corpus.py; the own
sentences (testset.py) are work-document sentences found in neither. Everything is seeded.
"""

from __future__ import annotations

import random

import pytest

from bench.gen_corpus import fill
from fanwen.checks import matching
from fanwen.checks.tests.conftest import reindex
from fanwen.checks.tests.testset import FRESH_SENTENCES, library_sentences, make_draft
from fanwen.library.demo.loader import load_demo
from fanwen.library.models import Piece

RATIOS = (0, 30, 60, 100)
DRAFTS_PER_RATIO = 3
SENTENCES_PER_DRAFT = 40


def demo_and_generated() -> tuple[list[str], list[str]]:
    pieces = Piece.objects.select_related("article").order_by("article__source_key", "position")
    demo = [p.text for p in pieces if p.article.source_key.startswith("demo:")]
    generated = [p.text for p in pieces if not p.article.source_key.startswith("demo:")]
    return library_sentences(demo), library_sentences(generated)


@pytest.fixture
def library(db):
    load_demo()
    fill(300, seed=11)
    reindex()


def test_the_reported_share_is_within_10_points_of_the_truth(library):
    demo, generated = demo_and_generated()
    assert len(demo) > 500 and len(generated) > 1000
    rng = random.Random(20261204)
    results, wrong_own, missed = [], 0, 0
    for ratio in RATIOS:
        for _ in range(DRAFTS_PER_RATIO):
            # Half the library sentences from the demo articles, half generated.
            copies = round(SENTENCES_PER_DRAFT * ratio / 100)
            sources = rng.sample(demo, copies // 2) + rng.sample(generated, copies - copies // 2)
            draft, copied, own = make_draft(sources, SENTENCES_PER_DRAFT - copies, rng)
            report = matching.check(draft)
            flagged = {s.text for s in report.sentences() if s.article_id is not None}
            wrong_own += len(flagged & own)
            missed += len(copied - flagged)
            assert report.judged == SENTENCES_PER_DRAFT
            results.append((ratio, report.share, report.elapsed_ms))
    print("\ntruth → reported share (ms):", results)
    print(f"own sentences flagged: {wrong_own}, library sentences missed: {missed}")
    for truth, reported, _ in results:
        assert abs(reported - truth) <= 10, results
    # Beyond the shares: the marks are on the right sentences, not on others that even out.
    total = DRAFTS_PER_RATIO * SENTENCES_PER_DRAFT * len(RATIOS)
    assert wrong_own + missed <= total * 0.05


def test_a_draft_of_fresh_text_reports_under_5_percent(library):
    report = matching.check("\n".join(FRESH_SENTENCES))
    flagged = [s.text for s in report.sentences() if s.article_id is not None]
    print(f"\nfresh: {report.share}% ({len(flagged)} of {report.judged}): {flagged}")
    assert report.judged == len(FRESH_SENTENCES)
    assert report.share < 5


def test_the_library_text_itself_reports_100_percent(library):
    # The other end of the scale, unedited: a piece pasted whole.
    piece = Piece.objects.filter(article__source_key__startswith="demo:").order_by("pk").first()
    report = matching.check(piece.text)
    assert report.share == 100
    assert report.sources[0].article_id == piece.article_id
