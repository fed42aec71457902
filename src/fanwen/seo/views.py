"""The IndexNow key file: /<key>.txt holding the key proves the pushes come from the site."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse

from fanwen.seo.engines import IndexNowPush, engines


def indexnow_key(request: HttpRequest, key: str) -> HttpResponse:
    for alias in engines.configured:
        engine = engines[alias]
        if isinstance(engine, IndexNowPush) and engine.key == key:
            return HttpResponse(key, content_type="text/plain; charset=utf-8")
    raise Http404("没有这个文件")
