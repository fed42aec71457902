import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from fanwen.payments.errors import PaymentError
from fanwen.payments.jobs import COMPARE_COUNTS, compare_bill, yesterday_in_beijing


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date {value!r} is not YYYY-MM-DD") from None


class Command(BaseCommand):
    help = (
        "Compare WeChat Pay's trade bill of a day with our orders: settle payments we missed, "
        "report mismatched and missing ones."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--date", type=_date, default=None, help="YYYY-MM-DD (default: yesterday in Beijing)"
        )
        parser.add_argument(
            "--backend", default=None, help="payment backend alias (default: the WeChat one)"
        )

    def handle(self, *args, date: dt.date | None, backend: str | None, **options) -> None:
        bill_date = date or yesterday_in_beijing()
        try:
            counts = compare_bill(bill_date, alias=backend)
        except (PaymentError, ValueError) as exc:
            raise CommandError(f"compare_bill {bill_date}: {exc}") from exc
        summary = ", ".join(f"{name} {counts[name]}" for name in COMPARE_COUNTS)
        extra = ", ".join(
            f"{name} {value}"
            for name, value in sorted(counts.items())
            if name not in COMPARE_COUNTS
        )
        self.stdout.write(f"compare_bill {bill_date}: {summary}" + (f", {extra}" if extra else ""))
