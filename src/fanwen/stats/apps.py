from django.apps import AppConfig


class StatsConfig(AppConfig):
    name = "fanwen.stats"
    label = "stats"
    verbose_name = "统计"
