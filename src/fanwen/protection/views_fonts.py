"""Serves the built article fonts: immutable files, since a new version or epoch is a new name.

From the "fonts" storage's folder, or with a bucket from this node's copy (fetched on first use).
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

from fanwen.protection.fonts import font_path


@require_GET
def article_font(request: HttpRequest, name: str) -> FileResponse:
    path = font_path(name)
    if path is None:
        raise Http404("no such font")
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise Http404("no such font") from None
    response = FileResponse(handle, content_type="font/woff2")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
