"""Search engines that take pushed URLs: Baidu's 普通收录 API and IndexNow.

    SEO_PUSH_ENGINES = {"baidu": {"BACKEND": "fanwen.seo.engines.BaiduPush", "OPTIONS": {...}}}

built lazily like Django's STORAGES (fanwen.lib.backends). push() returns what the engine
took and refused, raises PushError for a failed batch (retried later with backoff) and
EnginePaused when the engine takes nothing more for a while (Baidu's daily quota is used
up, IndexNow asks us to slow down).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import requests
from django.utils import timezone

from fanwen.lib.backends import BackendHandler

BEIJING = ZoneInfo("Asia/Shanghai")


class PushError(Exception):
    """This batch failed (engine down, refused our token or key): retry it later."""


class EnginePaused(Exception):
    """The engine takes nothing before `until`; the batch is not at fault."""

    def __init__(self, message: str, until: dt.datetime) -> None:
        super().__init__(message)
        self.until = until


@dataclass
class PushAnswer:
    accepted: list[str]
    # Refused for good (not this site, not a valid URL): pushing them again cannot help.
    refused: list[str] = field(default_factory=list)
    remain: int | None = None
    pause_until: dt.datetime | None = None


def next_beijing_midnight(now: dt.datetime | None = None) -> dt.datetime:
    """When Baidu's daily quota comes back (a few minutes after, for clocks that differ)."""
    local = timezone.localtime(now or timezone.now(), BEIJING)
    midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(), BEIJING)
    return midnight + dt.timedelta(minutes=5)


def beijing_today(now: dt.datetime | None = None) -> dt.date:
    return timezone.localtime(now or timezone.now(), BEIJING).date()


class PushEngine:
    batch_size = 1000

    def __init__(self, alias: str, options: dict[str, Any]) -> None:
        self.alias = alias
        self.options = options
        self.timeout = tuple(options.get("timeout", (5, 20)))
        self.secrets: list[str] = []

    def push(self, urls: list[str]) -> PushAnswer:
        raise NotImplementedError

    def _scrub(self, text: str) -> str:
        # requests puts the whole URL (Baidu's token is a query parameter) in its messages.
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "***")
        return text[:280]

    def _post(self, **kwargs: Any) -> requests.Response:
        try:
            return requests.post(timeout=self.timeout, allow_redirects=False, **kwargs)
        except requests.RequestException as exc:
            raise PushError(self._scrub(f"{self.alias} 不可达：{exc}")) from None


class BaiduPush(PushEngine):
    """POST text/plain, one URL a line, to http://data.zz.baidu.com/urls?site=…&token=…"""

    # Baidu answers "only 2000 urls are allowed once" past this.
    batch_size = 2000

    def __init__(self, alias: str, options: dict[str, Any]) -> None:
        super().__init__(alias, options)
        self.endpoint = options["endpoint"]
        self.token = options["token"]
        self.site = options["site"]
        self.batch_size = min(int(options.get("batch", 2000)), 2000)
        self.secrets = [self.token]

    def push(self, urls: list[str]) -> PushAnswer:
        response = self._post(
            url=self.endpoint,
            params={"site": self.site, "token": self.token},
            data="\n".join(urls).encode(),
            headers={"Content-Type": "text/plain"},
        )
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if response.status_code == 200 and isinstance(body.get("success"), int):
            refused = [*body.get("not_same_site", []), *body.get("not_valid", [])]
            left = [url for url in urls if url not in set(refused)]
            remain = body.get("remain") if isinstance(body.get("remain"), int) else None
            # Past the quota Baidu takes the first `success` URLs of the batch, not the rest.
            return PushAnswer(
                accepted=left[: body["success"]],
                refused=refused,
                remain=remain,
                pause_until=next_beijing_midnight() if remain == 0 else None,
            )
        message = str(body.get("message") or response.text[:200] or response.reason)
        if "over quota" in message:
            # The day's quota is gone: every push before midnight is wasted (and counted).
            raise EnginePaused(f"百度：今日配额已用完（{message}）", next_beijing_midnight())
        raise PushError(self._scrub(f"百度 {response.status_code}：{message}"))


class IndexNowPush(PushEngine):
    """POST JSON {host, key, keyLocation, urlList} to an IndexNow endpoint (Bing, Yandex, …)."""

    # The protocol's limit per request.
    batch_size = 10_000
    MEANINGS = {
        400: "请求格式不对",
        403: "密钥无效（密钥文件不存在或内容不符）",
        422: "网址不属于该主机，或密钥与主机不符",
    }

    def __init__(self, alias: str, options: dict[str, Any]) -> None:
        super().__init__(alias, options)
        self.endpoint = options["endpoint"]
        self.key = options["key"]
        self.host = options["host"]
        self.key_location = options["key_location"]
        self.batch_size = min(int(options.get("batch", 10_000)), 10_000)

    def push(self, urls: list[str]) -> PushAnswer:
        payload = {
            "host": self.host,
            "key": self.key,
            "keyLocation": self.key_location,
            "urlList": urls,
        }
        response = self._post(
            url=self.endpoint,
            json=payload,
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        if response.status_code in (200, 202):
            return PushAnswer(accepted=list(urls))
        if response.status_code == 429:
            wait = response.headers.get("Retry-After", "")
            seconds = int(wait) if wait.isdigit() else 3600
            until = timezone.now() + dt.timedelta(seconds=min(max(seconds, 60), 86400))
            raise EnginePaused("IndexNow 429：提交过于频繁", until)
        meaning = self.MEANINGS.get(response.status_code, response.text[:200] or response.reason)
        raise PushError(f"IndexNow {response.status_code}：{meaning}")


class EngineHandler(BackendHandler[PushEngine]):
    setting = "SEO_PUSH_ENGINES"
    kind = "search engine push"


engines = EngineHandler()
