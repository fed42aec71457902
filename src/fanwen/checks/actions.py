"""Writes of the check pages: only a report the buyer asked to keep."""

from __future__ import annotations

from django.db import transaction

from fanwen.checks.matching import Report
from fanwen.checks.models import KeptReport


def do_keep_report(report: Report) -> KeptReport:
    """Store `report` under a new private link; reports past their days go at the same time."""
    with transaction.atomic():
        KeptReport.objects.filter(created_at__lt=KeptReport.expiry_cutoff()).delete()
        return KeptReport.objects.create(result=report.to_json())
