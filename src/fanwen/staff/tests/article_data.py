"""Articles for the desk tests, stored through the import action as an upload would store them."""

from __future__ import annotations

import itertools

from fanwen.library.actions import do_import_article
from fanwen.library.importer import ParsedArticle, ParsedPiece
from fanwen.library.importer.placeholders import find_placeholders
from fanwen.library.models import Article, Category

SAFETY = (
    "20__年，我单位认真贯彻安全生产方针，层层签订责任书，全年组织隐患排查十二次，"
    "整改问题四十六项，开展应急演练三次，职工安全意识明显提高，全年未发生一起责任事故。"
)
VOLUNTEER = (
    "社区志愿服务队今年组织了多场便民活动，为老人测量血压、理发、修理家电，"
    "还在暑假开办了少儿托管班，累计服务居民两千余人次，受到大家的一致好评。"
)
READING = (
    "读完这本书，我明白了坚持的意义。主人公一次次失败又一次次站起来，"
    "终于实现了自己的梦想。我也要像他那样，不怕困难，把每天的小事做好。"
)
# SAFETY with one word changed: a near-duplicate (Jaccard of 3-grams well above 0.9).
SAFETY_COPY = SAFETY.replace("十二次", "十三次")

_keys = itertools.count(1)


def blocks_of(text: str, heading: str = "一、基本情况") -> list[dict]:
    return [{"kind": "h1", "text": heading}, {"kind": "p", "text": text}]


def store_article(category: Category, title: str, *texts: str, publish: bool = False) -> Article:
    pieces = []
    for n, text in enumerate(texts, 1):
        piece = ParsedPiece(title=f"{title}篇{n}", blocks=blocks_of(text))
        piece.placeholders = find_placeholders(piece.text)
        pieces.append(piece)
    parsed = ParsedArticle(title=title, pieces=pieces, source_format="docx", intro="导语一段。")
    article, _ = do_import_article(
        parsed, category=category, publish=publish, source_key=f"desk-test-{next(_keys)}"
    )
    return article
