from django.urls import re_path

from fanwen.protection.fonts import NAME_PATTERN
from fanwen.protection.views_fonts import article_font

app_name = "protection"

urlpatterns = [
    re_path(rf"^f/(?P<name>{NAME_PATTERN})\.woff2$", article_font, name="font"),
]
