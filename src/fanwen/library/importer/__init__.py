"""Turn .docx/.txt/.md/.html files into titled pieces of heading-levelled blocks.

Public interface (used by the import command and the demo loader):

    parse_file(path) -> ParsedArticle          # raises ImportRejected(reason)
    parse_bytes(data, filename) -> ParsedArticle
    dedup.simhash(text) -> int                 # signed 64-bit, for Piece.simhash
    dedup.signature_fields(text) -> dict       # simhash + band columns of a Piece
    placeholders.find_placeholders(text) -> list[dict]

Storing a parsed article is fanwen.library.actions.do_import_article.

Modules: files (dispatch; regular files only, bounded reads, size limit), budget (the
wall clock per file), encoding (BOMs, UTF-16/32 without one, UTF-8, GB18030, Big5 → simplified;
Japanese, Korean and invalid bytes refused), text_reader (.txt, .md), docx_reader (counted
inflation, zip-bomb and XXE checks, styles), html_reader (main container among site chrome;
the title from the page's own <h1> / <title>, a breadcrumb's last item only when it matches,
else it is the category), structure (title, intro, pieces, headings, site chrome: fixed
phrases anywhere, and dates, counters, uploader/document numbers, membership notices and
share/report/download bars in short lines near the top or bottom — the rules all formats
share), boilerplate (lines repeated across a batch, or across one site's pages in it),
placeholders, dedup. Every step is linear in its input. tests/sites/ holds the corpus of
pages from many site families that these rules are measured on (test_site_corpus.py).
"""

from dataclasses import dataclass, field


class ImportRejected(Exception):
    """A file that cannot be imported; str(exc) is the one-line reason shown to the editor."""


@dataclass
class ParsedPiece:
    title: str
    blocks: list[dict]  # [{"kind": "h1|h2|h3|p", "text": str}]
    placeholders: list[dict] = field(default_factory=list)  # [{"start","end","kind","text"}]

    @property
    def text(self) -> str:
        return "\n".join(block["text"] for block in self.blocks)


@dataclass
class ParsedArticle:
    title: str
    pieces: list[ParsedPiece]
    source_format: str  # docx|txt|md|html
    intro: str = ""
    editor_name: str = ""
    # Category names from the page's breadcrumb, outermost first ("当前位置:首页 >> 作文 >> …").
    category_path: list[str] = field(default_factory=list)
    # The site a saved page came from (canonical host or <title> suffix): boilerplate learnt
    # across one site's pages of a batch (boilerplate.strip_repeated). "" when unknown.
    site: str = ""


# Imported last: the readers need the classes above.
from fanwen.library.importer.files import parse_bytes, parse_file  # noqa: E402

__all__ = ["ImportRejected", "ParsedArticle", "ParsedPiece", "parse_bytes", "parse_file"]
