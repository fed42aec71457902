"""The DOCX buyer mark: only where nothing renders, and in four places that each name the order."""

import io
import re
import zipfile

import pytest
from lxml import etree

from fanwen.exports.docx import build_docx, docx_mark, docx_visible_text, inspect_docx
from fanwen.exports.text import article_text
from fanwen.protection.mark import ALPHABET, mark_token

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"w": W}
ORDER = 4321


def rewrite(data: bytes, edits: dict[str, object]) -> bytes:
    """`data` with some members' XML edited in place (a callable on the root) or dropped (None)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename in edits and edits[info.filename] is None:
                continue
            content = source.read(info)
            if info.filename in edits:
                root = etree.fromstring(content)
                edits[info.filename](root)
                content = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
            target.writestr(info, content)
    return out.getvalue()


def remove(xpath: str):
    def edit(root) -> None:
        for element in root.xpath(xpath, namespaces=NS):
            element.getparent().remove(element)

    return edit


def drop_rsid_attributes(root) -> None:
    for element in root.iter():
        for name in list(element.attrib):
            if name.startswith(f"{{{W}}}rsid"):
                del element.attrib[name]


def drop_custom_properties(root) -> None:
    remove("//*[local-name()='Relationship'][contains(@Type, 'custom-properties')]")(root)


def without_rsids(root) -> None:
    remove("//w:rsids")(root)


CARRIERS = {
    "custom property": {"docProps/custom.xml": None, "_rels/.rels": drop_custom_properties},
    "document variable": {"word/settings.xml": remove("//w:docVars")},
    "session ids": {"word/settings.xml": without_rsids, "word/document.xml": drop_rsid_attributes},
    "hidden runs": {"word/document.xml": remove("//w:r[w:rPr/w:vanish]")},
}


@pytest.fixture
def marked(three_pieces) -> bytes:
    return build_docx(three_pieces, order_id=ORDER)


def test_the_visible_text_holds_no_zero_width_character(three_pieces, marked):
    visible = docx_visible_text(marked)
    assert visible == article_text(three_pieces)
    assert not set(visible) & set(ALPHABET)
    body = zipfile.ZipFile(io.BytesIO(marked)).read("word/document.xml")
    for run in etree.fromstring(body).iterfind(".//w:r", NS):
        text = "".join(run.itertext())
        if set(text) & set(ALPHABET):
            assert run.find("w:rPr/w:vanish", NS) is not None and set(text) <= set(ALPHABET)


def test_the_mark_is_in_four_places_that_never_render(marked):
    content = inspect_docx(marked)
    token = mark_token(ORDER)
    assert content.properties == {"DocumentId": token}
    assert content.variables == {"DocumentId": token}
    assert content.rsids[:2] == [token[:8].upper(), token[8:].upper()]
    assert content.text != content.visible_text


def test_an_unmarked_docx_has_none_of_the_carriers(three_pieces):
    content = inspect_docx(build_docx(three_pieces))
    assert content.properties == {} and content.variables == {} and content.rsids == []
    assert content.text == content.visible_text
    assert docx_mark(build_docx(three_pieces)) == []


@pytest.mark.parametrize("carrier", list(CARRIERS))
def test_each_carrier_alone_names_the_order(marked, carrier):
    others = {}
    for name, edits in CARRIERS.items():
        if name == carrier:
            continue
        for member, edit in edits.items():
            previous = others.get(member, "keep")
            if previous is None or edit is None:
                others[member] = None
            elif previous == "keep":
                others[member] = edit
            else:
                others[member] = lambda root, a=previous, b=edit: (a(root), b(root))
    assert docx_mark(rewrite(marked, others)) == [ORDER]


@pytest.mark.parametrize("carrier", list(CARRIERS))
def test_removing_one_carrier_leaves_the_others(marked, carrier):
    stripped = rewrite(marked, CARRIERS[carrier])
    assert stripped != marked
    assert docx_mark(stripped) == [ORDER]


def every_carrier_removed(session_ids=without_rsids) -> dict:
    """Edits removing every carrier; `session_ids` says what becomes of settings' rsids."""
    return {
        "docProps/custom.xml": None,
        "_rels/.rels": drop_custom_properties,
        "word/settings.xml": lambda root: (remove("//w:docVars")(root), session_ids(root)),
        "word/document.xml": lambda root: (
            drop_rsid_attributes(root),
            remove("//w:r[w:rPr/w:vanish]")(root),
        ),
    }


def test_with_every_carrier_removed_nothing_is_found(marked):
    assert docx_mark(rewrite(marked, every_carrier_removed())) == []


def test_a_resave_that_sorts_and_adds_session_ids_keeps_them_readable(marked):
    def word_session(root) -> None:
        rsids = root.find("w:rsids", NS)
        values = [item.get(f"{{{W}}}val") for item in rsids] + ["00A1B2C3", "FFFFFFFF"]
        for item in list(rsids):
            if item.tag == f"{{{W}}}rsid":
                rsids.remove(item)
        for value in sorted(set(values)):
            etree.SubElement(rsids, f"{{{W}}}rsid").set(f"{{{W}}}val", value)

    resaved = rewrite(marked, every_carrier_removed(session_ids=word_session))
    assert docx_mark(resaved) == [ORDER]


def test_the_settings_part_keeps_the_schema_order(marked):
    settings = zipfile.ZipFile(io.BytesIO(marked)).read("word/settings.xml").decode("utf-8")
    names = re.findall(r"<(\w+:\w+)", settings)
    # CT_Settings is a sequence: Word refuses a document whose elements are out of order.
    assert names.index("w:docVars") < names.index("w:rsids") < names.index("m:mathPr")
