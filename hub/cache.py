"""Full-page caching of public pages for anonymous visitors (issue #7, DESIGN §11).

Django's own two-part cache middleware, with one change: the cache key carries a *content
version*, a random token kept in the cache under `VERSION_KEY`. Any change to what the public
sees (a resource, a tag, an organisation, a partner: resources/signals.py) replaces the token
once its transaction commits, and every page cached under the old token is unreachable at
once: no list of keys to delete, no waiting for a timeout. A random token (not a counter)
means that an evicted version key can never bring back pages of an older version.

What is cached: GET and HEAD of the public URL names in `CACHED_VIEWS`, by visitors without a
session cookie (decided from the cookie alone: the session is never loaded, so no
`Vary: Cookie`), answered 200 without cookies, `private` or `no-store`. Redirects (the
canonical browse addresses), 400s and 404s are not cached: they are cheap and must not fill
the cache. Never: the admin, previews, health checks, staff or anyone signed in, POSTs.

Scheduled publishing: a published resource whose `published_at` is in the future appears
without a save. The version remembers when the next one is due; the first request after that
moment replaces the token, and no response says it is fresh beyond that moment (max-age and
s-maxage are capped), so browsers and CDNs do not keep the old page either.

A page rendered on a database connection whose transaction holds uncommitted content changes
(the change's own request, or a test inside a transaction) is neither served from nor stored
in the cache: after a rollback, it would be a page of content that never existed.

With the local-memory cache (the default) each process has its own pages and version; several
app servers or gunicorn workers need the shared Redis cache (`REDIS_URL`) so that one
version bump reaches them all.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest, HttpResponse
from django.middleware.cache import FetchFromCacheMiddleware, UpdateCacheMiddleware
from django.urls import Resolver404, resolve
from django.utils.cache import (
    get_cache_key,
    has_vary_header,
    learn_cache_key,
    patch_cache_control,
    set_response_etag,
)
from django.utils.http import split_directive_names

logger = logging.getLogger(__name__)

VERSION_KEY = "hub.content-version"

# Public pages whose answer depends only on the address (language prefix included), the
# content version and, for the widget, Accept-Language. Left out on purpose: previews and the
# admin (staff), health checks (must reach the process), `resources:plan` (a personal list of
# `?r=` slugs, rarely asked twice, that prints today's date).
CACHED_VIEWS = frozenset(
    {
        "resources:home",
        "resources:list",
        "resources:detail",
        "resources:safety",
        "resources:about",
        "resources:self-check",
        "resources:clinics",
        "resources:clinics-handout",
        "resources:clinics-qr-png",
        "resources:clinics-qr-svg",
        "resources:feed-rss",
        "resources:feed-atom",
        "resources:programmes",
        "resources:programme-detail",
        "resources:support",
        "resources:support-sheet",
        "embed",
        "sitemap",
        "robots-txt",
        "api:list_resources",
        "api:resource_detail",
        "api:vocabularies",
        "api:openapi-json",
        "api:openapi-view",
        "hsds:services",
        "hsds:service",
        "hsds:organizations",
        "hsds:organization",
    }
)
# Addresses without a language prefix make LocaleMiddleware add `Vary: Accept-Language`.
# These answer the same whatever the browser's languages (the API takes `?ui=`, the sitemap
# lists every language), so the header would only split caches, ours and CDNs', for nothing.
# The widget (`embed`) really is in the browser's language, and keeps it.
LANGUAGE_INDEPENDENT_VIEWS = frozenset(
    name for name in CACHED_VIEWS if name.startswith("api:") or name in {"sitemap", "robots-txt"}
)


@dataclass(frozen=True)
class ContentVersion:
    """The token in every page's cache key, and when the next scheduled publication is due
    (Unix time), after which the token must change."""

    token: str
    changes_at: float | None = None

    def is_current(self, now: float) -> bool:
        return self.changes_at is None or now < self.changes_at

    def seconds_left(self, now: float) -> float | None:
        return None if self.changes_at is None else self.changes_at - now


def page_cache() -> BaseCache:
    return caches[settings.CACHE_MIDDLEWARE_ALIAS]


def _next_scheduled_publication() -> float | None:
    """When the next resource marked published, but dated in the future, becomes public."""
    from resources.models import Resource

    upcoming = (
        Resource.objects.scheduled()
        .order_by("published_at")
        .values_list("published_at", flat=True)
        .first()
    )
    return upcoming.timestamp() if upcoming else None


def bump_content_version() -> ContentVersion:
    """Make every cached page stale now. Call it after writes that bypass model signals
    (`QuerySet.update()`, raw SQL), ideally through `transaction.on_commit()`.

    One query (the next scheduled publication) and one cache write. A cache outage is logged,
    not raised: the editor's change is saved either way.
    """
    version = ContentVersion(uuid.uuid4().hex, _next_scheduled_publication())
    try:
        page_cache().set(VERSION_KEY, (version.token, version.changes_at), None)
    except Exception:  # any backend's connection error; the save itself must not fail
        logger.exception("Could not bump the page cache's content version")
    return version


def content_version() -> ContentVersion:
    """The current version: one cache read, plus a bump when it is missing or has expired."""
    stored = page_cache().get(VERSION_KEY)
    if stored is not None:
        version = ContentVersion(*stored)
        if version.is_current(time.time()):
            return version
    return bump_content_version()


class _BumpOnCommit:
    """The on_commit callback, recognisable in a connection's pending callbacks."""

    def __init__(self) -> None:
        self.done = False

    def __call__(self) -> None:
        self.done = True
        bump_content_version()


def _pending_bump(connection: BaseDatabaseWrapper) -> bool:
    # `run_on_commit` holds the callbacks of the open transaction; Django drops those of a
    # rolled-back savepoint or transaction, so "pending" ends with the change itself.
    return any(
        isinstance(callback, _BumpOnCommit) and not callback.done
        for _sids, callback, _robust in connection.run_on_commit
    )


def content_changed(using: str | None = None) -> None:
    """Public content changed: bump the version when the transaction commits (at once outside
    one), once per transaction however many rows it touches. A rollback bumps nothing, and
    readers who cached the old content between the save and the commit are outdated by it."""
    if not _pending_bump(transaction.get_connection(using)):
        transaction.on_commit(_BumpOnCommit(), using=using)


def has_uncommitted_content_changes() -> bool:
    return any(_pending_bump(connection) for connection in connections.all(initialized_only=True))


def _view_name(request: HttpRequest) -> str | None:
    """The URL name, resolved early; also given to ReferralCountMiddleware, which needs the
    view on a cache hit (the link builder's `?ref=` is not a visit)."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    request.resolver_match = match
    return match.view_name


def is_cacheable_request(request: HttpRequest) -> bool:
    """Anonymous GET/HEAD of a cached public page, decided without loading the session."""
    return (
        settings.HUB_PAGE_CACHE_SECONDS > 0
        and request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "Authorization" not in request.headers
        and not has_uncommitted_content_changes()
        and _view_name(request) in CACHED_VIEWS
    )


def _key_prefix(version: ContentVersion) -> str:
    return f"{settings.CACHE_MIDDLEWARE_KEY_PREFIX}.{version.token}"


class FetchPageCacheMiddleware(FetchFromCacheMiddleware):
    """Serves a cached page. Low in MIDDLEWARE (below LocaleMiddleware: the language is part
    of the key), above DatabaseOutageMiddleware and the views."""

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        request._cache_update_cache = False
        if not is_cacheable_request(request):
            return None
        try:
            version = content_version()
            prefix = _key_prefix(version)
            with _key_language(request):
                cache_key = get_cache_key(request, prefix, "GET", cache=self.cache)
            response = self.cache.get(cache_key) if cache_key else None
        except Exception:  # a cache outage costs speed, never the page
            logger.exception("Page cache unavailable")
            return None
        request._hub_cache_version = version
        if response is None:
            request._cache_update_cache = True
            return None
        request._hub_cache_hit = True
        stored_at = getattr(response, "_hub_cached_at", time.time())
        response["Age"] = str(max(0, int(time.time() - stored_at)))
        return response


class UpdatePageCacheMiddleware(UpdateCacheMiddleware):
    """Stores a page and sets the headers for browsers and CDNs. High in MIDDLEWARE (below
    ReferralCountMiddleware, which must still count visits answered from the cache; above
    SessionMiddleware and LocaleMiddleware, whose headers are part of the stored page)."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if getattr(request, "_hub_cache_hit", False):
            # LocaleMiddleware, below, has added its Vary again.
            return _without_needless_vary(request, response)
        if not self._should_update_cache(request, response):
            return response
        version: ContentVersion = request._hub_cache_version
        now = time.time()
        seconds = settings.HUB_PAGE_CACHE_SECONDS
        if (left := version.seconds_left(now)) is not None:
            seconds = min(seconds, int(left))
        if seconds <= 0 or not _is_cacheable_response(request, response):
            return response
        _without_needless_vary(request, response)
        patch_cache_control(
            response,
            public=True,
            max_age=min(settings.HUB_BROWSER_CACHE_SECONDS, seconds),
            s_maxage=seconds,
        )
        if response.content:  # the API answers HEAD without a body: no ETag of nothing
            set_response_etag(response)
        if request.method != "GET":
            return response  # a HEAD answer has the headers but may lack the body
        response._hub_cached_at = now
        try:
            with _key_language(request):
                key = learn_cache_key(request, response, seconds, _key_prefix(version), self.cache)
            self.cache.set(key, response, seconds)
        except Exception:
            logger.exception("Page cache unavailable")
        return response


def _is_cacheable_response(request: HttpRequest, response: HttpResponse) -> bool:
    """A complete 200 that is the same for every anonymous visitor."""
    session = getattr(request, "session", None)
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not (session is not None and session.accessed)
        and not has_vary_header(response, "Cookie")
        and not has_vary_header(response, "*")
        and not set(split_directive_names(response.get("Cache-Control", "")))
        & {"private", "no-cache", "no-store"}
    )


def _is_language_independent(request: HttpRequest) -> bool:
    match = getattr(request, "resolver_match", None)
    return match is not None and match.view_name in LANGUAGE_INDEPENDENT_VIEWS


@contextmanager
def _key_language(request: HttpRequest) -> Iterator[None]:
    """Django's cache keys end with the request's language (`request.LANGUAGE_CODE`, from
    Accept-Language where the address has no prefix): a page that is the same in every
    language is keyed in the default one, so it is one entry, not one per language."""
    if not _is_language_independent(request):
        yield
        return
    chosen = getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE)
    request.LANGUAGE_CODE = settings.LANGUAGE_CODE
    try:
        yield
    finally:
        request.LANGUAGE_CODE = chosen


def _without_needless_vary(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    if not _is_language_independent(request):
        return response
    kept = [
        value.strip()
        for value in response.get("Vary", "").split(",")
        if value.strip() and value.strip().lower() != "accept-language"
    ]
    if kept:
        response["Vary"] = ", ".join(kept)
    elif response.has_header("Vary"):
        del response["Vary"]
    return response
