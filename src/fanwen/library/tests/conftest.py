import io
from pathlib import Path

import pytest

from fanwen.library.tests.factories import *  # noqa: F403  (shared with tests/conftest.py)

# --- importer tests: fixture files and generated Word documents ---

IMPORT_FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def import_fixture():
    """Path of a file in tests/fixtures/ (the importer's sample pages)."""
    return lambda name: IMPORT_FIXTURES / name


@pytest.fixture
def make_docx():
    """Build .docx bytes from (style, text) pairs; style is None, "Title" or "Heading N"."""
    import docx

    def build(
        paragraphs: list[tuple[str | None, str]], table: list[list[str]] | None = None
    ) -> bytes:
        document = docx.Document()
        for style, text in paragraphs:
            if style == "Title":
                document.add_heading(text, level=0)
            elif style and style.startswith("Heading"):
                document.add_heading(text, level=int(style.split()[-1]))
            else:
                document.add_paragraph(text)
        if table:
            grid = document.add_table(rows=len(table), cols=len(table[0]))
            for r, row in enumerate(table):
                for c, value in enumerate(row):
                    grid.cell(r, c).text = value
        buffer = io.BytesIO()
        document.save(buffer)
        return buffer.getvalue()

    return build


def pytest_terminal_summary(terminalreporter):
    """The site corpus' score (test_site_corpus.py), when it ran."""
    import sys

    module = sys.modules.get("fanwen.library.tests.test_site_corpus")
    line = module.summary_line() if module else None
    if line:
        terminalreporter.write_line(line)
