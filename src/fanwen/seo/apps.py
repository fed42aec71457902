from django.apps import AppConfig


class SeoConfig(AppConfig):
    name = "fanwen.seo"
    verbose_name = "搜索引擎推送"

    def ready(self) -> None:
        from fanwen.seo import checks, signals  # noqa: F401  (registers them)
