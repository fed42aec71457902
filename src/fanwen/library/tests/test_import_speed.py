"""The fast paths of the importer give exactly what the plain computations give.

Signatures are stored (Piece.simhash and the band columns), so the faster code must produce
the very same numbers as the definition in dedup's docstring, computed here the slow way.
"""

from __future__ import annotations

import hashlib
import random
import struct

import pytest

from fanwen.library.importer import ImportRejected, dedup, docx_reader, parse_bytes
from fanwen.library.tests.test_parse_docx import rewrite_part

MASK = (1 << 64) - 1


def slow_grams(text: str) -> set[str]:
    norm = dedup.normalize(text)
    if len(norm) < 3:
        return {norm} if norm else set()
    return {norm[i : i + 3] for i in range(len(norm) - 2)}


def slow_hash(gram: str) -> int:
    if len(gram) == 3:
        x = (ord(gram[0]) << 42) | (ord(gram[1]) << 21) | ord(gram[2])
    else:
        x = sum(ord(ch) << (21 * i) for i, ch in enumerate(gram))
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9 & MASK
    x = (x ^ (x >> 27)) * 0x94D049BB133111EB & MASK
    return x ^ (x >> 31)


def slow_signature(text: str) -> tuple[int, list[int] | None]:
    hashes = [slow_hash(g) for g in slow_grams(text)]
    value = 0
    for bit in range(64):
        if sum(h >> bit & 1 for h in hashes) > len(hashes) / 2:
            value |= 1 << bit
    simhash = value - (1 << 64) if value >= 1 << 63 else value
    if len(hashes) + 2 < dedup.MIN_CHARS:
        return simhash, None
    mins = [MASK] * 32
    for h in hashes:
        mins[h & 31] = min(mins[h & 31], h >> 5)
    filled = list(mins)
    for i in range(32):
        if filled[i] == MASK:
            for step in range(1, 32):
                if filled[(i + step) % 32] != MASK:
                    mins[i] = (filled[(i + step) % 32] + step * 0x9E3779B97F4A7C15) & MASK
                    break
    bands = []
    for band in range(8):
        packed = struct.pack("<5Q", band, *mins[band * 4 : band * 4 + 4])
        raw = int.from_bytes(hashlib.blake2b(packed, digest_size=8).digest(), "little")
        bands.append(raw - (1 << 64) if raw >= 1 << 63 else raw)
    return simhash, bands


def texts() -> list[str]:
    rng = random.Random(12)
    essay = "今年以来，我校以创建文明校园为抓手，把立德树人贯穿教育教学全过程。" * 8
    out = ["", "a", "ab", "此致敬礼", "由xx同志负责，20__年完成。", "ＡＢＣ１２３ xx __ ××", essay]
    out += ["𠀀𠀁𠀂 😀😀 混合 text 文本 " * 4, essay.replace("文明", "文化")]
    # Random code points across the planes, lengths from 1 to 3,000.
    out += [
        "".join(chr(rng.randrange(0x20, 0x2FFFF)) for _ in range(rng.randrange(1, 3000)))
        for _ in range(12)
    ]
    return out


@pytest.mark.parametrize("text", texts(), ids=lambda t: f"{len(t)}chars")
def test_signatures_equal_the_definition_computed_the_slow_way(text):
    simhash, bands = slow_signature(text)
    sig = dedup.signature(text)
    assert (sig.simhash, sig.bands) == (simhash, bands)
    assert dedup.simhash(text) == simhash
    assert len(sig.grams) == len(slow_grams(text))


def test_the_similarity_of_signatures_is_the_jaccard_index_of_the_3_grams():
    sample = texts()
    rng = random.Random(3)
    base = "我们坚持每月开展一次主题班会，引导学生养成文明礼貌、勤俭节约、爱护环境的好习惯。" * 5
    edits = [base]
    for _ in range(12):
        chars = list(base)
        for _ in range(rng.randrange(0, 25)):
            chars[rng.randrange(len(chars))] = rng.choice("的了和在是")
        edits.append("".join(chars))
    pairs = [(a, b) for a in sample[:8] + edits for b in sample[:8] + edits]
    seen_above = seen_below = 0
    for a, b in pairs:
        exact = dedup.jaccard(slow_grams(a), slow_grams(b))
        fast_a, fast_b = dedup.signature(a).grams, dedup.signature(b).grams
        assert dedup.jaccard(fast_a, fast_b) == exact
        for threshold in (0.9, 0.5):
            found = dedup.jaccard_at_least(fast_a, fast_b, threshold)
            assert found == (exact if exact >= threshold else 0.0), (exact, threshold)
        seen_above += exact >= 0.9
        seen_below += 0 < exact < 0.9
    # Both sides of the threshold were exercised.
    assert seen_above > 20 and seen_below > 20


def test_a_paragraphs_heading_hint_is_what_its_style_says_with_the_per_document_memory(
    make_docx,
):
    import io

    import docx

    data = make_docx(
        [
            ("Title", "标题"),
            (None, "正文一"),
            ("Heading 1", "一级"),
            (None, "正文二"),
            ("Heading 2", "二级"),
            ("Heading 3", "三级"),
            ("Heading 1", "又一个一级"),
            (None, "正文三"),
        ]
    )
    document = docx.Document(io.BytesIO(data))
    seen: dict = {}
    hints = [docx_reader._hint(p, seen) for p in document.paragraphs]
    assert hints == [docx_reader._style_hint(p) for p in document.paragraphs]
    assert hints == ["title", None, "h1", None, "h2", "h3", "h1", None]
    assert len(seen) == 5  # one answer per style id (None for the default)


def test_a_part_known_clean_is_not_rechecked_but_a_hostile_twin_still_is(make_docx):
    data = make_docx([("Title", "总结"), (None, "本学期我担任班主任，班级各项工作有序推进。")])
    docx_reader._CLEAN_PARTS.clear()
    assert parse_bytes(data, "a.docx").title == "总结"
    known = len(docx_reader._CLEAN_PARTS)
    assert known >= 5
    # The same parts again: nothing new to remember.
    parse_bytes(data, "b.docx")
    assert len(docx_reader._CLEAN_PARTS) == known

    def add_dtd(content: bytes) -> bytes:
        return content.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY e "boom">]>', 1)

    # Same name, same declared place in the zip, other bytes: checked, and refused.
    hostile = rewrite_part(data, "word/styles.xml", add_dtd)
    with pytest.raises(ImportRejected, match="DOCTYPE"):
        parse_bytes(hostile, "c.docx")
    with pytest.raises(ImportRejected, match="DOCTYPE"):
        parse_bytes(hostile, "c.docx")
    broken = rewrite_part(data, "word/settings.xml", lambda content: content[:-20])
    with pytest.raises(ImportRejected, match="不是有效的 XML"):
        parse_bytes(broken, "d.docx")


def test_paragraph_text_is_python_docx_paragraph_text(make_docx):
    import io

    import docx

    data = make_docx([(None, "占位")])
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    r = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    body = (
        "<w:p><w:r><w:t>一、总体情况</w:t></w:r></w:p>"
        '<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t xml:space="preserve">前 </w:t>'
        "<w:tab/><w:t>后</w:t><w:br/><w:t>下一行</w:t><w:cr/><w:noBreakHyphen/></w:r>"
        '<w:hyperlink r:id="rId9"><w:r><w:t>链接里的字</w:t></w:r><w:r><w:t>二</w:t></w:r>'
        "</w:hyperlink><w:r><w:rPr><w:b/></w:rPr><w:t>加粗</w:t><w:ptab "
        'w:relativeTo="margin" w:alignment="right" w:leader="none"/></w:r>'
        '<w:ins w:id="1" w:author="x" w:date="2024-01-01T00:00:00Z"><w:r><w:t>修订插入</w:t></w:r>'
        '</w:ins><w:fldSimple w:instr="PAGE"><w:r><w:t>3</w:t></w:r></w:fldSimple></w:p>'
        "<w:p/><w:p><w:r/></w:p>"
    )

    def replace_body(content: bytes) -> bytes:
        text = content.decode()
        start = text.index("<w:body>") + len("<w:body>")
        end = text.index("<w:sectPr")
        text = text[:start] + body + text[end:]
        if "xmlns:r=" not in text.split(">", 2)[1]:
            text = text.replace(w, f"{w} {r}", 1)
        return text.encode()

    rewritten = rewrite_part(data, "word/document.xml", replace_body)
    document = docx.Document(io.BytesIO(rewritten))
    paragraphs = document.paragraphs
    assert len(paragraphs) == 4
    for paragraph in paragraphs:
        assert docx_reader._paragraph_text(paragraph._p) == paragraph.text
    assert "\t" in paragraphs[1].text and "\n" in paragraphs[1].text
    assert "链接里的字二" in paragraphs[1].text


def test_a_presigned_text_is_signed_once_and_then_forgotten(monkeypatch):
    sample = texts()[6:9]
    dedup.presign(sample)
    calls = []
    real = dedup.signature
    monkeypatch.setattr(dedup, "signature", lambda text: calls.append(text) or real(text))
    for text in sample:
        sig = dedup.signed(text)
        assert (sig.simhash, sig.bands) == slow_signature(text)
    assert calls == []  # all three were kept
    dedup.signed(sample[0])
    assert calls == [sample[0]]  # taken once, then computed again
