"""The buyer mark: an invisible, keyed mark of the order id, spread sparsely through copied text.

A mark is 32 zero-width characters, 2 bits each, holding 8 bytes:

    tag (4 bytes)    = HMAC(key, order id)[:4]          the keyed checksum
    sealed (4 bytes) = order id XOR HMAC(key, tag)[:4]  the id, unreadable without the key

Decoding recomputes the tag from the unsealed id, so a random run of zero-width characters,
or a mark made with another key, is refused (a chance of 1 in 2**32 per try). The four
characters have no decomposition (NFC and NFKC keep them), are not whitespace, and are
plain text that survives copy and paste into a .txt file, Word and WPS. Not used: variation
selectors (after some ideographs and full-width punctuation they pick another glyph), the
bidi marks (they reorder neighbouring digits and punctuation), U+FEFF (editors drop it as a
byte order mark) and the invisible operators U+2061-2064 (they render nothing in Chromium
and LibreOffice too, but a shorter mark is not worth a character some editor may draw).

Where (embed_mark): never in the title, never between two letters or ideographs (a word
split by a ZERO WIDTH SPACE no longer matches a search in Word), only before an ideograph that
follows 。，、；：！？ (at a line end where a line has none); at most MARK_EVERY (180) visible
characters apart, so any 200 consecutive characters of the body hold a whole mark.
"""

from __future__ import annotations

import bisect
import functools
import hmac
import re
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import salted_hmac

# ZERO WIDTH SPACE, ZERO WIDTH NON-JOINER, ZERO WIDTH JOINER, WORD JOINER.
ALPHABET = "\u200b\u200c\u200d\u2060"
MARK_LENGTH = 32  # characters: 8 bytes at 2 bits each
MAX_ORDER_ID = 2**32 - 1
# Visible characters between marks at most: any 200 consecutive ones hold a whole mark.
MARK_EVERY = 180
# A mark may follow these full-width marks when an ideograph comes next.
ANCHORS = "。，、；：！？"
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


def _is_ideograph(char: str) -> bool:
    code = ord(char)
    return (
        0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3134F
    )


def _slots(text: str, unmarked_lines: Collection[int]) -> tuple[int, list[int], list[int]]:
    """(where the first marked line starts, slots, line ends): indexes a mark may go before.

    Slots: before an ideograph that follows 。，、；：！？. Nothing joins or is shaped across
    there, a line may already break there, no word is split, and the invisible characters
    take the Chinese font of the punctuation before them. Not next to other punctuation on
    either side (full-width pairs such as ”， are kerned together, and Chromium trims them
    differently with an invisible character after the pair), Latin or digits; not at a line start (LibreOffice
    lays characters with nothing before them out in the Western font: the line grows a pixel).
    Line ends are the fallback for lines without such punctuation (headings): an editor could
    wrap invisible characters there onto a line of their own in a full last line.
    """
    slots: list[int] = []
    ends: list[int] = []
    start: int | None = None
    line = 0
    previous = before = "\n"
    last = len(text) - 1
    for index, char in enumerate(text):
        if char == "\n" or (char == "\r" and text[index + 1 : index + 2] != "\n"):
            line += 1
            previous = before = "\n"
            continue
        if line not in unmarked_lines:
            if start is None:
                start = index
            if previous in ANCHORS and _is_ideograph(char) and _is_ideograph(before):
                slots.append(index)
            following = text[index + 1] if index < last else ""
            if following in ("", "\r", "\n") and not char.isspace():
                ends.append(index + 1)
        before, previous = previous, char
    return (start or 0), slots, ends


def _farthest(places: list[int], after: int, upto: int) -> int | None:
    index = bisect.bisect_right(places, upto)
    return places[index - 1] if index and places[index - 1] > after else None


def _next(places: list[int], after: int) -> int | None:
    index = bisect.bisect_right(places, after)
    return places[index] if index < len(places) else None


def _spread(slots: list[int], ends: list[int], every: int, start: int, end: int) -> list[int]:
    """Each time the farthest slot at most `every` characters on, from `start` until `end` is near.

    A line end only where no slot is that close; where neither is, the next one of either.
    So marks are never more than `every` characters apart, nor from the start and end of the
    marked lines, where the text allows. A text shorter than `every` still gets one mark.
    """
    chosen: list[int] = []
    last = start - 1  # a slot right at the start counts
    while not chosen or last + every < end:
        pick = _farthest(slots, last, last + every)
        if pick is None:
            pick = _farthest(ends, last, last + every)
        if pick is None:
            beyond = [place for place in (_next(slots, last), _next(ends, last)) if place]
            if not beyond:
                break
            pick = min(beyond)
        chosen.append(pick)
        last = pick
    return chosen


def embed_mark(
    text: str,
    order_id: int,
    *,
    every: int = MARK_EVERY,
    unmarked_lines: Collection[int] = (0,),
) -> str:
    """`text` with the mark at most `every` visible characters apart (see _slots for where).

    Line 0 (the title) and the other `unmarked_lines` get none. Any mark already in the text
    is removed first; the visible characters are unchanged.
    """
    if every < 1:
        raise ValueError("every must be at least 1")
    mark = encode_mark(order_id)
    if ALPHABET[0] not in mark:
        # A run of joiners alone would take away the line break the slot allows (WORD JOINER
        # forbids one); a ZERO WIDTH SPACE keeps it. find_marks skips the extra character.
        mark = ALPHABET[0] + mark
    text = strip_marks(text)
    out: list[str] = []
    body, slots, ends = _slots(text, frozenset(unmarked_lines))
    done = 0
    for slot in _spread(slots, ends, every, body, len(text)):
        out.append(text[done:slot])
        out.append(mark)
        done = slot
    out.append(text[done:])
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
