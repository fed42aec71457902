"""Turn .docx/.txt/.md/.html files into titled pieces of heading-levelled blocks.

Public interface (used by the import command and the demo loader):

    parse_file(path) -> ParsedArticle          # raises ImportRejected(reason)
    parse_bytes(data, filename) -> ParsedArticle
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
