"""The buyer mark: an invisible, keyed mark of the order id, repeated through copied text and DOCX.

A mark is 32 zero-width characters, 2 bits each, holding 8 bytes:

    tag (4 bytes)    = HMAC(key, order id)[:4]          the keyed checksum
    sealed (4 bytes) = order id XOR HMAC(key, tag)[:4]  the id, unreadable without the key

Decoding recomputes the tag from the unsealed id, so a random run of zero-width characters,
or a mark made with another key, is refused (a chance of 1 in 2**32 per try). The four
characters have no decomposition (NFC and NFKC keep them), are not whitespace, and are
plain text that survives copy and paste into a .txt file. Variation selectors are not used:
after some CJK ideographs they select a different glyph, which would change what is seen.
"""

from __future__ import annotations

import functools
import hmac
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import salted_hmac

# ZERO WIDTH SPACE, ZERO WIDTH NON-JOINER, ZERO WIDTH JOINER, WORD JOINER.
ALPHABET = "\u200b\u200c\u200d\u2060"
MARK_LENGTH = 32  # characters: 8 bytes at 2 bits each
MAX_ORDER_ID = 2**32 - 1
PROPERTY_NAME = "DocumentId"  # the DOCX custom property; a plain name invites no deletion
_SYMBOL = {char: value for value, char in enumerate(ALPHABET)}
_RUN = re.compile(f"[{ALPHABET}]{{{MARK_LENGTH},}}")
_STRIP = {ord(char): None for char in ALPHABET}
_WINDOW_MASK = (1 << 2 * MARK_LENGTH) - 1
_TOKEN = re.compile(r"^[0-9a-f]{16}$")


@dataclass(frozen=True)
class _Keys:
    tag: bytes
    seal: bytes


def _keys() -> _Keys:
    return _derive_keys(settings.FANWEN_MARK_KEY or settings.SECRET_KEY)


@functools.lru_cache(maxsize=8)
def _derive_keys(secret: str) -> _Keys:
    # Derived once per secret: find_marks may try thousands of windows of a long run.
    def derive(purpose: str) -> bytes:
        salt = f"fanwen.protection.mark.{purpose}"
        return salted_hmac(salt, b"key", secret=secret, algorithm="sha256").digest()

    return _Keys(tag=derive("tag"), seal=derive("seal"))


def _mac(key: bytes, data: bytes) -> bytes:
    return hmac.digest(key, data, "sha256")[:4]


def _seal(order_id: int, keys: _Keys) -> bytes:
    if not 1 <= order_id <= MAX_ORDER_ID:
        raise ValueError(f"order id out of range for a mark: {order_id}")
    plain = order_id.to_bytes(4, "big")
    tag = _mac(keys.tag, plain)
    pad = int.from_bytes(_mac(keys.seal, tag), "big")
    return tag + (order_id ^ pad).to_bytes(4, "big")


def _unseal(payload: bytes, keys: _Keys) -> int | None:
    tag, sealed = payload[:4], payload[4:]
    order_id = int.from_bytes(sealed, "big") ^ int.from_bytes(_mac(keys.seal, tag), "big")
    if not order_id or not hmac.compare_digest(_mac(keys.tag, order_id.to_bytes(4, "big")), tag):
        return None
    return order_id


def mark_token(order_id: int) -> str:
    """The sealed payload as 16 hex digits: what the DOCX custom property holds."""
    return _seal(order_id, _keys()).hex()


def decode_token(token: str) -> int | None:
    token = token.strip().lower()
    return _unseal(bytes.fromhex(token), _keys()) if _TOKEN.match(token) else None


def encode_mark(order_id: int) -> str:
    """The 32 invisible characters naming `order_id` under this site's key."""
    number = int.from_bytes(_seal(order_id, _keys()), "big")
    return "".join(ALPHABET[(number >> shift) & 3] for shift in range(2 * MARK_LENGTH - 2, -1, -2))


def _is_anchor(char: str) -> bool:
    """A mark may follow a CJK character or punctuation, where nothing joins across it."""
    if unicodedata.category(char).startswith("P"):
        return True
    code = ord(char)
    return (
        0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3134F
    )


def _joins_previous(char: str) -> bool:
    # Combining marks and variation selectors (Mn/Mc/Me) belong to the character before them.
    return unicodedata.category(char) in ("Mn", "Mc", "Me")


def embed_mark(text: str, order_id: int, *, every: int = 60) -> str:
    """`text` with the mark after the first suitable character, then about every `every` characters.

    Any mark already in the text is removed first; the visible characters are unchanged.
    """
    if every < 1:
        raise ValueError("every must be at least 1")
    mark = encode_mark(order_id)
    text = strip_marks(text)
    out: list[str] = []
    since: int | None = None  # visible characters since the last mark; None before the first
    last = len(text) - 1
    for index, char in enumerate(text):
        out.append(char)
        if since is not None:
            since += 1
        due = since is None or since >= every
        if due and _is_anchor(char) and (index == last or not _joins_previous(text[index + 1])):
            out.append(mark)
            since = 0
    return "".join(out)


def find_marks(text: str) -> list[tuple[int, int]]:
    """(order id, how many marks) for every valid mark in `text`, most frequent first."""
    counts: Counter[int] = Counter()
    keys = _keys()
    for run in _RUN.finditer(text):
        # A cut can leave part of a mark glued to a whole one: every window ending at each
        # character is tried (a rolling 64-bit number), and a found mark starts a fresh window.
        number = filled = 0
        for char in run.group():
            number = (number << 2 | _SYMBOL[char]) & _WINDOW_MASK
            filled += 1
            if filled < MARK_LENGTH:
                continue
            order_id = _unseal(number.to_bytes(8, "big"), keys)
            if order_id is not None:
                counts[order_id] += 1
                number = filled = 0
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def strip_marks(text: str) -> str:
    return text.translate(_STRIP)


def docx_mark(data: bytes) -> list[int]:
    """Order ids a DOCX names: its custom property first, then the marks in its text.

    Raises ValueError (with a message for people) when `data` is not a readable DOCX.
    """
    # exports.docx builds documents with this module's marks, so it is imported here.
    from fanwen.exports.docx import read_docx

    text, properties = read_docx(data)
    found: list[int] = []
    property_id = decode_token(properties.get(PROPERTY_NAME, ""))
    if property_id is not None:
        found.append(property_id)
    for order_id, _count in find_marks(text):
        if order_id not in found:
            found.append(order_id)
    return found
