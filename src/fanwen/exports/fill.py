"""Fill-in of placeholders (xx公司, 20__年, 某某 …) before a buyer copies or downloads.

Placeholders are found line by line in the export text with the importer's detector, both
when the form is built (placeholder_groups) and when values are applied (apply_fill), so a
group always fills exactly the places it counted. The pieces' stored offsets are not used:
they go stale when an editor changes a block. Nothing is stored: values travel with the request.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping

from fanwen.library.importer.placeholders import PLACEHOLDER_GROUPS, find_placeholders

MAX_VALUE_LENGTH = 50
MAX_VALUES = 100
# Form order: the questions a buyer answers first come first.
GROUP_ORDER = ("year", "date", "unit", "name", "number", "other")
# The detector's bare "____" asks the same question as a bare "xx".
_GROUP_OF_KIND = {"blank": "other"}
_KEY = re.compile(rf"^(?:{'|'.join(GROUP_ORDER)})-[0-9a-f]{{8}}$")
# Control, format (zero-width, bidi overrides), surrogate, private-use characters and line
# separators: invisible or layout-changing, and the buyer mark and the protection font use some.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}
_CONTEXT_CHARS = 8


def group_kind(kind: str) -> str:
    kind = _GROUP_OF_KIND.get(kind, kind)
    return kind if kind in GROUP_ORDER else "other"


def placeholder_key(kind: str, token: str) -> str:
    """Stable for a given placeholder (kind + its exact text), usable as an HTML form name."""
    digest = hashlib.sha1(token.encode("utf-8"), usedforsecurity=False).hexdigest()
    return f"{group_kind(kind)}-{digest[:8]}"


def clean_fill_values(values: Mapping[str, object] | None) -> dict[str, str]:
    """Validated, stripped values by key; empty values are dropped (the placeholder stays)."""
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise ValueError("填写内容的格式不对")
    if len(values) > MAX_VALUES:
        raise ValueError(f"填写的项目太多（最多{MAX_VALUES}项）")
    cleaned: dict[str, str] = {}
    for key, value in values.items():
        if not isinstance(key, str) or not _KEY.match(key):
            raise ValueError(f"未知的填写项：{str(key)[:20]}")
        if not isinstance(value, str):
            raise ValueError("填写的内容必须是文字")
        value = value.strip()
        if not value:
            continue
        if len(value) > MAX_VALUE_LENGTH:
            raise ValueError(
                f"填写的内容太长：“{value[:10]}…”有{len(value)}个字，最多{MAX_VALUE_LENGTH}个字"
            )
        if any(unicodedata.category(char) in _REFUSED_CATEGORIES for char in value):
            raise ValueError(
                f"填写的内容“{_shown(value)}”含有换行、控制字符或不可见字符，请删去后再试"
            )
        cleaned[key] = value
    return cleaned


def _shown(value: str) -> str:
    visible = "".join(
        char for char in value if unicodedata.category(char) not in _REFUSED_CATEGORIES
    )
    return visible[:10]


def _fill_line(line: str, values: dict[str, str]) -> str:
    parts: list[str] = []
    done = 0
    for found in find_placeholders(line):
        value = values.get(placeholder_key(found["kind"], found["text"]))
        if value is None:
            continue
        parts.append(line[done : found["start"]])
        parts.append(value)
        done = found["end"]
    parts.append(line[done:])
    return "".join(parts)


def apply_fill(text: str, values: Mapping[str, object] | None) -> str:
    """`text` with every placeholder whose key has a value replaced by it; bad values raise ValueError."""
    cleaned = clean_fill_values(values)
    if not cleaned:
        return text
    return "\n".join(_fill_line(line, cleaned) for line in text.split("\n"))


def placeholder_groups(lines: Iterable[str]) -> list[dict]:
    """The questions of a fill-in form for these export lines (text.article_placeholder_groups
    gives an article's): one per distinct placeholder, ordered by kind.

    Each: {"key", "kind", "label", "token", "example", "count"}.
    """
    groups: dict[str, dict] = {}
    for line in lines:
        for found in find_placeholders(line):
            key = placeholder_key(found["kind"], found["text"])
            if key in groups:
                groups[key]["count"] += 1
                continue
            groups[key] = {
                "key": key,
                "kind": group_kind(found["kind"]),
                "label": "",
                "token": found["text"],
                "example": _example(line, found["start"], found["end"]),
                "count": 1,
            }
    ordered = sorted(groups.values(), key=lambda group: GROUP_ORDER.index(group["kind"]))
    per_kind: dict[str, int] = {}
    for group in ordered:
        per_kind[group["kind"]] = per_kind.get(group["kind"], 0) + 1
    seen: dict[str, int] = {}
    for group in ordered:
        kind = group["kind"]
        seen[kind] = seen.get(kind, 0) + 1
        # Two unit names get "单位名称1" and "单位名称2"; the example tells them apart.
        suffix = str(seen[kind]) if per_kind[kind] > 1 else ""
        group["label"] = PLACEHOLDER_GROUPS[kind] + suffix
    return ordered


def _example(line: str, start: int, end: int) -> str:
    before = line[max(0, start - _CONTEXT_CHARS) : start]
    after = line[end : end + _CONTEXT_CHARS]
    head = "…" if start > _CONTEXT_CHARS else ""
    tail = "…" if end + _CONTEXT_CHARS < len(line) else ""
    return f"{head}{before}{line[start:end]}{after}{tail}"
