from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "fanwen.staff"
    label = "staff"
    verbose_name = "工作台"
