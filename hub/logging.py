"""Logs for operators: one JSON object per line on stdout, a request id on every line.

What is logged is chosen with the hub's visitors in mind (no tracking, docs/architecture.md): a
request line carries the method, the path, the status and the time taken, never the query string
(it holds what a visitor searched for, `q`), never cookies or IP addresses. Addresses appear
only in the security log (hub.auth), where a lockout needs them.

`LOGGING` in hub/settings.py wires these up; this module is imported while settings are being
configured, before the apps are loaded, so it imports no models.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
# What we accept from a proxy's or a client's X-Request-ID: a short token that cannot break a
# log line or a header. Anything else is replaced by a fresh id.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
# Successful answers to the load balancer's health polls (every few seconds) are not logged;
# failures are.
QUIET_PATHS = frozenset({"/healthz", "/readyz"})
# Attributes a record may carry (through `extra=`) that become fields of the JSON line.
EXTRA_FIELDS = (
    "method",
    "path",
    "status",
    "duration_ms",
    "event",
    "reason",
    "username",
    "username_hash",
    "client_ip",
)

_current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
request_log = logging.getLogger("hub.request")


class RequestIdFilter(logging.Filter):
    """Give every record the id of the request it was logged in (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = _current_request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, with the fields a log search needs."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "timestamp": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for field in EXTRA_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                entry[field] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Human-readable lines for a developer's terminal, with the request id when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        return f"{line} [{request_id}]" if request_id else line


def _request_id_for(request: HttpRequest) -> str:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    if SAFE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def request_log_middleware(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Tag the request with an id, echo it in `X-Request-ID`, and log one line per request.

    First in MIDDLEWARE, so redirects and error pages made by other middleware are logged too.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        request_id = _request_id_for(request)
        request.request_id = request_id  # type: ignore[attr-defined]
        token = _current_request_id.set(request_id)
        started = time.perf_counter()
        try:
            response = get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            if response.status_code >= 400 or request.path not in QUIET_PATHS:
                request_log.log(
                    logging.ERROR if response.status_code >= 500 else logging.INFO,
                    "%s %s %s",
                    request.method,
                    request.path,
                    response.status_code,
                    extra={
                        "method": request.method,
                        # The path only: the query string can hold a visitor's search text.
                        "path": request.path,
                        "status": response.status_code,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    },
                )
            return response
        finally:
            _current_request_id.reset(token)

    return middleware
