"""JSON-LD of an article page: the Article and the BreadcrumbList of the visible trail.

Built only from what every reader sees for free (title, intro, dates, categories): the page
is cached and shared, and search engines show this data to anyone.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

# What django.utils.html.json_script escapes: a title holding "</script>" cannot end the block.
_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def ld_json_script(data: object) -> SafeString:
    """A <script type="application/ld+json"> block, escaped like Django's json_script."""
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))
    return format_html(
        '<script type="application/ld+json">{}</script>', mark_safe(text.translate(_SCRIPT_ESCAPES))
    )


def _w3c(moment: datetime | None) -> str | None:
    # Beijing time with its offset, as the page shows it (2025-03-01T09:30:00+08:00).
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else None


def article_graph(
    *,
    article,
    description: str,
    canonical_url: str,
    trail: Sequence,
    absolute: Callable[[str], str],
) -> list[dict]:
    """[Article, BreadcrumbList] for an article filed under `trail` (root category first)."""
    home = absolute("/")
    site = {"@type": "Organization", "name": settings.SITE_NAME, "url": home}
    publisher = {
        "@type": "Organization",
        "name": settings.FANWEN_COMPANY_NAME or settings.SITE_NAME,
    }
    entry = {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": article.display_title,
        "description": description,
        "url": canonical_url,
        "mainEntityOfPage": canonical_url,
        "datePublished": _w3c(article.published_at),
        "dateModified": _w3c(article.updated_at or article.published_at),
        "author": site,
        "publisher": publisher,
        "articleSection": trail[-1].name if trail else "",
        "inLanguage": "zh-CN",
    }
    # The breadcrumb as the page shows it: 网站首页 >> categories >> the article.
    crumbs = [("网站首页", home), *((node.name, absolute(node.url)) for node in trail)]
    crumbs.append((article.display_title, canonical_url))
    breadcrumbs = {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": n, "name": name, "item": url}
            for n, (name, url) in enumerate(crumbs, 1)
        ],
    }
    # A staff preview of an unpublished article has no dates yet: left out, not null.
    return [{key: value for key, value in entry.items() if value is not None}, breadcrumbs]
