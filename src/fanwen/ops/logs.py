"""Log records that say which request (or worker job) wrote them, as text or JSON lines.

The request id lives in a context variable set by the request-id middleware (and by the
WSGI fast path); ContextFilter copies it onto every record, so any logger's lines carry it
without being passed it. FANWEN_LOG_FORMAT=json selects JsonFormatter (one object a line).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

request_id_var: ContextVar[str] = ContextVar("fanwen_request_id", default="")
job_var: ContextVar[str] = ContextVar("fanwen_job", default="")

# What a proxy or client may hand us as the id: short and harmless in a header or a log.
SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# Attributes of the request line (and of any record given them with `extra=`).
REQUEST_FIELDS = ("method", "path", "status", "duration_ms")


def accepted_id(incoming: str | None) -> str:
    """The incoming X-Request-ID when it is a sane token, else a new one."""
    if incoming and SANE_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


@contextmanager
def job_context(name: str) -> Iterator[None]:
    token = job_var.set(name)
    try:
        yield
    finally:
        job_var.reset(token)


class ContextFilter(logging.Filter):
    """Adds request_id and job (empty outside one) and `context`, their text for the plain format."""

    def filter(self, record: logging.LogRecord) -> bool:
        # django.request logs a 4xx/5xx answer after the middleware chain has returned, when
        # the context is gone: the request it passes along still has its id.
        request_id = (
            getattr(record, "request_id", None)
            or request_id_var.get()
            or getattr(getattr(record, "request", None), "request_id", "")
        )
        job = getattr(record, "job", None) or job_var.get()
        record.request_id = request_id
        record.job = job
        parts = [f"request_id={request_id}"] if request_id else []
        if job:
            parts.append(f"job={job}")
        record.context = (" [" + " ".join(parts) + "]") if parts else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request_id, job and request fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or request_id_var.get(),
        }
        job = getattr(record, "job", "") or job_var.get()
        if job:
            entry["job"] = job
        for name in REQUEST_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


def log_request(
    logger: logging.Logger,
    method: str,
    path: str,
    status: int,
    duration_ms: float,
    *,
    request_id: str = "",
) -> None:
    """The request line; health probes every few seconds are DEBUG, not noise."""
    level = logging.DEBUG if path == "/healthz" else logging.INFO
    if not logger.isEnabledFor(level):
        return
    duration_ms = round(duration_ms, 1)
    extra = {"method": method, "path": path, "status": status, "duration_ms": duration_ms}
    if request_id:
        extra["request_id"] = request_id
    logger.log(level, "%s %s %s %.1fms", method, path, status, duration_ms, extra=extra)
