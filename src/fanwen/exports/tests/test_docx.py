import io
import zipfile

import docx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Emu, Pt
from lxml import etree

from fanwen.exports.docx import build_docx, docx_mark, docx_text, docx_visible_text
from fanwen.exports.text import article_placeholder_groups, article_text
from fanwen.library.demo.loader import load_demo
from fanwen.library.models import Article, Piece
from fanwen.protection.mark import ALPHABET, find_marks, strip_marks


def open_docx(data: bytes):
    return docx.Document(io.BytesIO(data))


def fonts_of(style) -> dict[str, str]:
    fonts = style.element.rPr.rFonts
    return {attr: fonts.get(qn(f"w:{attr}")) for attr in ("ascii", "hAnsi", "eastAsia", "cs")}


def test_the_page_is_a4_with_the_official_document_margins(three_pieces):
    section = open_docx(build_docx(three_pieces)).sections[0]
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297
    assert round(section.top_margin.mm) == 37
    assert round(section.bottom_margin.mm) == 35
    assert round(section.left_margin.mm) == 28
    assert round(section.right_margin.mm) == 26
    # The text area GB/T 9704 prescribes: 156 x 225 mm.
    width = section.page_width - section.left_margin - section.right_margin
    height = section.page_height - section.top_margin - section.bottom_margin
    assert round(Emu(width).mm) == 156 and round(Emu(height).mm) == 225


def test_title_body_and_headings_have_the_official_fonts_sizes_and_spacing(three_pieces):
    document = open_docx(build_docx(three_pieces))
    paragraphs = document.paragraphs
    title, blank, piece, first_p, h1, h2, _p, h3 = paragraphs[:8]
    assert (title.text, h1.text, h2.text, h3.text) == (
        "社区志愿服务工作总结",
        "一、主要做法",
        "（一）健全工作机制",
        "1、建立台账",
    )

    assert title.style.font.size == Pt(22)
    assert set(fonts_of(title.style).values()) == {"方正小标宋简体"}
    assert title.style.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert blank.text == ""

    body = first_p.style
    assert body.name == "Normal"
    assert body.font.size == Pt(16)
    assert set(fonts_of(body).values()) == {"仿宋_GB2312"}
    assert body.paragraph_format.line_spacing_rule == WD_LINE_SPACING.EXACTLY
    assert 28 <= body.paragraph_format.line_spacing.pt <= 30
    assert body.paragraph_format.first_line_indent == Pt(32)
    assert body.element.pPr.ind.get(qn("w:firstLineChars")) == "200"
    assert body.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.JUSTIFY

    assert fonts_of(h1.style)["eastAsia"] == "黑体"
    assert fonts_of(h2.style)["eastAsia"] == "楷体_GB2312"
    assert fonts_of(h3.style)["eastAsia"] == "仿宋_GB2312" and h3.style.font.bold
    for heading in (h1, h2, h3):
        assert heading.style.font.size == Pt(16)
        assert heading.style.paragraph_format.line_spacing == body.paragraph_format.line_spacing
        assert heading.style.paragraph_format.keep_with_next
        # Theme fonts would win over the named ones in Word: none may be left.
        assert not any(
            "Theme" in name or "theme" in name for name in heading.style.element.rPr.rFonts.attrib
        )

    assert piece.style.name == "篇目标题"
    assert fonts_of(piece.style)["eastAsia"] == "方正小标宋简体"
    assert piece.style.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert not piece.paragraph_format.page_break_before
    later_pieces = [p for p in paragraphs if p.style.name == "篇目标题"][1:]
    assert len(later_pieces) == 2 and all(
        p.paragraph_format.page_break_before for p in later_pieces
    )


def test_fonts_fall_back_to_installed_ones_and_the_language_is_chinese(three_pieces):
    archive = zipfile.ZipFile(io.BytesIO(build_docx(three_pieces)))
    fonts = etree.fromstring(archive.read("word/fontTable.xml"))
    table = {font.get(qn("w:name")): font for font in fonts.iter(qn("w:font"))}

    def alternates(name: str) -> list[str]:
        return table[name].find(qn("w:altName")).get(qn("w:val")).split(",")

    # Windows' own font first, macOS' next, the free CJK families last.
    assert alternates("仿宋_GB2312")[:4] == ["仿宋", "FangSong", "华文仿宋", "STFangsong"]
    assert alternates("楷体_GB2312")[:2] == ["楷体", "KaiTi"]
    assert alternates("黑体")[0] == "SimHei" and "Heiti SC" in alternates("黑体")
    title = alternates("方正小标宋简体")
    assert title.index("华文中宋") < title.index("宋体") < title.index("Songti SC")
    for name in ("方正小标宋简体", "仿宋_GB2312", "楷体_GB2312", "宋体"):
        assert "Noto Serif CJK SC" in alternates(name)
    for name, family in (("仿宋_GB2312", "roman"), ("方正小标宋简体", "roman"), ("黑体", "swiss")):
        font = table[name]
        assert font.find(qn("w:family")).get(qn("w:val")) == family
        # Hexadecimal 86 is GB2312; bit 18 of the code-page signature says the same.
        assert font.find(qn("w:charset")).get(qn("w:val")) == "86"
        assert int(font.find(qn("w:sig")).get(qn("w:csb0")), 16) & 1 << 18
        assert len(font.find(qn("w:panose1")).get(qn("w:val"))) == 20
    styles = archive.read("word/styles.xml").decode("utf-8")
    assert 'w:val="en-US" w:eastAsia="zh-CN"' in styles
    assert "thumbnail" not in " ".join(archive.namelist())


def test_shared_punctuation_and_page_numbers_are_chinese_for_western_fonts_too(summaries):
    text = "“开头”与5G“新基建”、第3——5条……约翰·史密斯，English words stay English。"
    article = Article.objects.create(
        category=summaries, title="标题", status=Article.Status.PUBLISHED, piece_count=1
    )
    Piece.objects.create(article=article, position=1, blocks=[{"kind": "p", "text": text}])
    document = open_docx(build_docx(article))
    paragraph = document.paragraphs[-1]
    assert paragraph.text == text
    chinese = []
    for run in paragraph.runs:
        lang = run._r.find(f"{qn('w:rPr')}/{qn('w:lang')}")
        if lang is not None:
            assert lang.get(qn("w:val")) == "zh-CN"
            chinese.append(run.text)
    assert chinese == ["“", "”", "“", "”", "——", "……", "·"]
    # The rest, English words included, keeps the document's Western language (en-US).
    assert all(run._r.rPr is None for run in paragraph.runs if run.text not in chinese)
    footer = document.styles["Footer"].element.rPr.find(qn("w:lang"))
    assert footer.get(qn("w:val")) == "zh-CN"


def test_pages_are_numbered_in_the_footer_odd_right_even_left(three_pieces):
    document = open_docx(build_docx(three_pieces))
    assert document.settings.odd_and_even_pages_header_footer
    section = document.sections[0]
    for footer, alignment in (
        (section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
        (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT),
    ):
        paragraph = footer.paragraphs[0]
        assert paragraph.paragraph_format.alignment == alignment
        fields = paragraph._p.findall(qn("w:fldSimple"))
        assert [f.get(qn("w:instr")).strip() for f in fields] == ["PAGE"]
        assert paragraph.text.startswith("— ") and paragraph.text.endswith(" —")
        assert paragraph.style.font.size == Pt(14)


def test_core_properties_carry_the_title_and_the_mark_only_with_an_order(three_pieces):
    plain = open_docx(build_docx(three_pieces))
    assert plain.core_properties.title == "社区志愿服务工作总结"
    assert plain.core_properties.author != "python-docx"
    assert (
        "docProps/custom.xml"
        not in zipfile.ZipFile(io.BytesIO(build_docx(three_pieces))).namelist()
    )
    marked = build_docx(three_pieces, order_id=4321)
    custom = zipfile.ZipFile(io.BytesIO(marked)).read("docProps/custom.xml").decode("utf-8")
    assert 'name="DocumentId"' in custom and "4321" not in custom
    assert docx_mark(marked) == [4321]
    assert docx_mark(build_docx(three_pieces)) == []


def test_a_piece_alone_reads_back_as_its_text(three_pieces):
    data = build_docx(three_pieces, piece_position=2, order_id=77)
    assert strip_marks(docx_text(data)) == article_text(three_pieces, piece_position=2)
    assert find_marks(docx_text(data))[0][0] == 77


def test_filled_placeholders_are_in_the_docx(with_blanks):
    fill = {g["key"]: f"填{i}" for i, g in enumerate(article_placeholder_groups(with_blanks))}
    data = build_docx(with_blanks, fill=fill, order_id=5)
    text = strip_marks(docx_text(data))
    assert text == article_text(with_blanks, fill=fill)
    assert "xx" not in text and "20__" not in text and "某某" not in text


def test_bad_fill_values_refuse_the_download(with_blanks):
    key = article_placeholder_groups(with_blanks)[0]["key"]
    with pytest.raises(ValueError, match="太长"):
        build_docx(with_blanks, fill={key: "长" * 51})


def test_what_is_not_a_docx_gets_a_message():
    with pytest.raises(ValueError, match="不是有效的 .docx 文件"):
        docx_text(b"this is not a zip")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("word/document.xml", "<w:document")
    with pytest.raises(ValueError, match="DOCX"):
        docx_text(archive.getvalue())


def test_every_demo_article_reads_back_exactly_as_its_text(db):
    load_demo()
    articles = list(Article.objects.prefetch_related("pieces"))
    assert len(articles) >= 34
    checked = 0
    for article in articles:
        positions = [None] + [piece.position for piece in article.pieces.all()]
        for position in positions:
            expected = article_text(article, piece_position=position)
            assert docx_text(build_docx(article, piece_position=position)) == expected
            data = build_docx(article, piece_position=position, order_id=article.pk)
            # What a reader sees holds no mark character at all; the hidden runs hold them.
            assert docx_visible_text(data) == expected, (article.title, position)
            marked = docx_text(data)
            assert marked != expected and set(marked) - set(expected) <= set(ALPHABET)
            assert strip_marks(marked) == expected, (article.title, position)
            assert docx_mark(data) == [article.pk]
            checked += 1
        groups = article_placeholder_groups(article)
        if groups:
            fill = {g["key"]: f"甲{g['kind']}" for g in groups}
            filled = docx_text(build_docx(article, fill=fill, order_id=article.pk))
            assert strip_marks(filled) == article_text(article, fill=fill)
    assert checked >= 34 * 2
