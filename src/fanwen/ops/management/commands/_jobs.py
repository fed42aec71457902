"""Shared by the job commands: run one job and print what it did."""

from __future__ import annotations

from collections import Counter

from django.core.management.base import BaseCommand


def report(command: BaseCommand, name: str, counts: Counter) -> None:
    summary = (
        ", ".join(f"{key} {value}" for key, value in sorted(counts.items())) or "nothing to do"
    )
    command.stdout.write(f"{name}: {summary}")
