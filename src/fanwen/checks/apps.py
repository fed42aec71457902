from django.apps import AppConfig


class ChecksConfig(AppConfig):
    name = "fanwen.checks"
    label = "checks"
    verbose_name = "原创度检测"
