"""Fen ↔ yuan: exact, and nothing that is not a plain amount of whole fen gets through."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fanwen.lib.money import AmountError, fen_to_yuan, yuan_label, yuan_to_fen


@pytest.mark.parametrize(
    ("value", "fen"),
    [
        ("5.99", 599),
        ("0.10", 10),
        ("0.1", 10),
        ("0.01", 1),
        ("5", 500),
        ("30", 3000),
        ("1000", 100000),
        (" 5.99 ", 599),
        ("0", 0),
        (5, 500),
        (Decimal("5.99"), 599),
        (Decimal("5.990"), 599),
        # The float trap: 0.29 * 100 is 28.999999999999996 in binary floating point.
        ("0.29", 29),
        ("19.99", 1999),
    ],
)
def test_plain_yuan_amounts_become_exact_fen(value, fen):
    assert yuan_to_fen(value) == fen


@pytest.mark.parametrize(
    "value",
    [
        "5.999",
        "1.005",
        "-1",
        "-0.01",
        "+5",
        "1e2",
        "NaN",
        "Infinity",
        "",
        " ",
        "abc",
        "5.",
        ".5",
        "5,99",
        "５.９９",  # full-width digits: int() would take them
        "1" * 13,
        5.99,  # a float is already inexact
        None,
        True,
        Decimal("5.999"),
        Decimal("-1"),
    ],
)
def test_anything_else_is_refused(value):
    with pytest.raises(AmountError):
        yuan_to_fen(value)


@pytest.mark.parametrize(
    ("fen", "api", "label"),
    [
        (599, "5.99", "5.99"),
        (1000, "10.00", "10"),
        (990, "9.90", "9.9"),
        (1, "0.01", "0.01"),
        (0, "0.00", "0"),
    ],
)
def test_fen_are_written_for_apis_and_for_pages(fen, api, label):
    assert fen_to_yuan(fen) == api
    assert yuan_label(fen) == label
    assert yuan_to_fen(fen_to_yuan(fen)) == fen


def test_every_amount_up_to_a_thousand_yuan_goes_there_and_back():
    assert all(yuan_to_fen(fen_to_yuan(fen)) == fen for fen in range(100_001))
