from django.core.management.base import BaseCommand

from fanwen.ops.management.commands._jobs import report
from fanwen.payments.jobs import expire_orders


class Command(BaseCommand):
    help = "Close expired pending orders at the provider and here; settle any paid meanwhile."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--limit", type=int, default=200, help="orders per run")

    def handle(self, *args, limit: int, **options) -> None:
        report(self, "expire_orders", expire_orders(limit=limit))
