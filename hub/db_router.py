"""Read replicas (issue #12 part 5): anonymous public reads go to a streaming replica.

`DATABASE_REPLICA_URLS` (comma-separated database URLs) adds the aliases `replica_1`, … to
DATABASES and this router to DATABASE_ROUTERS (hub/settings.py). Without it nothing changes.

Which reads may go to a replica is decided per request by `ReplicaRoutingMiddleware`:
anonymous GET or HEAD of a public page (the page cache's list, `hub.cache.CACHED_VIEWS`: no
admin, no preview, no health check), without a session cookie or credentials. Everything else
reads the primary, as do:

- any read after a write in the same request (the router sees every write: `db_for_write`),
- any read inside a transaction on the primary,
- code outside a request (commands, the shell, migrations, tests).

The subtle case: the page cache (hub/cache.py) stores a page under the content version it
read at the start of the request. A replica that has not yet replayed the commit that
created that version would fill the new version's cache entry with the old content, and
nobody would ever see the change until the next publish. So a request may read a replica
only once that replica has replayed at least the primary's WAL position at the time the
version was first seen (`_version_lsn`: stored in the shared cache by the first process that
sees the token, an upper bound of the commit that created it); otherwise the request reads
the primary. A lagging replica therefore costs the primary some reads, never a stale page.
The facet counts' cache (resources/catalogue/filters.py) asks `read_is_current()` before storing.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

REPLICA_PREFIX = "replica_"
LSN_KEY = "hub.version-lsn"
# Replayed positions only grow, so a remembered one is a safe lower bound for this long.
REPLAY_MEMORY_SECONDS = 0.25


@dataclass
class _Reads:
    """The routing state of one request."""

    replica: str | None  # the alias this request may read from, if any
    wrote: bool = False


_reads: ContextVar[_Reads | None] = ContextVar("hub_reads", default=None)
_version_lsns: dict[str, int] = {}
_replayed: dict[str, tuple[float, int]] = {}


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias.startswith(REPLICA_PREFIX)]


class ReplicaRouter:
    """Reads to the request's replica when allowed, everything else to the primary."""

    def db_for_read(self, model: type, **hints: Any) -> str:
        reads = _reads.get()
        if (
            reads is None
            or reads.replica is None
            or reads.wrote
            or connections[DEFAULT_DB_ALIAS].in_atomic_block
        ):
            return DEFAULT_DB_ALIAS
        return reads.replica

    def db_for_write(self, model: type, **hints: Any) -> str:
        reads = _reads.get()
        if reads is not None:
            reads.wrote = True  # read-your-writes for the rest of the request
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the replicas hold the same data

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS


def _wal_position(alias: str) -> int:
    """The WAL position a database has: replayed (a standby) or written (a primary)."""
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
            "ELSE pg_current_wal_lsn() END - '0/0'::pg_lsn)::bigint"
        )
        (position,) = cursor.fetchone()
    return int(position or 0)


def _version_lsn(token: str) -> int:
    """The primary's WAL position when this content version was first seen: at or after the
    commit that made it (the token is stored only after that commit)."""
    if token in _version_lsns:
        return _version_lsns[token]
    from hub.cache import page_cache

    key = f"{LSN_KEY}.{token}"
    position = page_cache().get(key)
    if position is None:
        page_cache().add(key, _wal_position(DEFAULT_DB_ALIAS), 86400)
        position = page_cache().get(key)
    if len(_version_lsns) > 64:
        _version_lsns.clear()
    _version_lsns[token] = int(position)
    return _version_lsns[token]


def replica_is_current(alias: str, token: str) -> bool:
    """Has this replica replayed everything the content version `token` stands for?"""
    needed = _version_lsn(token)
    seen_at, replayed = _replayed.get(alias, (0.0, -1))
    if replayed >= needed:
        return True
    if time.monotonic() - seen_at < REPLAY_MEMORY_SECONDS and replayed >= 0:
        return False
    replayed = _wal_position(alias)
    _replayed[alias] = (time.monotonic(), replayed)
    return replayed >= needed


def read_is_current(version: Any) -> bool:
    """May data read so far in this request be cached under `version` (a
    `hub.cache.ContentVersion`)? True unless it came from a replica that lags behind it."""
    reads = _reads.get()
    if reads is None or reads.replica is None:
        return True
    try:
        return replica_is_current(reads.replica, version.token)
    except Exception:
        logger.exception("Could not compare the replica's position")
        return False


def _may_read_replica(request: HttpRequest) -> bool:
    from hub.cache import CACHED_VIEWS

    if request.method not in ("GET", "HEAD"):
        return False
    if settings.SESSION_COOKIE_NAME in request.COOKIES or "Authorization" in request.headers:
        return False
    match = getattr(request, "resolver_match", None)
    if match is None:
        from django.urls import Resolver404, resolve

        try:
            match = resolve(request.path_info)
        except Resolver404:
            return False
    return match.view_name in CACHED_VIEWS


class ReplicaRoutingMiddleware:
    """Marks an anonymous public read as allowed on a replica. Below the page cache's fetch
    middleware, so that it knows the content version the page would be stored under."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.aliases = replica_aliases()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        replica = None
        if self.aliases and _may_read_replica(request):
            replica = random.choice(self.aliases)  # noqa: S311 - spreading load, not a secret
            version = getattr(request, "_hub_cache_version", None)
            try:
                if version is not None and not replica_is_current(replica, version.token):
                    replica = None  # lagging behind the version this page would be cached as
            except Exception:  # an unreachable replica: the primary answers
                logger.exception("Replica %s unavailable", replica)
                replica = None
        request._hub_read_from = replica or DEFAULT_DB_ALIAS
        token = _reads.set(_Reads(replica=replica))
        try:
            return self.get_response(request)
        finally:
            _reads.reset(token)
