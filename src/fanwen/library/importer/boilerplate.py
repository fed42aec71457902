"""Site chrome learnt from a batch: short lines that recur at the edges of many of its files.

A page saved from a site carries the same furniture on every page ("本文由…整理", a share bar,
a sign-up notice, the site's slogan); fixed phrases and the edge rules in structure catch the
known ones, this catches the rest by repetition: across many files of a batch, or across the
pages of one site within it (ParsedArticle.site: the canonical host or the <title>'s suffix).
Only short paragraphs near the top or bottom of a file count, and the opening and closing
lines of letters and applications (敬爱的党组织： / 此致 / 敬礼 / 申请人) are never taken:
they recur because the genre wants them.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict

from fanwen.library.importer import ParsedArticle
from fanwen.library.importer.placeholders import find_placeholders

# Files needed before repetition means anything, and the share of the batch a line must reach.
MIN_FILES = 3
MIN_SHARE = 0.3
# Within one site's pages of a batch (ParsedArticle.site): at least two, and half of them.
SITE_SHARE = 0.5
SENTENCE_SHARE = 0.6
MAX_CHARS = 60
EDGE_BLOCKS = 4

_GENRE_LINES = re.compile(
    r"^(?:此致|敬礼|此致敬礼|谢谢大家|谢谢|谢谢！|附件|申请人|汇报人|报告人|承诺人|发言人|"
    r"(?:申请人|汇报人|报告人|承诺人|发言人|署名|单位|日期)\s*[:：].*|"
    r"[\d〇零一二三四五六七八九十xX×_ ]{2,6}年[\d〇零一二三四五六七八九十xX×_ ]{1,3}月"
    r"[\d〇零一二三四五六七八九十xX×_ ]{1,3}日)[。！!]?$"
)
_SPACES = re.compile(r"\s+")
_SENTENCE_ENDS = ("。", "！", "？", "!", "?", "；", "…")
# "敬爱的党组织：" / "尊敬的各位老师，亲爱的同学们：" open every letter and speech of a genre.
_SALUTATION = re.compile(r"^(?:尊敬|敬爱|亲爱|各位|老师|同学|领导).{0,30}[:：]$")


def _key(text: str) -> str:
    return _SPACES.sub("", text)


def _edge_lines(article: ParsedArticle) -> set[str]:
    """Normalised short paragraphs among the first and last EDGE_BLOCKS of each piece."""
    found: set[str] = set()
    for piece in article.pieces:
        blocks = piece.blocks
        for block in blocks[:EDGE_BLOCKS] + blocks[-EDGE_BLOCKS:]:
            text = block.get("text", "")
            if (
                block.get("kind") == "p"
                and len(text) <= MAX_CHARS
                and not _GENRE_LINES.match(text)
                and not _SALUTATION.match(text)
            ):
                found.add(_key(text))
    return found


def repeated_lines(articles: list[ParsedArticle]) -> set[str]:
    """Edge lines found in at least max(MIN_FILES, MIN_SHARE of the batch) files."""
    if len(articles) < MIN_FILES:
        return set()
    counts: Counter[str] = Counter()
    for article in articles:
        counts.update(_edge_lines(article))
    needed = max(MIN_FILES, math.ceil(MIN_SHARE * len(articles)))
    # A sentence many files share ("请党组织在实践中考验我。" in a batch of applications) is
    # the genre speaking; only one on most of the batch is furniture.
    sentence_needed = max(needed, math.ceil(SENTENCE_SHARE * len(articles)))
    return {
        line
        for line, count in counts.items()
        if count >= (sentence_needed if line.endswith(_SENTENCE_ENDS) else needed)
    }


def site_repeated_lines(articles: list[ParsedArticle]) -> set[str]:
    """Edge lines that recur across the pages of one site (all articles share a site).

    A site's slogan or sign-off sits on every page it serves, so two pages already say
    something; but two pages of one site may share a real sentence too (two 入党申请书), so
    with few pages only a line that is no sentence counts (no 。！？ at its end)."""
    if len(articles) < 2:
        return set()
    counts: Counter[str] = Counter()
    for article in articles:
        counts.update(_edge_lines(article))
    needed = max(2, math.ceil(SITE_SHARE * len(articles)))
    return {
        line
        for line, count in counts.items()
        if count >= needed and (count >= MIN_FILES or not line.endswith(_SENTENCE_ENDS))
    }


def strip_repeated(articles: list[ParsedArticle]) -> list[ParsedArticle]:
    """Drop from each article the edge lines that recur across the batch, or across the pages
    of its site within the batch; pieces left empty go, and placeholders are found again since
    their offsets moved. Changes the articles in place."""
    batch_chrome = repeated_lines(articles)
    by_site: dict[str, list[ParsedArticle]] = defaultdict(list)
    for article in articles:
        if getattr(article, "site", ""):
            by_site[article.site].append(article)
    site_chrome = {site: site_repeated_lines(group) for site, group in by_site.items()}
    for article in articles:
        chrome = batch_chrome | site_chrome.get(getattr(article, "site", ""), set())
        if chrome:
            _strip(article, chrome)
    return articles


def _strip(article: ParsedArticle, chrome: set[str]) -> None:
    kept_pieces = []
    for piece in article.pieces:
        last = len(piece.blocks) - 1
        kept = [
            block
            for index, block in enumerate(piece.blocks)
            if not (
                block.get("kind") == "p"
                and (index < EDGE_BLOCKS or index > last - EDGE_BLOCKS)
                and _key(block.get("text", "")) in chrome
            )
        ]
        if len(kept) != len(piece.blocks):
            piece.blocks = kept
            piece.placeholders = find_placeholders(piece.text)
        if any(block.get("kind") == "p" for block in piece.blocks):
            kept_pieces.append(piece)
    if kept_pieces:
        article.pieces = kept_pieces
    if article.intro:
        intro = [line for line in article.intro.split("\n") if _key(line) not in chrome]
        article.intro = "\n".join(intro)
