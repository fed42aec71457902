from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "fanwen.pages"
    label = "pages"
    verbose_name = "网站信息"
