from django.apps import AppConfig


class LibraryConfig(AppConfig):
    name = "fanwen.library"
    verbose_name = "文库"

    def ready(self) -> None:
        from fanwen.library import signals  # noqa: F401  (connects cache purging)
