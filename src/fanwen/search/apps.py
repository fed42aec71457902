from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "fanwen.search"
    verbose_name = "搜索"

    def ready(self) -> None:
        from fanwen.search import signals  # noqa: F401  (outbox rows for library writes)
