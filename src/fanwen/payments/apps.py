from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "fanwen.payments"
    verbose_name = "支付"

    def ready(self) -> None:
        # signals: rebuilds backends when settings change in tests; checks: registers them.
        from fanwen.payments import checks, signals  # noqa: F401
