"""A piece as plain text for the editor, and back: one paragraph a line, never JSON.

Headings are read by the importer's own rules (structure.classify): a short line that
starts with 一、 （一） 1、 （1） ① 一是 第一， is a heading of its level, unless it is one
item of a run of same-kind items (a list of sentences). Where those rules would read a
line otherwise than the blocks say, the line carries an explicit mark, so that
text_to_blocks(blocks_to_text(blocks)) == blocks:

    # 标题 / ## 标题 / ### 标题   a heading of level 1 / 2 / 3 whatever its wording
    > 一句话                      a body paragraph, even if it reads like a heading
"""

from __future__ import annotations

import re

from fanwen.library.importer.structure import Line, classify, clean_line

KINDS = ("h1", "h2", "h3", "p")
_HEADING_MARK = re.compile(r"^(#{1,3})\s+(.*)$")
_PARAGRAPH_MARK = re.compile(r"^>\s*(.*)$")
# The help shown beside the textarea: the same rules, in the editor's words.
HELP = (
    "一行一段。以「一、」「（一）」「1、」「（1）」「①」「一是」「第一，」开头、"
    "不超过40字且不以逗号结尾的短行是小标题（一级、二级、三级）；"
    "同类编号连续出现时算作正文条目。行首写「# 」「## 」「### 」可指定一、二、三级小标题，"
    "写「> 」则强制为正文。"
)


def _plain_kinds(texts: list[str]) -> list[str]:
    return [block["kind"] for block in classify([Line(text) for text in texts])]


def blocks_to_text(blocks: list[dict]) -> str:
    """One line a block; a line gets a "#"/">" mark only where the rules would misread it."""
    items = [
        (block.get("kind") if block.get("kind") in KINDS else "p", _one_line(block.get("text")))
        for block in blocks or []
        if isinstance(block, dict)
    ]
    items = [(kind, text) for kind, text in items if text]
    guessed = _plain_kinds([text for _, text in items])
    lines = []
    for (kind, text), guess in zip(items, guessed, strict=True):
        if kind == guess and not _HEADING_MARK.match(text) and not _PARAGRAPH_MARK.match(text):
            lines.append(text)
        elif kind == "p":
            lines.append(f"> {text}")
        else:
            lines.append(f"{'#' * int(kind[1])} {text}")
    return "\n".join(lines)


def text_to_blocks(text: str) -> list[dict]:
    """Blocks of a piece from the editor's text: empty lines dropped, headings by the rules."""
    texts: list[str] = []
    forced: list[str | None] = []
    for raw in (text or "").splitlines():
        line = clean_line(raw)
        kind = None
        if match := _HEADING_MARK.match(line):
            kind, line = f"h{len(match.group(1))}", clean_line(match.group(2))
        elif match := _PARAGRAPH_MARK.match(line):
            kind, line = "p", clean_line(match.group(1))
        if line:
            texts.append(line)
            forced.append(kind)
    guessed = _plain_kinds(texts)
    return [
        {"kind": kind or guess, "text": line}
        for line, kind, guess in zip(texts, forced, guessed, strict=True)
    ]


def _one_line(text: object) -> str:
    # A block is one paragraph: a stray line break inside it would split it on the way back.
    return clean_line(" ".join(str(text or "").splitlines()))
