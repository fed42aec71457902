from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "fanwen.sandbox"
    verbose_name = "支付沙箱"

    def ready(self) -> None:
        from fanwen.sandbox import checks, signals  # noqa: F401  (registers them)
