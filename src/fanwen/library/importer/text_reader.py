"""Plain text and Markdown files to lines."""

from __future__ import annotations

import re

from fanwen.library.importer import budget
from fanwen.library.importer.encoding import decode_bytes
from fanwen.library.importer.structure import Line, RawDocument

# Every pattern scans a line once: a bracket is never searched for past the next opening one
# ("[[[[…" would otherwise rescan the rest of the line from each "["), a closing "*" is looked
# for within 200 characters, and runs are matched possessively ("++", "*+").
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_MD_RULE = re.compile(r"^\s*+(?:[-*_]\s*+){3,}+$")
_MD_IMAGE = re.compile(r"!\[[^\[\]]*+\]\([^()]*+\)")
_MD_LINK = re.compile(r"\[([^\[\]]*+)\]\([^()]*+\)")
_MD_EMPHASIS = re.compile(r"(\*{1,3})(\S(?:[^\n]{0,200}?\S)?)\1")
_MD_BULLET = re.compile(r"^\s*+[-*+]\s+")
_MD_QUOTE = re.compile(r"^\s*+(?:>\s?)++")
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*+>")
_BR = re.compile(r"<br\s*+/?>", re.I)


def read_txt(data: bytes) -> RawDocument:
    text = decode_bytes(data)
    return RawDocument(lines=[Line(line) for line in text.splitlines()], source_format="txt")


def read_md(data: bytes) -> RawDocument:
    text = decode_bytes(data)
    raw_lines = text.splitlines()
    title = ""
    # YAML front matter: only its title is of use.
    if raw_lines and raw_lines[0].strip() == "---":
        for end in range(1, min(len(raw_lines), 60)):
            if raw_lines[end].strip() in ("---", "..."):
                for meta in raw_lines[1:end]:
                    key, _, value = meta.partition(":")
                    if key.strip().lower() == "title":
                        title = value.strip().strip("\"'")
                raw_lines = raw_lines[end + 1 :]
                break
    headings = [m for line in raw_lines if (m := _MD_HEADING.match(line))]
    top_count = sum(1 for m in headings if len(m.group(1)) == 1)
    # A single "#" is the document title; then "##" is the first level inside it.
    shift = 1 if top_count == 1 and not title else 0
    lines: list[Line] = []
    in_code = False
    for number, line in enumerate(raw_lines):
        if not number % 256:
            budget.check()
        if line.strip().startswith(("```", "~~~")):
            in_code = not in_code
            continue
        if in_code:
            lines.append(Line(line))
            continue
        if _MD_RULE.match(line):
            continue
        match = _MD_HEADING.match(line)
        if match:
            level = len(match.group(1))
            # "## 标题 ##": closing hashes go (rstrip, not a regex that rescans them).
            text_part = _inline(match.group(2).rstrip().rstrip("#").rstrip())
            if level == 1 and shift:
                if not title:
                    title = text_part
                lines.append(Line(text_part, "title"))
            else:
                lines.append(Line(text_part, f"h{min(3, max(1, level - shift))}"))
            continue
        line = _MD_QUOTE.sub("", line)
        line = _MD_BULLET.sub("", line)
        for part in _BR.split(line):
            lines.append(Line(_inline(part)))
    return RawDocument(lines=lines, source_format="md", title=title)


def _inline(text: str) -> str:
    text = _MD_IMAGE.sub("", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_EMPHASIS.sub(r"\2", text)
    text = _HTML_TAG.sub("", text)
    return text.replace("`", "").replace("\\", "")
