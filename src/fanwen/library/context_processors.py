from django.conf import settings
from django.http import HttpRequest

from fanwen.library.catalog import category_tree

DEFAULT_DESCRIPTION = (
    "免费阅读各类范文：工作总结、工作计划、心得体会、演讲稿、作文等，按分类整理，手机电脑都能看。"
)


def absolute_url(request: HttpRequest, path: str) -> str:
    """SITE_URL + path when the site has a fixed origin, else the request's own origin."""
    if settings.SITE_URL:
        return settings.SITE_URL + path
    return request.build_absolute_uri(path)


def site(request: HttpRequest) -> dict:
    # Callables: the template calls them only when a page uses them (admin pages never do).
    return {
        "site_name": settings.SITE_NAME,
        "nav_categories": lambda: category_tree().roots,
        "canonical_url": lambda: absolute_url(request, request.path),
        "meta_description": DEFAULT_DESCRIPTION,
    }
