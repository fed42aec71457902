from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "fanwen.payments"
    verbose_name = "支付"

    def ready(self) -> None:
        from fanwen.payments import signals  # noqa: F401  (rebuilds backends when settings change in tests)
