"""The DOCX download, laid out like a Chinese official document (GB/T 9704-2012).

A4; margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm (a 156 x 225 mm text area);
title 二号 方正小标宋简体 centred, an empty line, body 三号 仿宋_GB2312 with a two-character
first-line indent at an exact 29 pt line (22 lines to the page, as the standard asks);
headings 一、 in 黑体, (一) in 楷体_GB2312, 1. in bold 仿宋_GB2312; page numbers "— 1 —" in
四号 宋体, odd pages right, even pages left. The visible text is exactly
`exports.text.article_text`.

Most PCs and Macs lack 仿宋_GB2312, 楷体_GB2312 and 方正小标宋简体, so the font table names, for
each font, the fonts to try in its place (w:altName, a comma-separated list by ECMA-376
§17.8.3.1: Windows' 仿宋/楷体/宋体, Office's and macOS' 华文 fonts, macOS' -简 fonts, then the free
Noto/思源 CJK families), plus what Word matches a substitute on when none is there: PANOSE,
the GB2312 character set, the generic family (roman = serif, swiss = sans) and the code-page
signature. LibreOffice reads none of that (its DOCX import skips w:altName, w:panose1 and
w:sig): on Linux it asks fontconfig for the run's own font name in the run's language, which
answers with a CJK font only for a Chinese language. The ideographs are in the Asian font with
the Asian language zh-CN; but LibreOffice sets some Chinese punctuation (· always; quotes,
dashes and ellipses after a digit or Latin letter) and the footer's "— 1 —" in the Western
font, so those are zh-CN in the Western language too. The rest of the Western text stays
en-US: in Chinese, LibreOffice breaks English words anywhere.

With an order, the buyer mark goes only where nothing renders, in four independent places so
that removing one (say the properties, the one Word shows) leaves the others:
the custom property DocumentId, a document variable (settings.xml w:docVars, which no Word
dialog shows), the revision session ids (w:rsids and each paragraph's w:rsidR/w:rsidRDefault,
which Word keeps on a resave) and a hidden run (w:vanish) at the start of each body paragraph
holding the zero-width mark, so paragraphs pasted elsewhere still carry it.
"""

from __future__ import annotations

import functools
import io
import re
import zipfile
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

import docx
from django.conf import settings
from django.utils import timezone
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from lxml import etree

from fanwen.exports.text import Line, article_lines, fill_lines
from fanwen.library.importer import ImportRejected, budget
from fanwen.library.importer.docx_reader import safe_docx_package
from fanwen.library.models import Article
from fanwen.protection import mark as buyer_mark

FONT_TITLE = "方正小标宋简体"
FONT_BODY = "仿宋_GB2312"
FONT_H1 = "黑体"
FONT_H2 = "楷体_GB2312"
FONT_PAGE_NUMBER = "宋体"


@dataclass(frozen=True)
class FontFallback:
    """A font-table entry: what an application lacking the font should use instead."""

    names: tuple[str, ...]  # tried in order (w:altName)
    family: str  # the generic class, roman (serif) or swiss (sans)
    pitch: str
    panose: str  # the font's own (小标宋's calls it hand-written, so 宋体's instead)
    usb: tuple[str, str, str, str]  # Unicode ranges the font covers (w:sig)
    csb: tuple[str, str]  # code pages; bit 18 of the first is GB2312


# The GB2312 fonts' own signature: CJK ranges, code page 936.
_GB2312_USB = ("00000001", "080E0000", "00000000", "00000000")
_GB2312_CSB = ("00040000", "00000000")
_SONG = ("宋体", "SimSun", "华文宋体", "STSong", "宋体-简", "Songti SC")
_FREE_SERIF = ("Noto Serif CJK SC", "思源宋体", "Source Han Serif SC")
# Windows' names first (Word and WPS), then Office's and macOS' 华文 fonts, macOS' own, free ones.
FONT_FALLBACKS = {
    FONT_TITLE: FontFallback(
        ("方正小标宋_GBK", "华文中宋", "STZhongsong", *_SONG, *_FREE_SERIF),
        "roman",
        "variable",
        "02010600030101010101",
        _GB2312_USB,
        _GB2312_CSB,
    ),
    FONT_BODY: FontFallback(
        ("仿宋", "FangSong", "华文仿宋", "STFangsong", *_FREE_SERIF),
        "roman",
        "fixed",
        "02010609030101010101",
        _GB2312_USB,
        _GB2312_CSB,
    ),
    FONT_H2: FontFallback(
        (
            "楷体",
            "KaiTi",
            "华文楷体",
            "STKaiti",
            "楷体-简",
            "Kaiti SC",
            "AR PL UKai CN",
            *_FREE_SERIF,
        ),
        "roman",
        "fixed",
        "02010609030101010101",
        _GB2312_USB,
        _GB2312_CSB,
    ),
    FONT_H1: FontFallback(
        ("SimHei", "华文黑体", "STHeiti", "黑体-简", "Heiti SC", "Noto Sans CJK SC", "思源黑体"),
        "swiss",
        "fixed",
        "02010609060101010101",
        ("800002BF", "38CF7CFA", "00000016", "00000000"),
        ("00040001", "00000000"),
    ),
    FONT_PAGE_NUMBER: FontFallback(
        _SONG[1:] + _FREE_SERIF,
        "roman",
        "variable",
        "02010600030101010101",
        ("00000003", "288F0000", "00000016", "00000000"),
        ("00040001", "00000000"),
    ),
}
# Chinese punctuation Unicode shares with Western text (GB/T 15834's quotes, dashes, ellipsis
# and 间隔号): Word sets it in the Asian font (w:hint), LibreOffice at times in the Western one.
_SHARED_PUNCTUATION = re.compile("([·‘’“”—―…]+)")
# Western language zh-CN: LibreOffice's fontconfig lookup then answers with a CJK font.
_CHINESE_WESTERN = '<w:lang w:val="zh-CN"/>'
TITLE_SIZE = Pt(22)  # 二号
PIECE_SIZE = Pt(18)  # 小二
BODY_SIZE = Pt(16)  # 三号
PAGE_NUMBER_SIZE = Pt(14)  # 四号
# 225 mm of text area / 22 lines.
LINE_PITCH = Pt(29)
TITLE_LINE_PITCH = Pt(36)

# Line kind of exports.text -> (style id, the style's name in Word's style list).
STYLES = {
    "title": ("FwTitle", "公文标题"),
    "piece": ("FwPiece", "篇目标题"),
    "h1": ("FwHeading1", "一级标题"),
    "h2": ("FwHeading2", "二级标题"),
    "h3": ("FwHeading3", "三级标题"),
    "p": ("Normal", "Normal"),
    "blank": ("Normal", "Normal"),
}
STYLE_IDS = {kind: style_id for kind, (style_id, _name) in STYLES.items()}
# Styles the document keeps from python-docx's template; its ~150 others only slow parsing.
_KEPT_STYLES = {"Normal", "DefaultParagraphFont", "TableNormal", "NoList", "Footer", "Header"}
_CUSTOM_PROPERTIES_URI = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
_VT_URI = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
# The format id every Office custom property carries.
_CUSTOM_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"
# Revision session id attributes a paragraph or run may carry.
_RSID_ATTRIBUTES = tuple(
    qn(f"w:{name}") for name in ("rsidR", "rsidRDefault", "rsidP", "rsidRPr", "rsidDel", "rsidTr")
)
# Enough for any document a person edited; a pasted-together one may hold more (not tried).
_MAX_RSIDS = 200


def _set_fonts(rpr, name: str) -> None:
    """One font for Latin, CJK and complex script; theme fonts would override it, so they go."""
    fonts = rpr.get_or_add_rFonts()
    for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        fonts.attrib.pop(qn(f"w:{attr}"), None)
    for attr in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts.set(qn(f"w:{attr}"), name)
    fonts.set(qn("w:hint"), "eastAsia")


def _set_first_line_indent(paragraph_format, chars: int, size: Pt) -> None:
    # firstLineChars is what Word and WPS honour (it follows the font size); firstLine is the fallback.
    paragraph_format.first_line_indent = Pt(size.pt * chars)
    ind = paragraph_format._element.get_or_add_pPr().get_or_add_ind()
    ind.set(qn("w:firstLineChars"), str(chars * 100))


def _set_outline_level(style, level: int) -> None:
    ppr = style.element.get_or_add_pPr()
    outline = OxmlElement("w:outlineLvl")
    outline.set(qn("w:val"), str(level))
    ppr.append(outline)


def _paragraph_style(
    document,
    kind: str,
    *,
    font: str,
    size: Pt,
    bold: bool = False,
    centred: bool = False,
    line: Pt = LINE_PITCH,
    outline: int | None = None,
):
    styles = document.styles
    style_id, name = STYLES[kind]
    style = styles[name] if name == "Normal" else styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    if name != "Normal":
        style.style_id = style_id
        style.base_style = styles["Normal"]
        style.next_paragraph_style = styles["Normal"]
        style.quick_style = True
    style.font.size = size
    style.font.bold = bold
    _set_fonts(style.element.get_or_add_rPr(), font)
    fmt = style.paragraph_format
    fmt.alignment = WD_ALIGN_PARAGRAPH.CENTER if centred else WD_ALIGN_PARAGRAPH.JUSTIFY
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = line
    fmt.widow_control = True
    _set_first_line_indent(fmt, 0 if centred else 2, size)
    if outline is not None:
        fmt.keep_with_next = True
        _set_outline_level(style, outline)
    return style


def _set_defaults(document) -> None:
    """Document defaults: 仿宋 三号, Chinese language, no spacing after paragraphs."""
    styles_element = document.styles.element
    rpr = styles_element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_fonts(rpr, FONT_BODY)
    for tag in ("w:sz", "w:szCs"):
        rpr.find(qn(tag)).set(qn("w:val"), str(int(BODY_SIZE.pt * 2)))
    lang = rpr.find(qn("w:lang"))
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    spacing = styles_element.find(qn("w:docDefaults")).find(qn("w:pPrDefault")).find(qn("w:pPr"))
    spacing = spacing.find(qn("w:spacing"))
    spacing.attrib.clear()
    spacing.set(qn("w:after"), "0")
    for style in list(styles_element.findall(qn("w:style"))):
        if style.get(qn("w:styleId")) not in _KEPT_STYLES:
            styles_element.remove(style)
    for style_id in ("Footer", "Header"):
        # Their linked character styles were pruned with the rest.
        link = styles_element.find(f"{qn('w:style')}[@{qn('w:styleId')}='{style_id}']")
        for child in link.findall(qn("w:link")):
            link.remove(child)
    # The session ids of the document python-docx's template was saved from: not ours.
    for rsids in document.settings.element.findall(qn("w:rsids")):
        document.settings.element.remove(rsids)
    for element in document.element.body.iter():
        for attribute in _RSID_ATTRIBUTES:
            element.attrib.pop(attribute, None)
    theme_lang = document.settings.element.find(qn("w:themeFontLang"))
    if theme_lang is not None:
        theme_lang.set(qn("w:eastAsia"), "zh-CN")


def _add_styles(document) -> None:
    _paragraph_style(document, "p", font=FONT_BODY, size=BODY_SIZE)
    _paragraph_style(
        document,
        "title",
        font=FONT_TITLE,
        size=TITLE_SIZE,
        centred=True,
        line=TITLE_LINE_PITCH,
        outline=0,
    )
    _paragraph_style(
        document,
        "piece",
        font=FONT_TITLE,
        size=PIECE_SIZE,
        centred=True,
        line=TITLE_LINE_PITCH,
        outline=1,
    )
    _paragraph_style(document, "h1", font=FONT_H1, size=BODY_SIZE, outline=2)
    _paragraph_style(document, "h2", font=FONT_H2, size=BODY_SIZE, outline=3)
    _paragraph_style(document, "h3", font=FONT_BODY, size=BODY_SIZE, bold=True, outline=4)
    footer = document.styles["Footer"]
    footer.font.size = PAGE_NUMBER_SIZE
    _set_fonts(footer.element.get_or_add_rPr(), FONT_PAGE_NUMBER)
    fmt = footer.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(16)
    _set_first_line_indent(fmt, 0, PAGE_NUMBER_SIZE)
    # "— 1 —" has no letters: Chinese throughout, so its dashes are never a Latin font's.
    footer.element.get_or_add_rPr().append(parse_xml(f'<w:lang {nsdecls("w")} w:val="zh-CN"/>'))


def _set_page(document) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width = Mm(210)
    section.page_height = Mm(297)
    section.top_margin = Mm(37)
    section.bottom_margin = Mm(35)
    section.left_margin = Mm(28)
    section.right_margin = Mm(26)
    section.header_distance = Mm(15)
    # The page number line then sits about 7 mm under the text area.
    section.footer_distance = Mm(22)


def _page_number_paragraph(paragraph: Paragraph, *, odd: bool) -> None:
    """ "— 7 —": right with one character of room on odd pages, left on even ones."""
    paragraph.style = "Footer"
    fmt = paragraph.paragraph_format
    fmt.alignment = WD_ALIGN_PARAGRAPH.RIGHT if odd else WD_ALIGN_PARAGRAPH.LEFT
    if odd:
        fmt.right_indent = PAGE_NUMBER_SIZE
    else:
        fmt.left_indent = PAGE_NUMBER_SIZE
    paragraph.add_run("— ")
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), " PAGE ")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)
    paragraph.add_run(" —")


def _add_page_numbers(document) -> None:
    document.settings.odd_and_even_pages_header_footer = True
    section = document.sections[0]
    _page_number_paragraph(section.footer.paragraphs[0], odd=True)
    _page_number_paragraph(section.even_page_footer.paragraphs[0], odd=False)


def _drop_extras(document) -> None:
    """The template's thumbnail, sample custom XML, Word 2010 style copy and list numbering
    (its list styles were pruned): not ours to ship."""
    package = document.part.package
    for rid, rel in list(package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            package.rels.pop(rid)
    for rid, rel in list(document.part.rels.items()):
        if rel.reltype in (
            RT.CUSTOM_XML,
            RT.NUMBERING,
            "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects",
        ):
            document.part.rels.pop(rid)


def _font_table() -> bytes:
    entries = []
    for name, fallback in FONT_FALLBACKS.items():
        # w:charset is hexadecimal: 86 is 134, GB2312, so a substitute is a Chinese font.
        usb0, usb1, usb2, usb3 = fallback.usb
        csb0, csb1 = fallback.csb
        entries.append(
            f"<w:font w:name={quoteattr(name)}>"
            f"<w:altName w:val={quoteattr(','.join(fallback.names))}/>"
            f'<w:panose1 w:val="{fallback.panose}"/><w:charset w:val="86"/>'
            f'<w:family w:val="{fallback.family}"/><w:pitch w:val="{fallback.pitch}"/>'
            f'<w:sig w:usb0="{usb0}" w:usb1="{usb1}" w:usb2="{usb2}" w:usb3="{usb3}" '
            f'w:csb0="{csb0}" w:csb1="{csb1}"/></w:font>'
        )
    return (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
        '<w:fonts xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        + "".join(entries)
        + '<w:font w:name="Times New Roman"><w:charset w:val="00"/><w:family w:val="roman"/>'
        '<w:pitch w:val="variable"/></w:font></w:fonts>'
    ).encode("utf-8")


def _replace_zip_member(data: bytes, name: str, content: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, content if info.filename == name else source.read(info))
    return out.getvalue()


@functools.cache
def _template() -> bytes:
    """Styles, page and footers once per process: python-docx's own template is 440 KB of styles."""
    document = docx.Document()
    _drop_extras(document)
    _set_defaults(document)
    _add_styles(document)
    _set_page(document)
    _add_page_numbers(document)
    core = document.core_properties
    core.author = settings.SITE_NAME
    core.last_modified_by = settings.SITE_NAME
    core.comments = ""
    core.language = "zh-CN"
    buffer = io.BytesIO()
    document.save(buffer)
    return _replace_zip_member(buffer.getvalue(), "word/fontTable.xml", _font_table())


def _custom_properties_part(package, properties: dict[str, str]) -> Part:
    items = "".join(
        f'<property fmtid="{_CUSTOM_FMTID}" pid="{pid}" name={quoteattr(name)}>'
        f"<vt:lpwstr>{escape(value)}</vt:lpwstr></property>"
        for pid, (name, value) in enumerate(properties.items(), start=2)
    )
    xml = (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
        f'<Properties xmlns="{_CUSTOM_PROPERTIES_URI}" xmlns:vt="{_VT_URI}">{items}</Properties>'
    )
    return Part(
        PackURI("/docProps/custom.xml"), CT.OFC_CUSTOM_PROPERTIES, xml.encode("utf-8"), package
    )


@dataclass(frozen=True)
class _Mark:
    """The buyer mark as the DOCX carries it."""

    token: str  # 16 hex digits: the custom property and the document variable
    text: str  # the zero-width mark, for the hidden runs

    @property
    def rsids(self) -> tuple[str, str]:
        # Session ids are 8 hex digits, upper case as Word writes them.
        return self.token[:8].upper(), self.token[8:].upper()


def _settings_mark(settings_element, mark: _Mark) -> None:
    """A document variable and the session ids, where CT_Settings has them (before m:mathPr)."""
    variables = OxmlElement("w:docVars")
    variable = OxmlElement("w:docVar")
    variable.set(qn("w:name"), buyer_mark.PROPERTY_NAME)
    variable.set(qn("w:val"), mark.token)
    variables.append(variable)
    rsids = OxmlElement("w:rsids")
    root = OxmlElement("w:rsidRoot")
    root.set(qn("w:val"), mark.rsids[0])
    rsids.append(root)
    for value in sorted(mark.rsids):
        rsid = OxmlElement("w:rsid")
        rsid.set(qn("w:val"), value)
        rsids.append(rsid)
    follower = next(
        (
            child
            for child in settings_element
            if child.tag in (qn("m:mathPr"), qn("w:attachedSchema"), qn("w:themeFontLang"))
        ),
        None,
    )
    if follower is None:
        settings_element.append(variables)
        settings_element.append(rsids)
    else:
        follower.addprevious(variables)
        follower.addprevious(rsids)


def _runs_xml(text: str) -> str:
    """The text as runs, the shared punctuation in runs of its own in Chinese."""
    runs = []
    for n, part in enumerate(_SHARED_PUNCTUATION.split(text)):
        if part:
            props = f"<w:rPr>{_CHINESE_WESTERN}</w:rPr>" if n % 2 else ""
            runs.append(f'<w:r>{props}<w:t xml:space="preserve">{escape(part)}</w:t></w:r>')
    return "".join(runs)


def _paragraphs_xml(lines: list[Line], mark: _Mark | None = None) -> list[str]:
    parts = []
    first_piece = True
    ids = f' w:rsidR="{mark.rsids[0]}" w:rsidRDefault="{mark.rsids[1]}"' if mark else ""
    # Hidden text is left out of layout, printing and PDF export: the mark never renders.
    hidden = (
        f'<w:r><w:rPr><w:vanish/></w:rPr><w:t xml:space="preserve">{mark.text}</w:t></w:r>'
        if mark
        else ""
    )
    for line in lines:
        style = STYLE_IDS[line.kind]
        props = f'<w:pStyle w:val="{style}"/>' if style != "Normal" else ""
        if line.kind == "piece":
            if not first_piece:
                # Each piece starts a page, so a buyer can hand in just the one they chose.
                props += "<w:pageBreakBefore/>"
            first_piece = False
        run = _runs_xml(line.text)
        if line.kind == "p" and line.text:
            # First, not last: at the end, LibreOffice wraps the hidden run's break opportunity
            # onto a line of its own and then justifies the paragraph's last visible line.
            run = hidden + run
        parts.append(f"<w:p{ids}>{f'<w:pPr>{props}</w:pPr>' if props else ''}{run}</w:p>")
    return parts


def build_docx(
    article: Article,
    *,
    piece_position: int | None = None,
    fill: dict[str, str] | None = None,
    order_id: int | None = None,
) -> bytes:
    """The article (or one piece) as a .docx; with `order_id`, carrying that order's buyer mark."""
    lines = fill_lines(article_lines(article, piece_position=piece_position), fill)
    mark = None
    if order_id is not None:
        mark = _Mark(buyer_mark.mark_token(order_id), buyer_mark.encode_mark(order_id))
    document = docx.Document(io.BytesIO(_template()))
    # One parse of the whole body: python-docx's add_paragraph() looks the style up by name
    # for every paragraph, which was two thirds of the build time.
    body = parse_xml(f"<w:body {nsdecls('w')}>{''.join(_paragraphs_xml(lines, mark))}</w:body>")
    section = document.element.body.sectPr
    for paragraph in list(body):
        section.addprevious(paragraph)
    core = document.core_properties
    core.title = lines[0].text
    now = timezone.now()
    core.created = now
    core.modified = now
    core.revision = 1
    if mark is not None:
        package = document.part.package
        part = _custom_properties_part(package, {buyer_mark.PROPERTY_NAME: mark.token})
        package.relate_to(part, RT.CUSTOM_PROPERTIES)
        _settings_mark(document.settings.element, mark)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@dataclass
class DocxContent:
    """What a .docx holds that may carry a buyer mark."""

    text: str  # the body paragraphs, one per line, hidden runs included
    visible_text: str  # the same without hidden (w:vanish) runs: what a reader sees
    properties: dict[str, str] = field(default_factory=dict)  # custom properties
    variables: dict[str, str] = field(default_factory=dict)  # settings.xml w:docVars
    rsids: list[str] = field(default_factory=list)  # session ids, settings first, then body


def _is_hidden(run) -> bool:
    vanish = run.find(f"{qn('w:rPr')}/{qn('w:vanish')}")
    return vanish is not None and vanish.get(qn("w:val"), "true") not in ("0", "false", "off")


def _open(data: bytes):
    # The importer's checked copy: XML inflated under the limits and free of DTDs, media left
    # empty, so python-docx never inflates anything of the upload itself.
    try:
        with budget.limit(settings.FANWEN_IMPORT_MAX_SECONDS):
            package = safe_docx_package(data)
    except ImportRejected as exc:
        raise ValueError(f"无法读取这个 DOCX 文件：{exc}") from None
    try:
        return docx.Document(io.BytesIO(package))
    except Exception as exc:  # python-docx raises many kinds for a damaged package
        raise ValueError(
            f"无法读取这个 DOCX 文件（{type(exc).__name__}），文件可能已损坏"
        ) from None


def _custom_properties(document) -> dict[str, str]:
    properties: dict[str, str] = {}
    for part in document.part.package.iter_parts():
        if part.content_type != CT.OFC_CUSTOM_PROPERTIES:
            continue
        try:
            root = parse_xml(part.blob)
        except etree.XMLSyntaxError:
            continue
        for item in root.iter(f"{{{_CUSTOM_PROPERTIES_URI}}}property"):
            value = next(iter(item), None)
            if item.get("name") and value is not None:
                properties[item.get("name")] = value.text or ""
    return properties


def _settings_element(document):
    # A document saved without settings.xml is valid; python-docx would make a default one.
    for rel in document.part.rels.values():
        if rel.reltype == RT.SETTINGS and not rel.is_external:
            return document.settings.element
    return None


def inspect_docx(data: bytes) -> DocxContent:
    """The text, visible text, custom properties, document variables and session ids of any .docx.

    Raises ValueError with a message for people when `data` is not a readable .docx.
    """
    document = _open(data)
    body = document.element.body
    # Paragraphs inside tables too: a leaked text may have been rearranged into one.
    paragraphs = list(body.iter(qn("w:p")))
    text = "\n".join(Paragraph(p, document).text for p in paragraphs)
    visible = "\n".join(
        "".join(Run(r, document).text for r in p.iter(qn("w:r")) if not _is_hidden(r))
        for p in paragraphs
    )
    content = DocxContent(text, visible, properties=_custom_properties(document))
    rsids: dict[str, None] = {}
    settings_element = _settings_element(document)
    if settings_element is not None:
        for variable in settings_element.iter(qn("w:docVar")):
            content.variables[variable.get(qn("w:name"), "")] = variable.get(qn("w:val"), "")
        for item in settings_element.iter(qn("w:rsidRoot"), qn("w:rsid")):
            rsids[item.get(qn("w:val"), "").upper()] = None
    for element in body.iter():
        for attribute in _RSID_ATTRIBUTES:
            value = element.get(attribute)
            if value:
                rsids[value.upper()] = None
    content.rsids = list(rsids)[:_MAX_RSIDS]
    return content


def read_docx(data: bytes) -> tuple[str, dict[str, str]]:
    """(the body paragraphs' text, one per line; the custom properties) of any .docx.

    Raises ValueError with a message for people when `data` is not a readable .docx.
    """
    content = inspect_docx(data)
    return content.text, content.properties


def docx_text(data: bytes) -> str:
    """The body paragraphs' text, one per line (hidden runs, so marks, included)."""
    return inspect_docx(data).text


def docx_visible_text(data: bytes) -> str:
    """The body paragraphs' text as a reader sees it: hidden runs left out."""
    return inspect_docx(data).visible_text


def docx_mark(data: bytes) -> list[int]:
    """Order ids a DOCX names: custom properties, document variables, session ids, then text.

    Any one of them is enough, so removing the properties Word shows leaves the others.
    Raises ValueError (with a message for people) when `data` is not a readable DOCX.
    """
    content = inspect_docx(data)
    found: list[int] = []

    def add(order_id: int | None) -> None:
        if order_id is not None and order_id not in found:
            found.append(order_id)

    # Every value is tried, not just ours by name: a renamed property still counts.
    for value in (*content.properties.values(), *content.variables.values()):
        add(buyer_mark.decode_token(value))
    # The token's two halves are two session ids; Word sorts and adds to them on a resave.
    for first in content.rsids:
        for second in content.rsids:
            if first != second:
                add(buyer_mark.decode_token(first + second))
    for order_id, _count in buyer_mark.find_marks(content.text):
        add(order_id)
    return found
