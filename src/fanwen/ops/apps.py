from django.apps import AppConfig


class OpsConfig(AppConfig):
    """The worker and the job commands that run the other apps' periodic jobs."""

    name = "fanwen.ops"
    verbose_name = "后台任务"
