"""Filters of the desk's pages."""

from django import template

from fanwen.lib.money import fen_to_yuan

register = template.Library()


@register.filter
def yuan(fen: int | None) -> str:
    """599 → "5.99" (staff read and type 元; the database keeps 分)."""
    return "" if fen is None else fen_to_yuan(fen)
