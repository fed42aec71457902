"""The one clean text of an article (or one piece): what the clipboard gets and what the DOCX holds.

Layout, one paragraph per line, as a buyer wants it when pasting into Word:

    title
    (empty line)
    piece heading          <- only when the article has several pieces and all are exported
    block
    block
    (empty line)           <- between pieces
    next piece heading
    ...

The intro is the site's blurb, not part of the work bought, so it is left out.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from fanwen.exports.fill import apply_fill, placeholder_groups
from fanwen.library.models import Article, Piece

BLOCK_KINDS = ("h1", "h2", "h3", "p")
TITLE_KINDS = ("title", "piece")
# The buyer mark's alphabet: a source text carrying these would read back differently once
# marks are stripped, so they are dropped here (they are invisible anyway).
_MARK_CHARS = "\u200b\u200c\u200d\u2060"
# Control, surrogate and non-characters: invisible, and XML (so DOCX) cannot hold most of them.
_DROP_CATEGORIES = {"Cc", "Cs"}
_NONCHARACTERS = {"\ufffe", "\uffff"}


@dataclass(frozen=True)
class Line:
    # "title" | "blank" | "piece" | "h1" | "h2" | "h3" | "p"
    kind: str
    text: str


def clean_line(text: str) -> str:
    """One line as it is exported: tabs become spaces, invisible junk dropped, ends trimmed."""
    kept = []
    for char in text.replace("\t", " "):
        if char in _MARK_CHARS or char in _NONCHARACTERS:
            continue
        if unicodedata.category(char) in _DROP_CATEGORIES:
            continue
        kept.append(char)
    # str.strip() trims U+3000 too: the DOCX indents paragraphs itself.
    return "".join(kept).strip()


def _split_lines(text: str) -> list[str]:
    lines = (clean_line(part) for part in str(text).splitlines())
    return [line for line in lines if line]


def _pieces(article: Article) -> list[Piece]:
    # all() so a prefetch_related("pieces") by the caller is used.
    return sorted(article.pieces.all(), key=lambda piece: piece.position)


def _block_lines(piece: Piece) -> list[Line]:
    lines: list[Line] = []
    blocks = piece.blocks if isinstance(piece.blocks, list) else []
    for block in blocks:
        if not isinstance(block, dict) or not block.get("text"):
            continue
        kind = block.get("kind") if block.get("kind") in BLOCK_KINDS else "p"
        lines.extend(Line(kind, text) for text in _split_lines(block["text"]))
    return lines


def _own_title(article: Article, piece: Piece) -> str:
    """The piece's title when it is more than "<article title>篇N" (the importer's default)."""
    title = clean_line(piece.title or "")
    if title in ("", f"{clean_line(article.title)}{piece.label}"):
        return ""
    return title


def _piece_heading(article: Article, piece: Piece) -> str:
    # As the article page shows it (library.views._sections), label included.
    heading = clean_line(piece.title or "") or f"{clean_line(article.title)}{piece.label}"
    if piece.label not in heading:
        heading = f"{piece.label}\u3000{heading}"
    return heading


def article_lines(article: Article, *, piece_position: int | None = None) -> list[Line]:
    """The export as typed lines, placeholders not filled; the DOCX styles each kind."""
    pieces = _pieces(article)
    title = clean_line(article.title) or "范文"
    if piece_position is not None:
        chosen = [piece for piece in pieces if piece.position == piece_position]
        if not chosen:
            raise Piece.DoesNotExist(f"这篇文章没有第{piece_position}篇")
        pieces = chosen
        title = _own_title(article, chosen[0]) or title
    lines = [Line("title", title), Line("blank", "")]
    with_headings = piece_position is None and len(pieces) > 1
    for index, piece in enumerate(pieces):
        if index:
            lines.append(Line("blank", ""))
        if with_headings:
            lines.append(Line("piece", _piece_heading(article, piece)))
        elif piece_position is None:
            # A lone piece with a title of its own keeps it under the article title.
            own = _own_title(article, piece)
            if own and own != title:
                lines.append(Line("piece", own))
        lines.extend(_block_lines(piece))
    return lines


def fill_lines(lines: list[Line], fill: dict[str, str] | None) -> list[Line]:
    if not fill:
        return lines
    return [Line(line.kind, apply_fill(line.text, fill)) for line in lines]


def article_placeholder_groups(article: Article, piece_position: int | None = None) -> list[dict]:
    """The fill-in form's questions for the article (or one piece) as it is exported."""
    lines = article_lines(article, piece_position=piece_position)
    return placeholder_groups(line.text for line in lines)


def title_line_numbers(article: Article, *, piece_position: int | None = None) -> frozenset[int]:
    """Which lines of `article_text` are the title and piece titles: the buyer mark keeps out."""
    lines = article_lines(article, piece_position=piece_position)
    return frozenset(number for number, line in enumerate(lines) if line.kind in TITLE_KINDS)


def article_text(
    article: Article, *, piece_position: int | None = None, fill: dict[str, str] | None = None
) -> str:
    """Title, piece headings and blocks, one paragraph per line, placeholders filled from `fill`."""
    lines = fill_lines(article_lines(article, piece_position=piece_position), fill)
    return "\n".join(line.text for line in lines)
