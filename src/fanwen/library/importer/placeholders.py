"""Fill-in blanks in a piece's text: xx, XX, ××, __, 某某, 20__年, xx月xx日 …

Each is {"start", "end", "kind", "text"} with offsets into the piece text. Kinds, and the
question a fill-in form asks for them (PLACEHOLDER_GROUPS):
year (20__ before 年), date (xx月xx日), unit (xx局, __公司), name (某某, xx同志),
number (第__名, __人, 党的xx大), blank (a bare ____), other (a bare xx or ××).
"""

from __future__ import annotations

import bisect
import re

PLACEHOLDER_GROUPS = {
    "year": "年份",
    "date": "日期",
    "unit": "单位名称",
    "name": "姓名",
    "number": "数字",
    "blank": "其他",
    "other": "其他",
}

# One placeholder token. "x" must not touch other Latin letters ("xxl", "Linux" stay words).
# Nor be part of a domain or an e-mail address ("xxx.com", "xx@qq.com").
_X_RUN = r"(?<![A-Za-zＡ-Ｚａ-ｚ.@])[xXｘＸ]{2,4}(?![A-Za-zＡ-Ｚａ-ｚ@]|\.[A-Za-z])"
# Runs are matched whole from their first character (lookbehind, possessive "++"): a long run
# of "_" is scanned once, not once per starting position (quadratic on a line of 10^5 "_").
_UNDER = r"(?<![A-Za-z_＿])[_＿]++(?![A-Za-z])"
_TOKEN = re.compile(
    rf"{_X_RUN}|(?<![×╳])[×╳]{{2,}}+|{_UNDER}|(?<!□)□++|(?<!○)○{{2,}}+|(?<!某)某某++"
)
# Inside a date a single x or × is a blank too ("x月x日").
_DATE_PART = r"(?:[xXｘＸ×╳]{1,4}|(?<![_＿])[_＿]++|(?<!□)□++|\d{1,4})"
# The leading lookahead makes the scan fail fast on ordinary characters.
_DATE = re.compile(
    rf"(?=[\dxXｘＸ×╳_＿□])(?:(?:(?:19|20)?{_DATE_PART}\s*+年\s*+)?{_DATE_PART}\s*+月(?:\s*+{_DATE_PART}\s*+[日号])?"
    rf"|{_DATE_PART}\s*+年\s*+{_DATE_PART}\s*+月)"
)
_YEAR = re.compile(
    r"(?=[\dxXｘＸ×╳_＿□])(?:(?<!\d)(?:19|20)(?:[xXｘＸ×╳]{2}|[_＿]{1,4}|□{1,2})(?![A-Za-z\d])"
    rf"|(?:{_X_RUN}|(?<![×╳])[×╳]{{2,}}+|{_UNDER}|(?<!□)□++)(?=\s*+年(?!级)))"
)
_BLANK_CHARS = re.compile(r"[xXｘＸ×╳_＿□]")

_NAME_AFTER = (
    "同志|先生|女士|老师|同学|校长|局长|书记|主任|经理|院长|科长|处长|部长|厅长|市长|县长|镇长|村长|主席"
    "|委员|董事长|总经理|家长|师傅|医生|护士|教授|主管|组长|班长|队长|副"
)
_NUMBER_AFTER = (
    "年级|人次|万元|亿元|个百分点|平方米|公里|小时|公顷|余人|多人|%|％|人|名|个|次|项|元|万|亿|千|百"
    "|天|届|家(?!庭|长|乡|人|属)|户|期|批|场|件|位|岁|号|条|本|台|辆|亩|米|吨|倍|分|周|篇|份|册|台|元钱"
)
_UNIT_AFTER = (
    "分公司|有限公司|公司|部门|单位|学校|医院|大学|学院|中学|小学|幼儿园|街道|社区|协会|支部|党委|团委|企业"
    "|工厂|酒店|项目部|小区|中心|集团|银行|系统|局|镇|乡|村|县|市|区|省|委|办|厅|处|科|所|站|厂|店|馆|院"
)
_NAME_AFTER_RE = re.compile(rf"^(?:{_NAME_AFTER})")
_NUMBER_AFTER_RE = re.compile(rf"^\s*(?:{_NUMBER_AFTER})")
_UNIT_AFTER_RE = re.compile(rf"^(?:{_UNIT_AFTER})")
_NAME_BEFORE_RE = re.compile(
    r"(?:姓名|签名|署名|报告人|申请人|述职人|发言人|我叫|名叫|叫做|本人)\s*[:：]?\s*$"
)
_NUMBER_BEFORE_RE = re.compile(r"(?:第|共|计|达|约|近|超过|累计|共计|合计|党的|\d)\s*$")
_UNIT_BEFORE_RE = re.compile(r"(?:单位|单位名称|公司名称|学校名称|工作单位)\s*[:：]\s*$")


def find_placeholders(text: str) -> list[dict]:
    # Dates first, then years, then bare tokens: a span already taken by an earlier kind
    # wins. Each pass's matches are in order and never overlap one another, so checking them
    # against the sorted spans of the earlier passes by bisection keeps a page of 10^5
    # blanks linear-logarithmic (not each blank compared with all the others).
    spans: list[tuple[int, int, str]] = []
    passes = (
        ((m.start(), m.end(), "date") for m in _DATE.finditer(text) if _BLANK_CHARS.search(m[0])),
        ((m.start(), m.end(), "year") for m in _YEAR.finditer(text)),
        ((m.start(), m.end(), None) for m in _TOKEN.finditer(text)),
    )
    for found in passes:
        starts = [span[0] for span in spans]
        fresh = []
        for start, end, kind in found:
            at = bisect.bisect_right(starts, start)
            if (at and spans[at - 1][1] > start) or (at < len(spans) and spans[at][0] < end):
                continue
            fresh.append((start, end, kind or _kind(text, start, end)))
        spans = sorted(spans + fresh)
    return [
        {"start": start, "end": end, "kind": kind, "text": text[start:end]}
        for start, end, kind in spans
    ]


def _kind(text: str, start: int, end: int) -> str:
    token = text[start:end]
    after = text[end : end + 6]
    before = text[max(0, start - 6) : start]
    if _NAME_AFTER_RE.match(after) or _NAME_BEFORE_RE.search(before):
        return "name"
    if _NUMBER_AFTER_RE.match(after) or _NUMBER_BEFORE_RE.search(before):
        return "number"
    if _UNIT_AFTER_RE.match(after) or _UNIT_BEFORE_RE.search(before):
        return "unit"
    if token.startswith("某"):
        return "name"
    if token[0] in "_＿□":
        return "blank"
    return "other"
