"""Health checks for load balancers, and the security contact file (RFC 9116).

`/healthz` says the process answers: it touches neither the database nor the cache, so an
outage elsewhere never gets a healthy app server restarted. `/readyz` says whether this server
can serve pages now (database, migrations); a load balancer takes it out of rotation while it
answers 503. The cache is checked too, but pages work without it (slower: hub/cache.py), so a
cache that fails makes the answer 200 with `"status": "degraded"`, never 503: with one shared
Redis down, a 503 would have the load balancer pull every server at once. A successful cache
probe also lets the page cache's circuit breaker use the cache again at once.

Both are cheap enough to poll every few seconds: one `SELECT 1`, one cache set and get (each
bounded by HUB_CACHE_TIMEOUT_MS), and the migration check is remembered for a minute once
everything is applied.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from hub.cache import breaker, page_cache

logger = logging.getLogger(__name__)

# Seconds an "every migration is applied" answer is trusted. Only that answer is remembered,
# and it is not worked out once at startup: in a rolling deploy a server may start before
# `migrate` has run, and must turn ready on the first poll after it without a restart. A
# migration rolled back while the server runs is noticed within this time.
MIGRATIONS_TRUSTED_FOR = 60.0
CACHE_PROBE_SECONDS = 5


class NotReady(Exception):
    """A check ran but found the server unable to serve (not a crash of the check)."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details = details


class _MigrationState:
    """Until when (time.monotonic()) this process trusts that every migration is applied.

    Building the migration graph imports every migration module and reads the
    django_migrations table: tens of milliseconds and two queries, too much for every poll.
    The migration files cannot change under a running process, only the database can.
    """

    applied_until: float = 0.0


def _check_database() -> dict[str, Any]:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {}


def _check_cache() -> dict[str, Any]:
    # A fresh key per probe: app servers polled at the same moment never read each other's.
    key = f"hub:readyz:{secrets.token_hex(8)}"
    cache = page_cache()
    try:
        cache.set(key, "ok", timeout=CACHE_PROBE_SECONDS)
        if cache.get(key) != "ok":
            raise NotReady("the cache did not return what was just stored")
    except Exception:
        breaker.failed()
        raise
    breaker.succeeded()
    return {}


def _check_migrations() -> dict[str, Any]:
    now = time.monotonic()
    if now < _MigrationState.applied_until:
        return {"cached": True}
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        raise NotReady(f"{len(plan)} migration(s) not applied", unapplied=len(plan))
    _MigrationState.applied_until = now + MIGRATIONS_TRUSTED_FOR
    return {"cached": False}


def _run(name: str, check: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        result: dict[str, Any] = {"status": "ok", **check()}
    except Exception as exc:  # any failure means "not ready", never a 500
        result = {"status": "error", "error": exc.__class__.__name__}
        if isinstance(exc, NotReady):
            result.update(exc.details)
        # The class and the driver's first line ("connection refused", "timeout expired"):
        # enough for an operator, and no driver puts a password in it.
        message = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        logger.warning(
            "Readiness check %s failed: %s: %s",
            name,
            result["error"],
            message,
            extra={"event": "not_ready"},
        )
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    return _no_store(JsonResponse({"status": "ok"}))


@require_safe
def readyz(request: HttpRequest) -> HttpResponse:
    checks = {"database": _run("database", _check_database)}
    checks["cache"] = _run("cache", _check_cache)
    if checks["database"]["status"] == "ok":
        checks["migrations"] = _run("migrations", _check_migrations)
    else:
        # Without a database the answer is known, and asking again would wait for a second
        # connection timeout.
        checks["migrations"] = {"status": "skipped", "ms": 0.0}
    if checks["cache"]["status"] == "error":
        checks["cache"]["status"] = "degraded"  # pages are served without it
    ready = all(check["status"] != "error" for check in checks.values())
    degraded = any(check["status"] == "degraded" for check in checks.values())
    status = ("degraded" if degraded else "ok") if ready else "unavailable"
    body = {"status": status, "checks": checks}
    response = JsonResponse(body, status=200 if ready else 503)
    # Each failed check was logged as a warning; django.request need not add an error per poll.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return _no_store(response)


def security_contacts() -> list[str]:
    """HUB_SECURITY_CONTACT as URIs: one or more, separated by spaces; a bare e-mail address
    becomes a mailto: link."""
    return [
        contact if ":" in contact else f"mailto:{contact}"
        for contact in settings.HUB_SECURITY_CONTACT.split()
    ]


@require_safe
def security_txt(request: HttpRequest) -> HttpResponse:
    # Midnight UTC plus 365 days: the same all day long, and always less than a year ahead
    # (RFC 9116 recommends less than a year).
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    expires = (today + timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = [f"Contact: {contact}" for contact in security_contacts()]
    lines += [
        f"Expires: {expires}",
        "Preferred-Languages: en",
        f"Canonical: https://{request.get_host()}{reverse('security-txt')}",
    ]
    response = HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "public, max-age=3600"
    return response
