"""Parse a group of files together: each file, then the chrome the group repeats, then the
pieces' near-duplicate signatures. No database is touched, so a parse process runs it too
(start_parse_process sets Django up there with the parent's import limits).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from fanwen.library.importer import ImportRejected, ParsedArticle, dedup
from fanwen.library.importer.boilerplate import strip_repeated
from fanwen.library.importer.files import parse_bytes

log = logging.getLogger(__name__)

# Settings the parse reads: a parse process is given the parent's values (a test or a caller
# may have changed them since the settings module was read).
PARSE_SETTINGS = (
    "FANWEN_IMPORT_MAX_BYTES",
    "FANWEN_IMPORT_MAX_UNZIPPED_BYTES",
    "FANWEN_IMPORT_MAX_SECONDS",
    "FANWEN_IMPORT_MAX_CHARS",
    "FANWEN_IMPORT_MAX_PARAGRAPHS",
    "FANWEN_SEARCH_USER_DICT",
)


@dataclass
class Failure:
    refused: bool  # True: the file is at fault (ImportRejected); False: an internal error
    reason: str


@dataclass
class ParsedGroup:
    """Per file (parsed or None, failure or None), and the pieces' signatures by text."""

    outcomes: list[tuple[ParsedArticle | None, Failure | None]]
    signatures: dict[str, dedup.Signature]
    analyzed: dict = field(default_factory=dict)  # text -> search Analyzed, when asked for


def parse_named(named: list[tuple[str, bytes | None]], index_ahead: bool = False) -> ParsedGroup:
    """Parse each (name, bytes) — None for a file already refused — then strip the chrome the
    group repeats and sign the pieces; with index_ahead, also segment each title and text for
    the search index (articles published on import are indexed soon after)."""
    outcomes: list[tuple[ParsedArticle | None, Failure | None]] = []
    for name, data in named:
        if data is None:
            outcomes.append((None, None))
            continue
        try:
            outcomes.append((parse_bytes(data, PurePosixPath(name).name), None))
        except ImportRejected as exc:
            outcomes.append((None, Failure(True, str(exc))))
        except Exception as exc:  # noqa: BLE001 - one broken file must not stop the group
            log.exception("parsing %s failed", name)
            outcomes.append((None, Failure(False, f"内部错误：{type(exc).__name__}: {exc}")))
    strip_repeated([parsed for parsed, _ in outcomes if parsed is not None])
    # Near-duplicate signatures now, outside the transactions that store the files.
    signatures = {
        piece.text: dedup.signature(piece.text)
        for parsed, _ in outcomes
        if parsed is not None
        for piece in parsed.pieces
    }
    parsed_ones = [parsed for parsed, _ in outcomes if parsed is not None]
    return ParsedGroup(outcomes, signatures, _analyzed(parsed_ones) if index_ahead else {})


def _analyzed(articles: list[ParsedArticle]) -> dict:
    from fanwen.search import analysis, documents

    texts = {text for article in articles for text in _indexed_texts(article, documents)}
    return {text: analysis.analyze(text) for text in texts}


def _indexed_texts(article: ParsedArticle, documents) -> tuple[str, str]:
    # What the index will read once the article is stored: its title (as the column keeps
    # it) and its pieces' blocks.
    return article.title[:200], documents.body_text(piece.blocks for piece in article.pieces)


def start_parse_process(settings_module: str, values: dict) -> None:
    """The initializer of a parse process: Django set up, the parent's limits in force."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    import django

    django.setup()
    from django.conf import settings

    for name, value in values.items():
        setattr(settings, name, value)
