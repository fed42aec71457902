"""From lines of text to an article: title, intro, pieces (篇一…篇N) and heading levels.

Every reader (txt, md, docx, html) reduces its file to a list of `Line`s; this module holds
all the rules about Chinese model-essay pages, so the formats behave the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from django.conf import settings

from fanwen.library.importer import ImportRejected, ParsedArticle, ParsedPiece, budget
from fanwen.library.importer.placeholders import find_placeholders


@dataclass
class Line:
    text: str
    # "title" or "h1".."h3" when the file format itself says so (docx style, markdown #, <h2>).
    hint: str | None = None


@dataclass
class RawDocument:
    lines: list[Line]
    source_format: str
    title: str = ""  # a title the format names explicitly (docx Title, html h1/breadcrumb)
    fallback_title: str = ""  # the file name, when nothing better turns up
    crumbs: list[str] = field(default_factory=list)  # category names from a breadcrumb
    editor_name: str = ""
    site: str = ""  # the page's site (html only), for boilerplate.strip_repeated


CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def cn_number(text: str) -> int | None:
    """一 -> 1, 十二 -> 12, 二十五 -> 25, "7" -> 7; None for anything else."""
    if text.isdigit():
        return int(text)
    if text == "十":
        return 10
    if "十" in text:
        tens, _, ones = text.partition("十")
        value = (CN_DIGITS.get(tens, 0) if tens else 1) * 10
        if tens and tens not in CN_DIGITS:
            return None
        if ones:
            if ones not in CN_DIGITS:
                return None
            value += CN_DIGITS[ones]
        return value
    return CN_DIGITS.get(text) if len(text) == 1 else None


# --- cleaning ---------------------------------------------------------------------------

# Zero-width and control characters: invisible, and junk in a copy or a search index.
_ZERO_WIDTH = re.compile("[\u200b-\u200f\u2060\ufeff\u00ad\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u00a0\u3000\u2002-\u200a\u202f\u205f]+")
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Copy-protection junk: sites insert "." between two Chinese characters ("较好的.成绩").
_STRAY_DOT = re.compile(rf"(?<=[{_CJK}])\.(?=[{_CJK}])")
_CN_NUMERAL_PREFIX = re.compile(r"^[一二三四五六七八九十]{1,3}$")
_SENTENCE_END = "。！？!?；;…"


def clean_line(text: str) -> str:
    text = _ZERO_WIDTH.sub("", text)
    text = _SPACES.sub(" ", text).strip()
    if "." in text:
        text = _STRAY_DOT.sub(
            lambda m: m.group(0) if _numeral_before(text, m.start()) else "", text
        )
    return text


def _numeral_before(text: str, pos: int) -> bool:
    # "一.加强领导" is a heading marker, not junk.
    return pos <= 3 and bool(_CN_NUMERAL_PREFIX.match(text[:pos]))


# --- site boilerplate -------------------------------------------------------------------

_CRUMB_PREFIX = re.compile(
    r"^(?:当前位置|您的位置|你的位置|您现在的位置|你现在的位置|您当前的位置|所在位置|当前的位置|位置)\s*[:：]\s*"
)
_CRUMB_SPLIT = re.compile(r"(?:(?<!\s)\s++)?(?:>>|->|＞＞|>|›|»|→|＞|/|\|)\s*+")
_HOME_WORDS = {"首页", "网站首页", "主页", "返回首页", "本站首页", "home", "Home", "HOME"}
_NOT_TITLES = {"正文", "内容", "详情", "详细", "阅读", "文章", "查看文章", "浏览文章"}

# Paywall and end-of-article prompts: the rest of the page after them is never content.
_CUT = re.compile(
    r"全文阅读已结束|全文已结束|阅读已结束|^(?:下载此文档|下载本文档)$"
    r"|^(?:【[^】]{1,40}】)?\s*(?:相关(?:推荐|文章|阅读|范文|内容|专题)|猜你喜欢|推荐阅读|延伸阅读"
    r"|热门(?:推荐|文章|范文)|精彩推荐|更多(?:推荐|相关|精彩|范文)|最新(?:文章|范文)|本类热门)\s*[:：]?\s*$"
    r"|^.{1,40}相关(?:文章|范文|推荐)\s*[:：]?\s*$"
    r"|^(?:看过本文的人|大家|网友|读者)?还(?:看了|喜欢)\s*[:：]?\s*$|^(?:你|您)可能(?:还)?(?:喜欢|感兴趣)"
    r"|^(?:往期|精彩|历史)(?:推荐|回顾|精选|文章)\s*[:：]?\s*$"
)

# Whole lines that are site chrome. Keyword rules only apply to short lines (<= 40) so a paragraph
# that happens to mention 客服 or 版权 survives.
_META = re.compile(
    r"^(?:格式\s*[:：]\s*[A-Za-z]{2,5}\b|上传(?:日期|时间)\s*[:：])"
    # "日期：2024年3月5日" under a signature is the letter's; a page's post date is numeric.
    r"|^(?:发布|更新|上传)(?:时间|日期)\s*[:：]\s*\d{2,4}[-/.年]|^(?:时间|日期)\s*[:：]\s*\d{2,4}[-/.]"
    r"|^(?:来源|作者|编辑|责任编辑|浏览|浏览次数|浏览量|阅读|阅读量|阅读数|点击|点击数|人气|字数|文档格式|文件大小"
    r"|下载次数|发布时间|更新时间|发布日期|发布者|上传者|上传|页数|大小|格式|分类|栏目|标签|关键词|所属分类)\s*[:：]"
    r"|小编\s*[:：]"
)
_CHROME_SHORT = re.compile(
    r"^[a-dA-D]\s*[.．、]\s*(?:付费|包月|免费|会员|开通)"
    r"|付费(?:获得|下载|复制|阅读|查看)|^特价\s*[:：]|^原价|(?:微信|支付宝)\s*(?:扫码|扫一扫)?\s*(?:支付|付款)"
    r"|已付款请点|联系客服|在线客服|客服(?:电话|QQ|微信)|包月(?:复制|下载|会员)|付费后\s*\d+\s*天内"
    r"|不限量(?:复制|下载)|(?:扫码|扫一扫|长按|识别二维码).{0,12}(?:下载|支付|关注|获取|领取|阅读|复制)"
    r"|(?:点击|免费|立即|一键)\s*下载|下载(?:本文|全文|文档|此文|word|Word|WORD|完整版)|^下载$"
    r"|版权(?:归|所有|声明|说明)|转载(?:请|需|务必)注明|(?:来源于|来自|选自)(?:网络|互联网)|如(?:有|涉及)侵权"
    r"|^(?:上一篇|下一篇|上一页|下一页|返回(?:首页|列表|顶部|目录))|^(?:分享到|收藏本文|打印本文|举报(?!电话|信箱|邮箱|热线|方式)|纠错|加入收藏)"
    r"|请点击(?:这里|此处|下载|查看)|复制(?:本文|全文)|(?:会员|VIP|vip)\s*(?:下载|专享|免费|特权)"
    r"|(?:关注|搜索)(?:微信)?公众号|(?:展开|阅读|查看)(?:全文|更多)|剩余\s*\d+%?\s*未读|温馨提示\s*[:：]"
    r"|Copyright|copyright|©|ICP备|备案号|^\d+(?:\.\d+)?\s*元(?:\s*\d+(?:\.\d+)?\s*元)?$"
    r"|^[¥￥]\s*\d+"
)
_CREDIT = re.compile(
    r"本文(?:由|来自|来源于|转载自)[^。！!\n]{0,40}(?:整理|发布|提供|收集|编辑|原创|上传|网)"
)
# Site credits glued to the end of a real paragraph: cut the sentence, keep the paragraph.
_CREDIT_SENTENCE = re.compile(
    r"(?:本文(?:由|来自|来源于|转载自)[^。！!]{0,40}(?:整理|发布|提供|收集|编辑|原创|上传|网)[^。！!]{0,30}[。！!]?"
    r"|转载(?:请|需|务必)注明[^。！!]{0,40}[。！!]?|更多[^。！!]{0,30}(?:请|敬请)(?:访问|关注|点击|登录)[^。！!]{0,40}[。！!]?)$"
)
_MARKERS_ONLY = re.compile(
    r"^(?:\s*[【\[（(]?(?:篇|范文|第)[一二三四五六七八九十\d]{1,3}篇?[】\]）)]?\s*){2,}$"
)
_EDITOR = re.compile(r"小编\s*[:：]\s*([^\s:：|,，;；]{1,20})")


# Chrome whatever its place, as a whole short line: end marks, page counters, uploader and
# document-number fields. None of them is ever a sentence of an essay.
_END_MARK = re.compile(
    r"^[\s\-—–_=~·*#【\[（(<《]{0,12}"
    r"(?:全文完|全文结束|本文完|完|END|End|end|THE END|The End|the end)"
    r"[\s\-—–_=~·*#】\]）)>》]{0,12}$"
)
_STRONG_CHROME = re.compile(
    r"第\s{0,3}\d{1,4}\s{0,3}页\s{0,3}[/，,、]?\s{0,3}共\s{0,3}\d{1,4}\s{0,3}页"
    r"|^\s{0,3}\d{1,4}\s{0,3}/\s{0,3}\d{1,4}\s{0,3}页?\s{0,3}$|^本文共\s{0,3}\d{1,4}\s{0,3}页"
    r"|(?:上传者|上传人|上传用户|贡献者|发布者|发布人|投稿人|文档编号|文档ID|文档id|文档Id|资源ID"
    r"|资源编号|资源大小|文档大小|下载积分|全文页数)\s{0,3}[:：]"
    r"|^本帖最后由\s"
    r"|^[-—–]\s{0,3}\d{1,4}\s{0,3}[-—–]$|^第\s{0,3}\d{1,4}\s{0,3}页$"
    r"|^(?:还剩|剩余)\s{0,3}\d{1,4}\s{0,3}(?:页|%)\s{0,3}未读"
)

# Chrome only near the top or bottom of the text (the first / last EDGE_LINES lines) and only
# in short lines that are not sentences: post dates and view counts, membership notices,
# report/share/download links, site addresses, staff credits of 公众号 posts.
EDGE_LINES = 8
EDGE_MAX_CHARS = 50
_EDGE_CHROME = re.compile(
    r"(?:阅读|浏览|点击|人气|围观|查看)(?:次数|量|数)?\s{0,3}[:：]?\s{0,3}\d{1,9}"
    r"|\d{1,9}\s{0,3}(?:次|人)(?:阅读|浏览|看过|围观)|全文共\s{0,3}\d{1,7}\s{0,3}字"
    r"|(?:会员|VIP|vip|Vip)\s{0,3}(?:可|免费|专享|登录|阅读|下载|全文|特权|用户|专区|尊享)"
    r"|(?:开通|加入|成为|升级|购买)\s{0,3}(?:会员|VIP|vip)|全文(?:免费)?阅读|阅读(?:全文|原文)"
    r"|剩余\s{0,3}\d{1,4}\s{0,3}页|登录后"
    r"|^\d{1,6}\s{0,2}(?:积分|金币|下载券|财富值|点券)$|(?:所需|下载)积分"
    r"|点赞支持|(?:点赞|收藏|转发|分享)(?:一下|支持|鼓励)|点个在看|关注我们|蓝字|二维码"
    r"|下载(?:本文|全文|文档|此文|到|word|Word|WORD|PDF|pdf|APP|App|app)|^(?:立即|免费|点击)下载"
    r"|(?:打开|下载)\s{0,3}(?:APP|App|app|客户端)"
    r"|https?://|www\.|\.(?:com|cn|net|org)\b"
    r"|^[（(【\[]?\s{0,2}(?:文字|文|图|图片|摄影|排版|编辑|责编|责任编辑|审核|校对|供稿|作者|来源|出处"
    r"|原标题|指导老师|指导教师|辅导老师)\s{0,3}[:：|丨]"
    r"|^[▲△↑]\s{0,2}(?:图|来源|摄影)"
)
# Notices about the text rather than of it: kept off even when they end like a sentence.
_EDGE_NOTICE = re.compile(
    r"首发于|转载请|禁止转载|未经(?:授权|许可)|原文链接|本文链接|本文档|下载自|转自|摘自|图片来(?:源|自)"
    r"|^[（(](?:本文|图片|图|文中图片|文章|来源|作者)[^（()）]{0,40}[）)]$"
)
# A numeric date with anything else on its line ("2024-03-05 07:21", "更新于 2023-08-01"),
# or a 年月日 date with a clock time or a posting word. A line that is only a date stays:
# letters and applications end with one.
_NUM_DATE = re.compile(r"\d{4}\s{0,2}[-/.]\s{0,2}\d{1,2}\s{0,2}[-/.]\s{0,2}\d{1,2}")
_CN_DATE = re.compile(r"\d{4}\s{0,2}年\s{0,2}\d{1,2}\s{0,2}月(?:\s{0,2}\d{1,2}\s{0,2}[日号])?")
_CLOCK = re.compile(r"\d{1,2}:\d{2}")
_POSTED = re.compile(r"发布|发表|更新|编辑|上传|posted", re.I)


def _dated_chrome(text: str) -> bool:
    numeric = _NUM_DATE.search(text)
    if numeric:
        return bool(text[: numeric.start()].strip() or text[numeric.end() :].strip())
    chinese = _CN_DATE.search(text)
    return bool(chinese) and bool(_CLOCK.search(text) or _POSTED.search(text))


def is_edge_chrome(text: str) -> bool:
    """A short line near the edge of the text that is site furniture, not the essay's."""
    if len(text) > EDGE_MAX_CHARS:
        # "本文来源：https://…": an address makes a line long, not a sentence.
        return len(text) <= 160 and _is_address_line(text)
    if _EDGE_NOTICE.search(text):
        return True
    # A sentence of the essay ("…老师们可以随时下载使用，节省了…。") is not a link or notice.
    if text[-1] in "。；;" and len(text) > 12:
        return False
    if _GENRE_EDGE.match(text) or heading_marker(text) is not None:
        return False
    return bool(_EDGE_CHROME.search(text)) or _dated_chrome(text) or _is_link_bar(text)


# A bar of page actions: "收藏本文 | 打印本文", "点赞（12） 收藏（3）", "评论 356  转发".
_ACTION = re.compile(r"举报|分享|收藏|点赞|在看|打印|纠错|转发|评论|回复|赞同|反馈")
_ACTION_BAR = re.compile(
    r"举报|分享到?|收藏|点赞|在看|打印|纠错|转发|评论|回复|喜欢|赞同|赞|反馈|复制|阅读原文|微信|微博"
    r"|QQ空间|QQ|朋友圈|本文|文章|全文|[\d\s|·/:：.()（）\[\]【】,，、+▼▲↓]|万|次"
)


def _is_link_bar(text: str) -> bool:
    """Only action words, counts and separators: "举报 | 纠错" is a bar, "学会分享" is not."""
    return bool(_ACTION.search(text)) and len(_ACTION_BAR.sub("", text)) <= 1


_ADDRESS = re.compile(r"https?://\S{4,}|www\.\S{4,}")


def _is_address_line(text: str) -> bool:
    """A line that is mostly a web address (what is left beside it is a short label)."""
    match = _ADDRESS.search(text)
    return bool(match) and len(text) - (match.end() - match.start()) <= 30


# Lines a letter or notice ends with: never chrome, however short and dated.
_GENRE_EDGE = re.compile(
    r"^(?:此致|敬礼|申请人|汇报人|报告人|承诺人|发言人|检讨人|倡议人|署名|落款)"
)


def parse_crumb(text: str) -> list[str] | None:
    """'当前位置:网站首页 >> 作文 >> 标题' -> ['作文', '标题']; None if it is no breadcrumb."""
    match = _CRUMB_PREFIX.match(text)
    if not match and not re.match(r"^(?:首页|网站首页|主页)\s*(?:>>|>|›|»|→|＞)", text):
        return None
    rest = text[match.end() :] if match else text
    items = [item.strip() for item in _CRUMB_SPLIT.split(rest) if item.strip()]
    return [item for item in items if item not in _HOME_WORDS and item not in _NOT_TITLES]


def is_chrome(text: str) -> bool:
    """A line of site furniture (meta, pay prompts, credits), never part of an essay."""
    if len(text) <= 80 and (_META.search(text) or _CREDIT.search(text)):
        return True
    if len(text) <= 40 and _CHROME_SHORT.search(text):
        return True
    if len(text) <= 60 and (_END_MARK.match(text) or _STRONG_CHROME.search(text)):
        return True
    if _is_rule_or_banner(text):
        return True
    return bool(_MARKERS_ONLY.match(text))


# Not "_": a line of underscores is a blank to fill in (placeholders), not a separator.
_RULE_CHARS = "-—–=~*·.。…#+<>《》|/\\ "


def _is_rule_or_banner(text: str) -> bool:
    """A separator line ("--------") or a banner between runs of them ("------好文档------")."""
    inner = text.strip(_RULE_CHARS)
    if not inner:
        return True
    left = len(text) - len(text.lstrip("-—=~*"))
    right = len(text) - len(text.rstrip("-—=~*"))
    return left >= 3 and right >= 3


# --- titles -----------------------------------------------------------------------------

_COUNT_SUFFIX = re.compile(
    r"(?:(?<!\s)\s++)?[(（【\[]\s*+(?:优秀|精选|通用|最新|热门|实用|推荐|汇总|合集|必备|经典|范文|热门|完整版|大全|集锦)*"
    r"\s*[\d一二两三四五六七八九十]{1,3}\s*篇\s*(?:范文|全)?\s*[)）】\]]\s*$"
    r"|(?:优秀|精选|通用|汇总|合集)[\d一二两三四五六七八九十]{1,3}篇$"
)


# The same count inside a piece title: 'XX总结（精选3篇）篇1' -> 'XX总结篇1'.
_COUNT_INSIDE = re.compile(
    r"(?:(?<!\s)\s++)?[(（【\[]\s*+(?:优秀|精选|通用|最新|热门|实用|推荐|汇总|合集|必备|经典|范文|完整版|大全|集锦)*"
    r"\s*[\d一二两三四五六七八九十]{1,3}\s*篇\s*(?:范文|全)?\s*[)）】\]]"
)


def strip_count(title: str) -> str:
    """'XX总结(优秀5篇)' -> 'XX总结': the count is shown from the data, not stored."""
    return _COUNT_SUFFIX.sub("", title).strip()


# 文库 pages title a document by its file name: "XX总结.docx".
_FILE_SUFFIX = re.compile(r"\.(?:docx?|pdf|txt|wps|pptx?|xlsx?)$", re.I)


# Tags sites add to a title: "XX反思（完整版）", "XX计划【精选】", "XX总结(word可编辑)".
_TAG_WORDS = (
    r"(?:完整版|精选|最新版?|推荐|通用|可编辑|可修改|[Ww][Oo][Rr][Dd]版?|[Dd][Oo][Cc][Xx]?版?|原创|必备"
    r"|经典|优秀|热门|范文|免费|下载版|修订版|打印版|精品|全)"
)
_TITLE_TAG = re.compile(
    rf"[(（【\[]\s{{0,2}}{_TAG_WORDS}(?:[\s,，、+]{{0,2}}{_TAG_WORDS}){{0,3}}\s{{0,2}}[)）】\]]$"
)


def strip_title_noise(title: str) -> str:
    """'XX总结(优秀5篇)' / 'XX总结.docx' / 'XX反思（完整版）' -> 'XX总结'."""
    title = strip_count(_FILE_SUFFIX.sub("", title.strip())).strip()
    return _TITLE_TAG.sub("", title).strip() or title


# "XX总结(优秀5篇)-范文网": an unspaced hyphen splits only before a short tail named like a site.
SITE_NAME_TAIL = re.compile(
    r"(?<=\S)-(?=[^-\s]{1,16}(?:网|站|文库|范文|大全|社区|论坛|在线|平台|\.com|\.cn|\.net)$)"
)
TITLE_PARTS = re.compile(r"\s*(?:_|\||｜| - | — | – |-{2,})\s*")


def split_page_title(title: str) -> list[str]:
    """'<title>' parts: the page's own first, the site's name(s) after it."""
    return [p for p in TITLE_PARTS.split(SITE_NAME_TAIL.sub(" - ", title)) if p]


def clean_page_title(title: str) -> str:
    """'<title>XX总结(优秀5篇)_范文网</title>' -> 'XX总结'."""
    parts = split_page_title(clean_line(title))
    return strip_title_noise(parts[0]) if parts else ""


# --- piece markers ----------------------------------------------------------------------

_NUM = r"[一二三四五六七八九十]{1,3}|\d{1,2}"
_CORE = rf"(?:篇\s*(?P<a>{_NUM})|(?:范文|范例|例文)\s*(?P<b>{_NUM})|第\s*(?P<c>{_NUM})\s*篇)"
_OPEN, _CLOSE = "【[〖（(「《<", "】]〗）)」》>"
_MARK_START = re.compile(
    rf"^(?P<open>[{re.escape(_OPEN)}]?)\s*{_CORE}(?P<close>\s*[{re.escape(_CLOSE)}])?"
    r"(?P<sep>[\s:：、.．\-—]*)(?P<post>.*)$"
)
_MARK_END = re.compile(
    rf"^(?P<pre>.+?)\s*[{re.escape(_OPEN)}]?\s*{_CORE}\s*[{re.escape(_CLOSE)}]?\s*[:：]?$"
)
# "军训心得体会（一）", "军训心得体会（二）": a title line that ends with a bracketed number.
_MARK_PAREN_END = re.compile(rf"^(?P<pre>.+?)\s*[（(]\s*(?P<d>{_NUM})\s*[)）]$")
_HAS_CORE = re.compile(_CORE)
_BRACKETS = dict(zip(_OPEN, _CLOSE, strict=True))
_FAMILIES = (("pian", "a"), ("fanwen", "b"), ("di", "c"), ("paren", "d"))


@dataclass
class Marker:
    index: int  # position in the line list
    family: str  # "pian" (篇一), "fanwen" (范文一), "di" (第一篇), "paren" (XX（一）)
    number: int
    title: str  # the piece title the marker line carries ("" when it is only "篇一")
    stem: str = ""  # "XX总结" of "XX总结篇一": the article's own name


def match_marker(text: str, index: int = 0) -> Marker | None:
    """Recognise a line that starts a piece: 'XX总结篇一', '【篇一】', '范文1：题目', '第一篇',
    'XX心得（一）'. Whether it really does is decided by find_piece_markers (1, 2, 3…)."""
    # Also the bound that keeps _MARK_END cheap: its lazy stem and optional spaces backtrack
    # polynomially in the line's length.
    if len(text) > 60:
        return None
    inner = text
    if len(text) > 2 and _BRACKETS.get(text[0]) == text[-1]:
        # "【篇一：我的老师】" — the whole line is bracketed.
        inner = text[1:-1].strip()
    match = _MARK_START.match(inner)
    if match:
        post = match.group("post").strip()
        separated = bool(match.group("close") or match.group("sep"))
        if (not post or separated) and not _HAS_CORE.search(post) and len(post) <= 50:
            return _marker(match, index, post)
    for pattern in (_MARK_END, _MARK_PAREN_END):
        match = pattern.match(inner)
        if match and _is_title_stem(match.group("pre").strip()):
            return _marker(match, index, text, match.group("pre").strip())
    return None


def _is_title_stem(pre: str) -> bool:
    return bool(
        pre
        and len(pre) <= 50
        and pre[-1] not in "。，,；;！!？?、：:"
        and "。" not in pre
        and not _HAS_CORE.search(pre)
        and heading_marker(pre) is None
    )


def _marker(match: re.Match, index: int, title: str, stem: str = "") -> Marker | None:
    groups = match.re.groupindex
    for family, group in _FAMILIES:
        if group in groups and match.group(group):
            number = cn_number(match.group(group))
            if number is None or number == 0:
                return None
            return Marker(index, family, number, title, stem)
    return None


def find_piece_markers(lines: list[Line]) -> list[Marker]:
    """The longest run 1, 2, 3… of markers of one kind; a lone or out-of-order one is text."""
    by_family: dict[str, list[Marker]] = {}
    for index, line in enumerate(lines):
        if not index % 256:
            budget.check()
        marker = match_marker(line.text, index)
        if marker:
            by_family.setdefault(marker.family, []).append(marker)
    best: list[Marker] = []
    for candidates in by_family.values():
        chain: list[Marker] = []
        for marker in candidates:
            if marker.number == len(chain) + 1:
                chain.append(marker)
        if len(chain) > len(best) or (
            len(chain) == len(best) and chain and chain[0].index < best[0].index
        ):
            best = chain
    return best


# --- headings ---------------------------------------------------------------------------

_LEVELS = (
    ("h1", "cn", re.compile(r"^[一二三四五六七八九十]{1,3}\s*[、.．]")),
    ("h2", "paren-cn", re.compile(r"^[（(]\s*[一二三四五六七八九十]{1,3}\s*[)）]")),
    ("h3", "num", re.compile(r"^\d{1,2}\s*(?:[、．]|\.(?!\d))")),
    ("h3", "paren-num", re.compile(r"^[（(]\s*\d{1,2}\s*[)）]")),
    ("h3", "circled", re.compile(r"^[①-⑳]")),
    ("h3", "shi", re.compile(r"^[一二三四五六七八九十]{1,2}是")),
    ("h3", "di", re.compile(r"^第[一二三四五六七八九十]{1,2}\s*[,，、:：]")),
)
_HINT_LEVELS = {"h1", "h2", "h3"}
# A second Title-styled paragraph inside the text is a top-level heading.
_HINT_AS_LEVEL = {"h1": "h1", "h2": "h2", "h3": "h3", "title": "h1"}


def heading_marker(text: str) -> tuple[str, str] | None:
    """(level, marker type) for a line that starts with 一、 (一) 1、 （1） ① 一是 第一，."""
    for level, kind, pattern in _LEVELS:
        if pattern.match(text):
            return level, kind
    return None


def reads_as_heading(text: str) -> bool:
    """Short and not a full paragraph: one clause, no comma at the end."""
    if len(text) > 40:
        return False
    if text[-1] in "，,、":
        return False
    body = text.rstrip("。.;；!！?？:：")
    if any(ch in body for ch in "。;；!！?？"):
        return False
    ends_sentence = text[-1] in "。;；!！?？"
    return not ends_sentence or len(text) <= 30


def classify(lines: list[Line]) -> list[dict]:
    """Blocks for the lines of one piece: a marker line is a heading only if it reads like one
    and is not one item of a run of same-kind items (a list of sentences)."""
    markers = [heading_marker(line.text) for line in lines]
    blocks = []
    for i, line in enumerate(lines):
        text = line.text
        found = markers[i]
        if found:
            level, kind = found
            sibling = any(
                0 <= j < len(lines) and markers[j] is not None and markers[j][1] == kind
                for j in (i - 1, i + 1)
            )
            heading = reads_as_heading(text) and not (sibling and line.hint not in _HINT_LEVELS)
            blocks.append({"kind": level if heading else "p", "text": text})
        elif line.hint in _HINT_AS_LEVEL and len(text) <= 60:
            blocks.append({"kind": _HINT_AS_LEVEL[line.hint], "text": text})
        else:
            blocks.append({"kind": "p", "text": text})
    return blocks


# --- broken lines -----------------------------------------------------------------------


def join_fragments(lines: list[Line]) -> list[Line]:
    """Glue words the site split onto their own lines back into their paragraph:
    '…的积极参与,是' / '解决' / '创建难题的一大法宝。' -> one paragraph."""
    out: list[Line] = []
    # Glued parts are joined once at the end: `text +=` on a paragraph of 10^5 fragments
    # would copy the growing paragraph each time.
    parts: list[list[str]] = []
    sizes: list[int] = []
    gluing = False
    for line in lines:
        text = line.text
        prev = out[-1] if out else None
        open_end = (
            prev is not None
            and prev.hint is None
            and parts[-1][-1][-1] not in _SENTENCE_END + "：:"
        )
        fragment = len(text) <= 6 and line.hint is None and heading_marker(text) is None
        if (
            open_end
            and prev is not None
            and (
                (fragment and (gluing or sizes[-1] >= 15))
                or (gluing and line.hint is None and heading_marker(text) is None)
            )
        ):
            parts[-1].append(text)
            sizes[-1] += len(text)
            gluing = fragment
            continue
        gluing = False
        out.append(Line(line.text, line.hint))
        parts.append([line.text])
        sizes.append(len(line.text))
    for line, pieces in zip(out, parts, strict=True):
        if len(pieces) > 1:
            line.text = "".join(pieces)
    return out


# --- intro ------------------------------------------------------------------------------

_GENERIC_INTRO = re.compile(
    r"小编|本站|为大家|为你|给大家|供大家|供你|参考借鉴|仅供参考|欢迎(?:阅读|参考|借鉴)"
    r"|希望.{0,24}(?:帮助|有所帮助|喜欢|启发)|下面是|以下是|一起来看看"
)


# --- the whole article ------------------------------------------------------------------


def build_article(raw: RawDocument) -> ParsedArticle:
    crumbs = list(raw.crumbs)
    crumb_title = ""
    editor = raw.editor_name
    lines: list[Line] = []
    for number, line in enumerate(raw.lines):
        if not number % 256:
            budget.check()
        text = clean_line(line.text)
        if not text:
            continue
        if _CUT.search(text):
            # The paywall or a related-articles list: nothing after it is the article's.
            if lines:
                break
            continue
        crumb = parse_crumb(text)
        if crumb is not None:
            if len(crumb) >= 2 and not crumbs:
                crumbs = crumb[:-1]
            if crumb and not crumb_title and len(crumb) >= 2:
                crumb_title = crumb[-1]
            continue
        if not editor and (found := _EDITOR.search(text)) and len(text) <= 80:
            editor = found.group(1)
        # Credits glued to a paragraph go first, so the paragraph itself is judged alone.
        text = _CREDIT_SENTENCE.sub("", text).strip()
        if text and not is_chrome(text):
            lines.append(Line(text, line.hint))
            # No essay has this many paragraphs; storing them would outlast any time budget.
            if len(lines) > settings.FANWEN_IMPORT_MAX_PARAGRAPHS:
                limit = settings.FANWEN_IMPORT_MAX_PARAGRAPHS
                raise ImportRejected(f"段落过多：超过每篇 {limit} 段的上限，请拆分后再导入")

    lines = _drop_edge_chrome(lines)
    markers = find_piece_markers(lines)
    title = raw.title or _usable_crumb_title(crumb_title)
    if not title:
        title = next((line.text for line in lines if line.hint == "title"), "")
    if not title and lines and not (markers and markers[0].index == 0):
        first = lines[0].text
        # "亲爱的孩子们：" opens a letter; it names nothing.
        if (
            len(first) <= 60
            and first[-1] not in _SENTENCE_END + "：:，,"
            and heading_marker(first) is None
        ):
            title = first
    if not title and markers and markers[0].stem:
        # "XX总结篇一" names the article too.
        title = markers[0].stem
    title = strip_title_noise(clean_line(title or raw.fallback_title)) or raw.fallback_title
    if not title:
        raise ImportRejected("找不到标题")

    # The page repeats its title (with and without the count, as a file name) above the text;
    # short lines before that copy are the page's furniture ("精品文档就在这里").
    title_key = _SPACES.sub("", title)
    lines = _from_title_line(lines, title_key, markers)
    lines = _drop_excerpt(lines)
    markers = find_piece_markers(lines)
    marker_rows = {m.index for m in markers}
    kept = [
        (i, line)
        for i, line in enumerate(lines)
        if i in marker_rows
        or len(line.text) > len(title) + 40
        or _SPACES.sub("", strip_title_noise(line.text)) != title_key
    ]
    if markers:
        index_map = {old: new for new, (old, _) in enumerate(kept)}
        markers = [replace(m, index=index_map[m.index]) for m in markers]
    lines = [line for _, line in kept]

    intro_lines: list[Line] = []
    segments: list[tuple[str, list[Line]]] = []
    if len(markers) >= 2:
        intro_lines = lines[: markers[0].index]
        bounds = [m.index for m in markers] + [len(lines)]
        for marker, start, end in zip(markers, bounds, bounds[1:], strict=False):
            piece_title, body = _piece_title(marker, lines[start + 1 : end])
            if not piece_title and marker.family in ("fanwen", "di"):
                # A bare '范文一：' or '第一篇' is the piece's name on the source page.
                piece_title = lines[start].text.strip(" ：:【】[]〖〗")
            segments.append((piece_title, body))
    else:
        body = lines
        piece_title = ""
        if markers and markers[0].index == 0:
            piece_title, body = _piece_title(markers[0], lines[1:])
        if len(body) > 1 and _looks_generic_intro(body[0].text):
            intro_lines, body = body[:1], body[1:]
        segments.append((piece_title, body))

    pieces = []
    for piece_title, body in segments:
        budget.check()
        body = join_fragments(body)
        blocks = classify(body)
        if not blocks:
            continue
        piece = ParsedPiece(title=piece_title, blocks=blocks)
        budget.check()
        piece.placeholders = find_placeholders(piece.text)
        pieces.append(piece)
    if not pieces or not any(block["text"].strip() for piece in pieces for block in piece.blocks):
        raise ImportRejected("文件里没有正文")
    intro = "\n".join(line.text for line in join_fragments(intro_lines))
    return ParsedArticle(
        title=title[:200],
        pieces=pieces,
        source_format=raw.source_format,
        intro=intro,
        editor_name=editor[:40],
        category_path=[c[:50] for c in crumbs],
        site=raw.site[:200],
    )


def _from_title_line(lines: list[Line], title_key: str, markers: list[Marker]) -> list[Line]:
    """Lines from the title's own copy on, when it comes within the first few lines and what
    stands before it is short (a slogan, a site name), never an essay's paragraph."""
    limit = min(len(lines), 5, markers[0].index if markers else 5)
    for i in range(limit):
        if _SPACES.sub("", strip_title_noise(lines[i].text)) == title_key:
            before = lines[:i]
            if before and all(len(line.text) <= 30 for line in before):
                return lines[i:]
            break
    return lines


_EXCERPT_LABEL = re.compile(
    r"^(?:推荐阅读|导读|摘要|内容摘要|简介|内容简介|文章摘要|核心提示)\s*[:：]\s*"
)


def _drop_excerpt(lines: list[Line]) -> list[Line]:
    """A page's summary above the text is the text's own start cut short ("推荐阅读:七月初，我们
    …老人，"): it goes when the lines after it begin with the same words."""
    for i in range(min(len(lines) - 1, 3)):
        text = lines[i].text
        if text[-1] in _SENTENCE_END:
            continue
        core = _SPACES.sub("", _EXCERPT_LABEL.sub("", text)).rstrip("….，,、")
        if len(core) < 12:
            continue
        following = _SPACES.sub("", "".join(line.text for line in lines[i + 1 : i + 4]))
        if following.startswith(core):
            return lines[:i] + lines[i + 1 :]
    return lines


def _drop_edge_chrome(lines: list[Line]) -> list[Line]:
    """Without the furniture among the first and last EDGE_LINES lines (is_edge_chrome)."""
    count = len(lines)
    if not count:
        return lines
    return [
        line
        for i, line in enumerate(lines)
        if not (
            (i < EDGE_LINES or i >= count - EDGE_LINES)
            and line.hint is None
            and is_edge_chrome(line.text)
        )
    ]


def _usable_crumb_title(text: str) -> str:
    # Sites shorten long titles in the breadcrumb: "窗口单位创建文明…" is no title.
    if not text or text.endswith(("…", "...", "..")):
        return ""
    return text


def _piece_title(marker: Marker, body: list[Line]) -> tuple[str, list[Line]]:
    """A bare '【篇一】' takes the short line after it as its title, when there is one."""
    if marker.title or len(body) < 2:
        return _COUNT_INSIDE.sub("", marker.title).strip(), body
    first = body[0].text
    if (
        len(first) <= 30
        and first[-1] not in _SENTENCE_END + "：:，,、"
        and heading_marker(first) is None
        # The next line is longer (a paragraph) or a heading of the piece ("一、主要工作").
        and (len(body[1].text) > len(first) or heading_marker(body[1].text) is not None)
    ):
        return first, body[1:]
    return "", body


def _looks_generic_intro(text: str) -> bool:
    return len(text) <= 300 and bool(_GENERIC_INTRO.search(text))
