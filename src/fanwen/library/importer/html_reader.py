"""Saved web pages to lines: find the article among the site's chrome, then flatten it.

The title, breadcrumb and 小编 are read from the whole page (they usually sit above the
text); the text comes from the main content container: the element whose paragraphs hold
the most Chinese text (readability-style scoring, helped by ids/classes like "content").

The title is the page's own: the article's <h1> (not a logo, not the site's name), else a
heading of the text that matches <title>, else <title> minus the site name. A breadcrumb's
last item is the title only when it matches one of them; a trail that ends at a category
("首页 > 范文 > 入党申请书") adds that category to category_path instead.
"""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

from fanwen.library.importer import ImportRejected, budget
from fanwen.library.importer.encoding import decode_bytes
from fanwen.library.importer.structure import (
    _EDITOR,
    _NOT_TITLES,
    Line,
    RawDocument,
    clean_line,
    clean_page_title,
    match_marker,
    parse_crumb,
    split_page_title,
    strip_title_noise,
)

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_ENTITY_DECL = re.compile(r"<!ENTITY|<!DOCTYPE[^>\[]*\[", re.I)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# A line break in the HTML source between two Chinese characters is layout, not a space.
_SOURCE_BREAK = re.compile(
    r"(?<=[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef])[ \t\r]*\n\s*"
    r"(?=[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef])"
)
_WS = re.compile(r"\s+")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_DROP_TAGS = (
    "script", "style", "noscript", "iframe", "nav", "header", "footer", "aside", "form",
    "button", "select", "textarea", "svg", "template", "object", "embed", "input", "canvas",
    "video", "audio", "map", "dialog",
)  # fmt: skip
_BLOCK_TAGS = {
    "p", "div", "section", "article", "main", "li", "ul", "ol", "dl", "dt", "dd", "tr", "td",
    "th", "table", "tbody", "thead", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6",
    "center", "hr", "address", "figure", "figcaption", "body", "html",
}  # fmt: skip
_HEADING_HINTS = {"h1": "h1", "h2": "h1", "h3": "h2", "h4": "h3", "h5": "h3", "h6": "h3"}
_PARAGRAPH_TAGS = {"p", "pre", "blockquote", "li", "td", "h2", "h3", "h4", "h5", "h6", "dd"}
_CONTAINER_TAGS = {"div", "section", "article", "main", "td", "font", "center", "body"}
_GOOD = {
    "content", "article", "main", "text", "arc", "arccontent", "arc_content", "post", "entry",
    "detail", "details", "neirong", "wenzhang", "zhengwen", "body", "con", "contents", "txt",
    "read", "story", "doc", "fanwen", "conent", "show", "showcontent",
}  # fmt: skip
_BAD = {
    "share", "related", "relate", "recommend", "tags", "pagination", "pager", "comment",
    "comments", "ad", "ads", "advert", "adv", "banner", "footer", "foot", "nav", "navbar",
    "menu", "sidebar", "side", "aside", "breadcrumb", "crumb", "crumbs", "position",
    "location", "weizhi", "download", "xiazai", "pay", "paywall", "vip", "login", "copyright",
    "toolbar", "prenext", "sitemap", "friendlink", "links", "qrcode", "erweima", "fenxiang",
    "tuijian", "xiangguan", "hot", "hotlist", "rank", "header", "search", "logo", "hidden",
    "popup", "modal",
}  # fmt: skip
# Inside the chosen container these are chrome too (the meta line, "more" links).
_BAD_INSIDE = _BAD | {"info", "meta", "list", "author", "time", "date", "source"}
_CRUMB_TOKENS = {
    "breadcrumb",
    "crumb",
    "crumbs",
    "position",
    "location",
    "weizhi",
    "dqwz",
    "place",
    "path",
    "mianbao",
}
_TOKEN_SPLIT = re.compile(r"[\s_\-]+")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_CRUMB_TEXT = (
    "当前位置",
    "您的位置",
    "你的位置",
    "您现在的位置",
    "你现在的位置",
    "您当前的位置",
    "所在位置",
)


def _paced(items):
    """The items, checking the file's time budget every 256 of them."""
    for count, item in enumerate(items):
        if not count & 255:
            budget.check()
        yield item


def _content_like(tokens: set[str]) -> bool:
    """ "articalContent", "post-content", "neirong2": a name built on a content word."""
    return any(word in token for token in tokens for word in _CONTENT_WORDS)


_CONTENT_WORDS = ("content", "artic", "zhengwen", "neirong", "entry")


def _tokens(el) -> set[str]:
    names = f"{el.get('class') or ''} {el.get('id') or ''}".lower()
    return {t for t in _TOKEN_SPLIT.split(names) if t}


def _cjk_count(text: str) -> int:
    return len(_CJK.findall(text))


def read_html(data: bytes) -> RawDocument:
    head = data[:4096]
    declared = _META_CHARSET.search(head)
    text = decode_bytes(data, declared.group(1).decode("ascii") if declared else None)
    if _ENTITY_DECL.search(text[:200000]):
        raise ImportRejected("网页含有 DOCTYPE 内部实体声明（可能是 XXE 攻击），已拒绝")
    # lxml refuses control characters when the tree is edited (drop_tree joins text).
    text = _CONTROL_CHARS.sub("", _XML_DECL.sub("", text, count=1))
    if not text.strip():
        raise ImportRejected("文件里没有正文")
    parser = lxml.html.HTMLParser(
        remove_comments=True, remove_pis=True, no_network=True, recover=True, huge_tree=False
    )
    try:
        root = lxml.html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError):
        raise ImportRejected("无法解析网页（HTML 为空或已损坏）") from None

    raw_title = clean_line(" ".join(root.xpath("//title//text()")))
    page_title = clean_page_title(raw_title)
    if not page_title:
        # 公众号 pages often leave <title> empty and name the article in og:title.
        og_title = root.xpath("//meta[@property='og:title']/@content")[:1]
        page_title = clean_page_title(og_title[0]) if og_title else ""
    site = _site_key(root, raw_title)
    site_names = _site_names(root, raw_title)
    crumbs, crumb_title = _breadcrumb(root)
    h1s = [
        clean_line(h.text_content())
        for h in _paced(root.iter("h1"))
        if not _is_logo(h) and not _is_site_name(clean_line(h.text_content()), site_names)
    ]
    body = root.find("body")
    if body is None:
        body = root
    for el in _paced(list(body.iter("script", "style", "noscript", "template"))):
        if el.getparent() is not None:
            el.drop_tree()
    # The meta line often sits in a <header> that is dropped below.
    editor_match = _EDITOR.search(body.text_content())
    for el in _paced(list(body.iter(*_DROP_TAGS))):
        if el.getparent() is not None:
            el.drop_tree()
    for el in _paced(list(body.iter())):
        if not isinstance(el.tag, str) or el.getparent() is None:
            continue
        hidden = (
            _HIDDEN_STYLE.search(el.get("style") or "")
            or "hidden" in (el.get("class") or "").split()
        )
        # Copy-protection sites hide short junk inside the text; a long hidden block is the
        # rest of the article behind a "展开全文" button, and stays.
        if hidden and len(el.text_content().strip()) < 40:
            el.drop_tree()
    container = _find_container(body)
    for el in _paced(list(container.iter())):
        if el is container or not isinstance(el.tag, str) or el.getparent() is None:
            continue
        tokens = _tokens(el)
        if (
            tokens & _BAD_INSIDE
            and not tokens & _GOOD
            and not _content_like(tokens)
            and _cjk_count(el.text_content()) < 400
        ):
            el.drop_tree()
    if not h1s:
        # No <h1>: the largest heading of the text area that names the page (<h2>, <h3>).
        h1s = _heading_titles(container, page_title, site_names)
    lines = _lines(container)
    title, crumb_is_category = _choose_title(crumb_title, h1s, page_title)
    if crumb_is_category:
        # "首页 > 范文 > 入党申请书" ends at the category: the page's own title is elsewhere.
        crumbs = [*crumbs, crumb_title]
    return RawDocument(
        lines=lines,
        source_format="html",
        title=title,
        crumbs=crumbs,
        site=site,
        editor_name=editor_match.group(1) if editor_match else "",
    )


_SITE_ROOT_HREF = re.compile(r"^(?:(?:https?:)?//[^/]+)?/?(?:index\.\w+)?$", re.I)


def _breadcrumb(root) -> tuple[list[str], str]:
    """(category names, article title) from the page's "当前位置" trail, if it has one."""
    element = None
    for el in _paced(root.iter()):
        if not isinstance(el.tag, str) or el.tag in (
            "html",
            "body",
            "head",
            "script",
            "style",
            "title",
        ):
            continue
        if (el.text or "").strip().startswith(_CRUMB_TEXT):
            element = el
            # "<span>当前位置：</span><a>首页</a>…": the trail is the parent's.
            while element.getparent() is not None and len(list(element.iter("a"))) < 2:
                parent = element.getparent()
                # Never up to the page itself, nor into a block that also holds the article.
                if parent.tag in ("body", "html") or len(parent.text_content()) > 300:
                    break
                if any(node is not parent for node in parent.iter("h1", "h2", "h3", "h4", "p")):
                    break
                element = parent
            break
        if _tokens(el) & _CRUMB_TOKENS and _looks_like_trail(el):
            element = el
            break
    if element is None:
        element = _trail_by_shape(root)
    if element is None:
        return [], ""
    anchors = {clean_line(a.text_content()) for a in element.iter("a")}
    # The trail's first link is often the site's own name ("某某文库网"), not a category.
    home_links = {
        clean_line(a.text_content())
        for a in element.iter("a")
        if a.get("href") and _SITE_ROOT_HREF.match(a.get("href").strip())
    }
    joined = " > ".join(t.strip() for t in element.itertext() if t.strip())
    if not joined.startswith(_CRUMB_TEXT):
        joined = "当前位置: " + joined
    items = parse_crumb(joined) or []
    # "首页-初二作文-正文": a "-" trail splits into items that keep the dashes.
    items = [clean_line(item).strip("-–—·:： ") for item in items]
    items = [i for i in items if i and i not in home_links and i not in _NOT_TITLES]
    if items and items[-1] not in anchors:
        return items[:-1], items[-1]
    return items, ""


_TRAIL_SEPARATORS = set(">›»→＞/|·\u00a0 \t\r\n")


def _trail_by_shape(root):
    """A trail with no telling class or text: a short element of links separated only by
    '›' / '>' / '»', whose first link goes to the site's home page. Looked for around each
    home link, with bounded work per candidate (a page of deeply nested links stays linear)."""
    seen: set = set()
    for anchor in _paced(root.iter("a")):
        if not _SITE_ROOT_HREF.match((anchor.get("href") or "").strip()):
            continue
        parent = anchor.getparent()
        for candidate in (parent, parent.getparent() if parent is not None else None):
            if candidate is None or candidate in seen or candidate.tag in ("body", "html"):
                continue
            seen.add(candidate)
            if _is_trail(candidate, anchor):
                return candidate
    return None


def _bounded_text(el, limit: int = 300) -> str | None:
    """The element's text, or None when it runs past `limit` characters or 60 nodes."""
    parts, size = [], 0
    for count, part in enumerate(el.itertext()):
        size += len(part)
        if size > limit or count > 60:
            return None
        parts.append(part)
    return "".join(parts)


def _is_trail(el, home) -> bool:
    children = [child for child in el if isinstance(child.tag, str)]
    if len(children) > 20:
        return False
    links = [c for c in children if c.tag == "a"]
    # At least two links, the home link first.
    if len(links) < 2 or links[0] is not home:
        return False
    text = _bounded_text(el, 200)
    if text is None or not any(sep in text for sep in "›»>＞→"):
        return False
    # Between the links only separators: their tails, and any non-link child (<em>›</em>).
    for child in children:
        if child.tag == "a":
            continue
        inner = _bounded_text(child, 20)
        if inner is None or set(inner) - _TRAIL_SEPARATORS:
            return False
    return all(set(link.tail or "") <= _TRAIL_SEPARATORS for link in links[:-1])


def _is_logo(h1) -> bool:
    """A site logo is often an <h1> too: a linked one, or one in the page's header or nav."""
    if h1.find(".//a") is not None or h1.find(".//img") is not None:
        return True
    for ancestor in h1.iterancestors():
        if ancestor.tag in ("a", "nav") or _tokens(ancestor) & {
            "logo",
            "nav",
            "navbar",
            "masthead",
        }:
            return True
        # <header> of the page (not of an <article>).
        if (
            ancestor.tag == "header"
            and ancestor.getparent() is not None
            and ancestor.getparent().tag == "body"
        ):
            return True
    return False


def _looks_like_trail(el) -> bool:
    text = el.text_content()
    return len(text) < 300 and (
        len(list(el.iter("a"))) >= 2 or bool(re.search(r">|»|›|→|＞", text))
    )


def _same_title(a: str, b: str) -> bool:
    """Equal, or one holds the other: a breadcrumb or <title> may shorten or lengthen the h1."""
    a, b = _title_key(a), _title_key(b)
    return bool(a and b) and (a == b or (min(len(a), len(b)) >= 2 and (a in b or b in a)))


def _title_key(text: str) -> str:
    return _WS.sub("", strip_title_noise(text)).rstrip("….")


# An <h1> that names the page type, not the article.
_GENERIC_HEADINGS = _NOT_TITLES | {
    "文章详情",
    "内容详情",
    "范文详情",
    "正文内容",
    "文档详情",
    "文章正文",
}


def _echoes(crumb: str, title: str) -> bool:
    """The breadcrumb's last item repeats the title: equal, holding it, or a shortened start
    ("教师个人年度工作…"). A shorter word inside the title ("入党申请书" in "大学生入党申请书") is
    the category the article sits in."""
    short = crumb.endswith(("…", "...", ".."))
    crumb, title = _title_key(crumb), _title_key(title)
    if not crumb or not title:
        return False
    if crumb == title or title in crumb:
        return True
    return title.startswith(crumb) and (short or len(crumb) >= 8)


def _choose_title(crumb_title: str, h1s: list[str], page_title: str) -> tuple[str, bool]:
    """(title, whether the breadcrumb's last item is a category rather than the title).

    The page's own title element wins: the article's <h1> (the one that matches <title> when
    there are several), else <title> minus the site name. The breadcrumb's last item is the
    title only when it matches one of them, or when the page has nothing else."""
    usable = [
        strip_title_noise(h) for h in h1s if _cjk_count(h) >= 2 and h not in _GENERIC_HEADINGS
    ]
    own = ""
    if page_title:
        own = next((h for h in usable if _same_title(h, page_title)), "")
    if not own and usable:
        own = usable[0]
    if not own:
        own = strip_title_noise(page_title)
    crumb = strip_title_noise(crumb_title)
    shortened = crumb_title.endswith(("…", "..."))
    if crumb and own:
        if _echoes(crumb, own) or (page_title and _echoes(crumb, page_title)):
            # The breadcrumb names the article; a full one is kept, a shortened one is not.
            return own, False
        return own, not shortened and _cjk_count(crumb) >= 1
    if own:
        return own, False
    if crumb and _cjk_count(crumb) >= 2:
        return crumb.rstrip("….").strip(), False
    return "", False


_SITE_HOST = re.compile(r"^(?:https?:)?//(?:www\.|m\.|wap\.)?([^/:?#]+)", re.I)


def _site_key(root, raw_title: str) -> str:
    """Which site a page comes from: canonical / og:url host, else the <title>'s last part."""
    for xpath in (
        "//link[@rel='canonical']/@href",
        "//meta[@property='og:url']/@content",
        "//meta[@property='og:site_name']/@content",
    ):
        for value in root.xpath(xpath)[:1]:
            match = _SITE_HOST.match(value.strip())
            if match:
                return match.group(1).lower()
            if value.strip() and "/" not in value:
                return value.strip()
    parts = split_page_title(raw_title)
    return parts[-1] if len(parts) > 1 else ""


def _site_names(root, raw_title: str) -> set[str]:
    """The site's own name(s): <title> parts after the first, og:site_name."""
    parts = split_page_title(raw_title)
    names = {_WS.sub("", p) for p in parts[1:]}
    names |= {_WS.sub("", v) for v in root.xpath("//meta[@property='og:site_name']/@content")[:1]}
    # "某某网手机版" names the same site as "某某网".
    names |= {n.removesuffix("手机版").removesuffix("移动版") for n in names}
    return {n for n in names if n}


def _is_site_name(text: str, names: set[str]) -> bool:
    return _WS.sub("", text) in names


def _heading_titles(container, page_title: str, site_names: set[str]) -> list[str]:
    """<h2>/<h3> texts that could title the page, the one matching <title> first."""
    found = []
    for tag in ("h2", "h3"):
        for el in list(container.iter(tag))[:20]:
            text = clean_line(_bounded_text(el, 200) or "")
            if text and len(text) <= 60 and not _is_site_name(text, site_names):
                found.append(text)
        if found:
            break
    matching = [t for t in found if page_title and _same_title(t, page_title)]
    return matching[:1]


def _direct_text(el) -> tuple[str, int]:
    """Text of `el` outside nested blocks, and how many of its Chinese characters are links."""
    parts = [el.text or ""]
    link = 0
    for child in el:
        if isinstance(child.tag, str) and child.tag not in _BLOCK_TAGS:
            inner = child.text_content()
            parts.append(inner)
            if child.tag == "a" or child.find(".//a") is not None:
                link += _cjk_count(inner)
        parts.append(child.tail or "")
    return "".join(parts), link


def _find_container(body):
    scores: dict = {}
    good: dict = {}
    for el in _paced(body.iter()):
        if not isinstance(el.tag, str):
            continue
        tag = el.tag
        if tag not in _PARAGRAPH_TAGS and tag not in _CONTAINER_TAGS:
            continue
        text, link = _direct_text(el)
        count = _cjk_count(text)
        if count < 8 or link > count * 0.5:
            continue
        # Sentences, not link lists or menus: reward punctuation a little, as readability does.
        score = count + 3 * (text.count("，") + text.count(",") + text.count("。"))
        # Text straight inside a <div>/<td> (lines split by <br>) makes that element the
        # holder; a <p>'s text counts for the element around it.
        holder = el if tag in _CONTAINER_TAGS else el.getparent()
        if holder is None:
            continue
        scores[holder] = scores.get(holder, 0) + score
        parent = holder.getparent()
        if parent is not None:
            scores[parent] = scores.get(parent, 0) + score / 2
        node = holder
        while node is not None:
            good[node] = good.get(node, 0) + count
            node = node.getparent()
    if not scores:
        return body
    best, best_score = body, 0.0
    for el, score in scores.items():
        tokens = _tokens(el)
        if tokens & _GOOD or _content_like(tokens):
            score *= 1.3
        elif tokens & _BAD:
            score *= 0.3
        if score > best_score:
            best, best_score = el, score
    # Pieces wrapped one per <div>: climb while the parent holds clearly more article text.
    node = best
    while node is not body:
        parent = node.getparent()
        if parent is None or parent is body or _tokens(parent) & _BAD - _GOOD:
            break
        if good.get(parent, 0) < 1.3 * good.get(node, 0):
            break
        node = parent
    return node


def _lines(container) -> list[Line]:
    """Block elements and <br> end lines; <h1>-<h6> give a heading hint; lines that are all
    link text (related-article lists, tag clouds) are dropped unless they start a piece."""
    lines: list[Line] = []
    buffer: list[str] = []
    hints: list[str | None] = [None]
    links = [0, 0]  # [depth inside <a>, characters of link text in the buffer]

    def add(text: str) -> None:
        buffer.append(text)
        if links[0]:
            links[1] += len(text.strip())

    def flush() -> None:
        text = _WS.sub(" ", _SOURCE_BREAK.sub("", "".join(buffer))).strip()
        link_chars, links[1] = links[1], 0
        buffer.clear()
        if not text:
            return
        # Separators between links ("作文吧 | 初二作文") count with the links.
        plain = len(text) - sum(text.count(sep) for sep in " |·/-—>›»")
        if link_chars >= 0.8 * plain and hints[-1] is None and not match_marker(text):
            return
        lines.append(Line(text, hints[-1]))

    for event, el in _paced(etree.iterwalk(container, events=("start", "end"))):
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "start":
            if tag in _BLOCK_TAGS or tag == "br":
                flush()
            if tag in _HEADING_HINTS:
                hints.append(_HEADING_HINTS[tag])
            if tag == "a":
                links[0] += 1
            if el.text and tag != "br":
                if tag == "pre":
                    for part in el.text.split("\n"):
                        add(part)
                        flush()
                else:
                    add(el.text)
        else:
            if tag in _BLOCK_TAGS:
                flush()
            if tag in _HEADING_HINTS:
                hints.pop()
            if tag == "a":
                links[0] -= 1
            if el is not container and el.tail:
                add(el.tail)
    flush()
    return lines
