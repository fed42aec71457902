from django.core.management.base import BaseCommand

from fanwen.ops.management.commands._jobs import report
from fanwen.payments.jobs import reconcile_payments


class Command(BaseCommand):
    help = (
        "Ask the provider about pending and recently closed orders; settle those it says are paid."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--limit", type=int, default=200, help="orders per run")

    def handle(self, *args, limit: int, **options) -> None:
        report(self, "reconcile_payments", reconcile_payments(limit=limit))
