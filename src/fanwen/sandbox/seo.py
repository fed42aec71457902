"""Emulated search-engine push endpoints: Baidu's 普通收录 API and IndexNow.

They check what the real ones check (token or key, that the URLs belong to the site, batch
size, Baidu's daily quota), answer in their formats and keep every push in SandboxPush, so
the demo shows what the worker sent (/sandbox/seo/pushes.json) without a Baidu account.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from fanwen.sandbox.models import SandboxPush
from fanwen.seo.engines import beijing_today

BAIDU_BATCH = 2000
INDEXNOW_BATCH = 10_000
INDEXNOW_KEY = re.compile(r"^[A-Za-z0-9-]{8,128}$")


def _host(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc.lower() if parts.scheme in {"http", "https"} else ""


def _registered_host() -> str:
    # The site "verified" with the emulated engines: the one whose URLs the worker pushes.
    return _host(settings.FANWEN_PUSH_ORIGIN)


def _baidu_error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": status, "message": message}, status=status)


@csrf_exempt
@require_POST
def baidu_urls(request: HttpRequest) -> HttpResponse:
    """POST /urls?site=…&token=… with one URL a line, as http://data.zz.baidu.com/urls."""
    if request.GET.get("token") != settings.FANWEN_SANDBOX_BAIDU_TOKEN:
        return _baidu_error(401, "token is not valid")
    site = request.GET.get("site", "")
    # Registered as "www.example.cn" (http) or "https://www.example.cn".
    site_host = _host(site) or site.lower().strip("/")
    if not site_host or site_host != _registered_host():
        return _baidu_error(400, "site error")
    lines = [line.strip() for line in request.body.decode("utf-8", "replace").splitlines()]
    urls = [line for line in lines if line]
    if not urls:
        return _baidu_error(400, "empty content")
    if len(urls) > BAIDU_BATCH:
        return _baidu_error(400, "only 2000 urls are allowed once")
    not_valid = [url for url in urls if not _host(url)]
    not_same_site = [url for url in urls if _host(url) and _host(url) != site_host]
    valid = [url for url in urls if _host(url) == site_host]
    today = beijing_today()
    with transaction.atomic():
        # One push at a time counts against the day's quota.
        pushes = SandboxPush.objects.select_for_update().filter(engine="baidu", day=today)
        used = sum(len(push.accepted) for push in pushes)
        remain = max(settings.FANWEN_SANDBOX_BAIDU_QUOTA - used, 0)
        if remain == 0:
            answer, status, accepted = {"error": 400, "message": "over quota"}, 400, []
        else:
            # Past the quota Baidu takes the first URLs of the batch and says remain 0.
            accepted = valid[:remain]
            answer = {
                "remain": remain - len(accepted),
                "success": len(accepted),
                "not_same_site": not_same_site,
                "not_valid": not_valid,
            }
            status = 200
        SandboxPush.objects.create(
            engine="baidu",
            site=site,
            day=today,
            status=status,
            accepted=accepted,
            refused=not_same_site + not_valid,
            answer=answer,
        )
    return JsonResponse(answer, status=status)


@csrf_exempt
@require_POST
def indexnow(request: HttpRequest) -> HttpResponse:
    """POST JSON {host, key, keyLocation, urlList}, as https://api.indexnow.org/indexnow."""
    try:
        data = json.loads(request.body)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("urlList"), list):
        return HttpResponse("Bad request", status=400)
    host, key = str(data.get("host", "")).lower(), str(data.get("key", ""))
    urls = [str(url) for url in data["urlList"]]
    location = str(data.get("keyLocation") or f"https://{host}/{key}.txt")

    def answer(status: int, text: str, accepted: list[str] | None = None) -> HttpResponse:
        SandboxPush.objects.create(
            engine="indexnow",
            site=host,
            day=beijing_today(),
            status=status,
            accepted=accepted or [],
            refused=[] if accepted else urls,
            answer={"status": status, "text": text},
        )
        return HttpResponse(text, status=status, content_type="text/plain")

    if not urls or len(urls) > INDEXNOW_BATCH:
        return answer(400, "Bad request")
    if not INDEXNOW_KEY.match(key) or key != settings.FANWEN_SANDBOX_INDEXNOW_KEY:
        return answer(403, "Forbidden: the key is not valid")
    # The key file must be on the host, and the host the site the key was made for.
    if (
        host != _registered_host()
        or _host(location) != host
        or not location.endswith(f"/{key}.txt")
    ):
        return answer(422, "Unprocessable Entity: the key does not match the host")
    if any(_host(url) != host for url in urls):
        return answer(422, "Unprocessable Entity: URLs do not belong to the host")
    return answer(200, "OK", urls)


@require_GET
def pushes(request: HttpRequest) -> JsonResponse:
    """What the emulated engines were sent, newest first (?engine=baidu|indexnow)."""
    rows = SandboxPush.objects.all()
    if request.GET.get("engine"):
        rows = rows.filter(engine=request.GET["engine"])
    listed = rows.values("engine", "site", "day", "status", "accepted", "refused", "answer")
    items = [{**row, "day": row["day"].isoformat()} for row in listed[:100]]
    return JsonResponse({"pushes": items}, json_dumps_params={"ensure_ascii": False})


# Used by the tests: how many URLs the emulated Baidu took today.
def baidu_taken_today() -> int:
    pushes = SandboxPush.objects.filter(engine="baidu", day=beijing_today(), status=200)
    return sum(len(push.accepted) for push in pushes.only("accepted"))
