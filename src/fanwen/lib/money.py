"""Fen ↔ yuan, the one place money changes unit. Amounts are whole fen (int) everywhere inside;
yuan strings exist only at the edges: provider APIs, bills, and the prices pages show.

Providers write yuan as a plain decimal with at most two places ("5.99", "0.1", "30"); anything
else (a third decimal, exponents, signs, NaN, blanks) is not an amount we can settle against.
"""

from __future__ import annotations

import re
from decimal import Decimal

# A plain non-negative yuan amount: digits, then at most two decimals. Twelve digits are ten
# billion yuan, far past any payment here, and keep absurd inputs short.
_YUAN = re.compile(r"([0-9]{1,12})(?:\.([0-9]{1,2}))?")


class AmountError(ValueError):
    """A yuan value that is not a whole, non-negative number of fen written plainly."""


def yuan_to_fen(value: str | int | Decimal) -> int:
    """ "5.99" → 599, "0.1" → 10, "5" → 500, exactly; "5.999", "-1", "1e2", "NaN" raise AmountError."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise AmountError(f"{value!r} is not a yuan amount")
    text = str(value).strip()
    if isinstance(value, Decimal) and "." in text:
        # Decimal("5.990") is 5.99 yuan: trailing zeros are precision, not fen.
        text = text.rstrip("0").rstrip(".")
    match = _YUAN.fullmatch(text)
    if match is None:
        raise AmountError(f"{value!r} is not a whole, non-negative number of fen")
    yuan, cents = match.groups()
    return int(yuan) * 100 + int((cents or "").ljust(2, "0"))


def fen_to_yuan(fen: int) -> str:
    """599 → "5.99", 1000 → "10.00": how provider APIs and the admin write amounts."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{yuan}.{cents:02d}"


def yuan_label(fen: int) -> str:
    """599 → "5.99", 1000 → "10", 990 → "9.9": prices as the reading pages show them."""
    return fen_to_yuan(fen).rstrip("0").rstrip(".")
