from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "fanwen.accounts"
    verbose_name = "访客与账户"

    def ready(self) -> None:
        from fanwen.accounts import loginlimits, signals  # noqa: F401  (connect receivers)
