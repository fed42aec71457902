"""Copy gating, font obfuscation, crawler verification, page rate limits and the buyer mark."""

from django.apps import AppConfig


class ProtectionConfig(AppConfig):
    name = "fanwen.protection"
    verbose_name = "内容保护"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from fanwen.protection import checks, signals  # noqa: F401  (registers them)
