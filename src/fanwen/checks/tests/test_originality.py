"""The originality test set: drafts made of library sentences, lightly edited and shuffled, mixed
with sentences of the buyer's own at 0%, 30%, 60% and 100% — the share the check reports is
within 10 points of the truth; a draft of fresh text stays under 5%.

The library is the demo articles (real text) and 300 articles of bench/corpus.py; the own
sentences (fresh.py) are work-document sentences found in neither. Everything is seeded.
"""

from __future__ import annotations

import random

import pytest

from bench.gen_corpus import fill
from fanwen.checks import matching
from fanwen.checks.tests.conftest import reindex
from fanwen.checks.tests.fresh import FRESH_SENTENCES
from fanwen.library.demo.loader import load_demo
from fanwen.library.models import Piece

RATIOS = (0, 30, 60, 100)
DRAFTS_PER_RATIO = 3
SENTENCES_PER_DRAFT = 40
# What a buyer types over a model essay's words: common characters.
TYPED = "的了在和是有这中大为上个我以要们到作地于出就对成会可发年同工也能下过说种面而方后多定行学所得进着等部度家力里如自理起现实加都体制机当使点从业本去把性好应开还因由其然前外天事平全表间样与关各重新内数正心反明看又利比但第向道此变条只结解问意建月公无系很情最立代想已通并提直题程展果员位入常文总次品式活设管件长求老基资边流路级少知较将组见计别期根"


def library_sentences() -> tuple[list[str], list[str]]:
    """(demo sentences, generated sentences) of 15-80 characters, each text once, in a fixed order."""
    demo, generated = {}, {}
    pieces = Piece.objects.select_related("article").order_by("article__source_key", "position")
    for piece in pieces:
        into = demo if piece.article.source_key.startswith("demo:") else generated
        for line in matching.split_sentences(piece.text):
            for sentence in line:
                if 15 <= len(sentence) <= 80 and sentence[-1] in "。！？；":
                    into.setdefault(sentence, None)
    return list(demo), list(generated)


def lightly_edited(sentence: str, rng: random.Random) -> str:
    """A few characters changed: one in every 15, at most three, never the same one twice."""
    chars = list(sentence)
    places = [i for i, ch in enumerate(chars) if "\u4e00" <= ch <= "\u9fff"]
    for i in rng.sample(places, min(3, max(1, len(sentence) // 15), len(places))):
        chars[i] = rng.choice([ch for ch in TYPED if ch != chars[i]])
    return "".join(chars)


def make_draft(
    ratio: int, rng: random.Random, demo: list[str], generated: list[str]
) -> tuple[str, set[str], set[str]]:
    """A draft with `ratio`% library sentences (half from the demo, half generated), the rest
    the buyer's own, shuffled into paragraphs; also the library and own sentences as written."""
    from_library = round(SENTENCES_PER_DRAFT * ratio / 100)
    from_demo = from_library // 2
    copied = [
        lightly_edited(s, rng)
        for s in rng.sample(demo, from_demo) + rng.sample(generated, from_library - from_demo)
    ]
    own = rng.sample(FRESH_SENTENCES, SENTENCES_PER_DRAFT - from_library)
    sentences = copied + own
    rng.shuffle(sentences)
    paragraphs, start = [], 0
    while start < len(sentences):
        size = rng.randint(3, 6)
        paragraphs.append("".join(sentences[start : start + size]))
        start += size
    return "\n".join(paragraphs), set(copied), set(own)


@pytest.fixture
def library(db):
    load_demo()
    fill(300, seed=11)
    reindex()


def test_the_reported_share_is_within_10_points_of_the_truth(library):
    demo, generated = library_sentences()
    assert len(demo) > 500 and len(generated) > 1000
    rng = random.Random(20261204)
    results, wrong_own, missed = [], 0, 0
    for ratio in RATIOS:
        for _ in range(DRAFTS_PER_RATIO):
            draft, copied, own = make_draft(ratio, rng, demo, generated)
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
