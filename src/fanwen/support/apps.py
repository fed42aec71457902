from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "fanwen.support"
    label = "support"
    verbose_name = "客服"
