"""Full-page caching of public pages for anonymous visitors (docs/architecture.md).

Django's own two-part cache middleware, with one change: the cache key carries a *content
version*, a random token. Any change to what the public sees (a resource, a tag, an
organisation, a partner: resources/signals.py) replaces the token once its transaction
commits, and every page cached under the old token is unreachable at once: no list of keys to
delete, no waiting for a timeout.

The token lives in the DATABASE (`hub.models.ContentVersion`), not in the cache (issue #16):
a change made while the cache is unreachable still replaces it, so once the cache answers
again no page older than the last committed change is served. A change also inserts a
`PendingContentChange` row in its own transaction; the token change after the commit deletes
it. Should that step fail (the process dies, the database drops the connection between the
two), the row is committed with the change and the next request replaces the token before it
reads the cache. Reading the version is one row (`SELECT token, changes_at, EXISTS(pending)`
by primary key), at most once a second per process (below). While the database is down
there is no version, so the page cache is skipped (pages that need the database answer 503
anyway; the others render).

What is cached: GET and HEAD of the public URL names in `CACHED_VIEWS`, by anonymous visitors,
answered 200 without cookies, `private` or `no-store`. A visitor is anonymous without a
session cookie, or when the cookie names no session with data in it: a made-up or expired
cookie is loaded once (the same load the view would make) and served the cached page, so it
cannot be used to make every request render. Redirects (the canonical browse addresses),
400s and 404s are not cached: they are cheap and must not fill the cache. Never: the admin,
previews, health checks, staff or anyone signed in, POSTs. Browsers get `max-age` of
`HUB_BROWSER_CACHE_SECONDS` (default 0: they ask again each time and get a 304 for an
unchanged page, so an unpublished resource is gone on their next visit too); CDNs get
`s-maxage` of `HUB_PAGE_CACHE_SECONDS`.

Scheduled publishing: a published resource whose `published_at` is in the future appears
without a save. The version remembers when the next one is due; the first request after that
moment replaces the token, and no response says it is fresh beyond that moment (max-age and
s-maxage are capped), so browsers and CDNs do not keep the old page either.

A page rendered on a database connection whose transaction holds uncommitted content changes
(the change's own request, or a test inside a transaction) is neither served from nor stored
in the cache: after a rollback, it would be a page of content that never existed.

A cache that fails or hangs costs speed, never the page: short socket timeouts
(`HUB_CACHE_TIMEOUT_MS`), and after a failure the `CircuitBreaker` skips the cache for
`HUB_CACHE_BREAKER_SECONDS` in this process, then lets one request try again. /readyz reports
the cache as degraded and stays 200 (hub/health.py).

One shared-cache read per hit (issue #12). Django keeps two entries per address: the header
list the page varies on (learned from its `Vary`), and the page under a key made from that list.
Read one after the other they cost two round trips. Here both are read with one `get_many`: the
page key is predicted from the header lists this process has learned for the view (a view
varies on the same headers every time; the widget and language-prefix-less addresses on
Accept-Language, the rest on nothing), and checked against the list actually read, exactly as
Django's `get_cache_key` would compute it. A wrong or missing prediction (the first hit in a
new process) costs the second read, never a wrong page. Both entries are written with one
`set_many`. Django's own key functions (`get_cache_key`, `learn_cache_key`) make every key.

The version held in process: each process keeps the version it read for at most
`HUB_CONTENT_VERSION_HOLD_SECONDS` (default 1; 0 reads it on every request), so a hit costs no
query at all. Consequence: a change committed through ANOTHER process reaches this process's
visitors up to that long after its commit (and a scheduled publication is never held past its
time). The process that made the change forgets its held version when the change commits, so
its own next request reads the new one; a failed version change after a commit also forgets
it, so the pending row is seen and settled by the next request, as before.

No stampede after a publish (issue #12): a new version makes every page a miss at once. The
first request for a page takes a short render lock (`cache.add`, expiring after
`HUB_PAGE_RENDER_LOCK_SECONDS`, default 5) and renders; the others for the same address and
version wait for its page, reading the cache every 10 to 100 ms, instead of rendering it too.
Nobody is served a page of an older version (lock-and-wait, not serve-stale: serving the
previous page while the new one renders would show a visitor content older than the last
committed change, which issue #16 rules out). A waiter renders the page itself when the lock is
released without a page (an answer that is not cached: a 404, an error) or after the lock's
seconds (a renderer that died or is slower than that). The price: those waiters hold their
worker for up to one render, and a miss costs two extra round trips (the lock's add and delete).

With the local-memory cache (the default) each process has its own pages; several app servers
or gunicorn workers need the shared Redis cache (`REDIS_URL`) so that they share the pages
(the version is shared through the database either way).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Exists
from django.http import HttpRequest, HttpResponse
from django.middleware.cache import FetchFromCacheMiddleware, UpdateCacheMiddleware
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.cache import (
    get_cache_key,
    has_vary_header,
    learn_cache_key,
    patch_cache_control,
    set_response_etag,
)
from django.utils.http import split_directive_names

logger = logging.getLogger(__name__)

# The row of hub.models.ContentVersion.
VERSION_PK = 1

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
        "resources:clinics-conversation",
        "resources:about",
        "resources:self-check",
        "resources:clinics",
        "resources:clinics-handout",
        "resources:clinics-letter",
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


def bump_content_version(using: str = DEFAULT_DB_ALIAS) -> ContentVersion:
    """Make every cached page stale now, and settle every pending change. Call it after
    writes that bypass model signals (`QuerySet.update()`, raw SQL), ideally through
    `transaction.on_commit()`, or use `content_changed()`.

    Database only (a few queries); a database error is raised to the caller.
    """
    from hub.models import ContentVersion as Row
    from hub.models import PendingContentChange

    with transaction.atomic(using=using):
        # Only the rows this transaction sees: a change committed after this read keeps its
        # row, and its own bump (or the next request) settles it.
        settled = list(PendingContentChange.objects.using(using).values_list("pk", flat=True))
        version = ContentVersion(uuid.uuid4().hex, _next_scheduled_publication())
        fields = {
            "token": version.token,
            "changes_at": (
                datetime.fromtimestamp(version.changes_at, UTC) if version.changes_at else None
            ),
            "changed_at": timezone.now(),
        }
        rows = Row.objects.using(using)
        if not rows.filter(pk=VERSION_PK).update(**fields):
            _row, created = rows.get_or_create(pk=VERSION_PK, defaults=fields)
            if not created:  # another process created it meanwhile
                rows.filter(pk=VERSION_PK).update(**fields)
        if settled:
            PendingContentChange.objects.using(using).filter(pk__in=settled).delete()
    # This process changed the version: it must not keep serving the old one for a second.
    _hold.forget()
    return version


def content_version(using: str = DEFAULT_DB_ALIAS) -> ContentVersion:
    """The current version: one query, plus a bump when the row is missing (a new database),
    a committed change is still pending, or a scheduled publication has come."""
    from hub.models import ContentVersion as Row
    from hub.models import PendingContentChange

    row = (
        Row.objects.using(using)
        .filter(pk=VERSION_PK)
        .annotate(pending=Exists(PendingContentChange.objects.using(using)))
        .values_list("token", "changes_at", "pending")
        .first()
    )
    if row is not None:
        token, changes_at, pending = row
        version = ContentVersion(token, changes_at.timestamp() if changes_at else None)
        # Inside the change's own transaction its pending row is visible: that change bumps
        # when it commits (such a connection neither reads nor fills the cache anyway).
        if pending and _pending_bump(connections[using]):
            pending = False
        if not pending and version.is_current(time.time()):
            return version
    return bump_content_version(using)


class _VersionHold:
    """The content version this process read last, and when (monotonic clock). Thread-safe.

    A generation number, raised by `forget()`, keeps a read that started before a change
    committed in this process from being held after it.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._held: tuple[ContentVersion, float] | None = None
        self.generation = 0

    def get(self, seconds: float) -> ContentVersion | None:
        with self._lock:
            held = self._held
        if held is None or seconds <= 0:
            return None
        version, read_at = held
        if self.clock() - read_at >= seconds or not version.is_current(time.time()):
            return None
        return version

    def store(self, version: ContentVersion, generation: int, read_at: float) -> None:
        with self._lock:
            if generation == self.generation:
                self._held = (version, read_at)

    def forget(self) -> None:
        with self._lock:
            self.generation += 1
            self._held = None


_hold = _VersionHold()


def forget_held_content_version() -> None:
    """The next request reads the version from the database (tests: after a rollback)."""
    _hold.forget()


def held_content_version() -> ContentVersion:
    """The current version as this process knows it: read from the database at most once
    per `HUB_CONTENT_VERSION_HOLD_SECONDS`, so a cache hit usually costs no query."""
    seconds = float(settings.HUB_CONTENT_VERSION_HOLD_SECONDS)
    if (version := _hold.get(seconds)) is not None:
        return version
    generation = _hold.generation
    read_at = _hold.clock()  # before the read: the hold never outlasts its bound
    version = content_version()
    _hold.store(version, generation, read_at)
    return version


class CircuitBreaker:
    """Skips a failing service for a while instead of waiting for it on every request.

    Closed: every call may try. After a failure it is open for `seconds()` (read at each
    failure, so a settings change applies at once): nothing tries. Then the first caller
    tries (half-open) while the others still skip; its success closes the breaker, its
    failure opens it again. Per process, and thread-safe.
    """

    def __init__(
        self, seconds: Callable[[], float], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._seconds = seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._open_until: float | None = None

    @property
    def is_open(self) -> bool:
        return self._open_until is not None

    def allows(self) -> bool:
        """May the caller use the service now? Never blocks."""
        with self._lock:
            if self._open_until is None:
                return True
            now = self._clock()
            if now < self._open_until:
                return False
            # Half-open: this caller tries; the others skip until it reports (or, should
            # it never report, until another period has passed).
            self._open_until = now + self._seconds()
            return True

    def succeeded(self) -> None:
        with self._lock:
            self._open_until = None

    def failed(self) -> None:
        with self._lock:
            self._open_until = self._clock() + self._seconds()

    def reset(self) -> None:
        self.succeeded()


breaker = CircuitBreaker(lambda: float(settings.HUB_CACHE_BREAKER_SECONDS))


def cache_failed(action: str, error: Exception) -> None:
    """Every user of the shared cache reports a failure here, so one breaker guards them all."""
    breaker.failed()
    # One line, not a traceback: with the breaker this comes once per period and process.
    message = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
    logger.warning(
        "Page cache unavailable (%s), skipped for %s s: %s: %s",
        action,
        settings.HUB_CACHE_BREAKER_SECONDS,
        error.__class__.__name__,
        message,
        extra={"event": "cache_unavailable"},
    )


class _BumpOnCommit:
    """The on_commit callback, recognisable in a connection's pending callbacks."""

    def __init__(self, using: str, durable: bool) -> None:
        self.using = using
        self.durable = durable  # a PendingContentChange row was committed with the change
        self.done = False

    def __call__(self) -> None:
        self.done = True
        # Whatever happens next, this process no longer holds the old version: its next
        # request reads the new one, or sees the pending row and settles it.
        _hold.forget()
        try:
            bump_content_version(self.using)
        except DatabaseError:  # the change is saved either way
            if self.durable:
                logger.warning(
                    "Could not change the page cache's content version; the next request will",
                    exc_info=True,
                )
                return
            logger.exception("Could not change the page cache's content version")
            _record_pending(self.using)


def _record_pending(using: str) -> None:
    """Best effort for a change made outside a transaction, whose bump just failed."""
    from hub.models import PendingContentChange

    try:
        PendingContentChange.objects.using(using).create()
    except DatabaseError:
        logger.exception("Could not record the pending content change either")


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
    readers who cached the old content between the save and the commit are outdated by it.

    Inside a transaction a `PendingContentChange` row is written with the change, so that the
    bump happens even if the step after the commit fails. A change made outside a transaction
    is already committed when this runs: wrap changes in `transaction.atomic()` for that
    guarantee (the admin, the workflow and the import do).
    """
    connection = transaction.get_connection(using)
    if _pending_bump(connection):
        return
    durable = connection.in_atomic_block
    if durable:
        from hub.models import PendingContentChange

        PendingContentChange.objects.using(connection.alias).create()
    transaction.on_commit(_BumpOnCommit(connection.alias, durable), using=connection.alias)


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


def _is_anonymous(request: HttpRequest) -> bool:
    """No session cookie, or one that names no session with data in it (made up, expired,
    or emptied). The session is loaded at most once per request: the view, if it runs, reads
    the same loaded copy. Reading it here does not count as the page using the session, so
    no `Vary: Cookie` is added for it."""
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return True
    session = getattr(request, "session", None)
    if session is None:
        return False
    accessed = session.accessed
    try:
        has_data = bool(session.keys())
    finally:
        session.accessed = accessed
    return not has_data


def is_cacheable_request(request: HttpRequest) -> bool:
    """Anonymous GET/HEAD of a cached public page. The cheap tests first: the session, if a
    cookie names one, is read only for a page that would otherwise be cacheable."""
    return (
        settings.HUB_PAGE_CACHE_SECONDS > 0
        and request.method in ("GET", "HEAD")
        and "Authorization" not in request.headers
        and not has_uncommitted_content_changes()
        and _view_name(request) in CACHED_VIEWS
        and _is_anonymous(request)
    )


def _key_prefix(version: ContentVersion) -> str:
    return f"{settings.CACHE_MIDDLEWARE_KEY_PREFIX}.{version.token}"


class _KnownHeaderList:
    """Stands in for the cache in Django's `get_cache_key`, which reads the learned header
    list and builds the page key from it: hands it a list already at hand, and notes which
    key it asked for (the header list's own key)."""

    def __init__(self, headerlist: list[str] | None) -> None:
        self.headerlist = headerlist
        self.asked: str | None = None

    def get(self, key: str, default: object = None) -> list[str] | None:
        self.asked = key
        return self.headerlist


class _DeferredWrites:
    """Stands in for the cache in Django's `learn_cache_key`: keeps its write of the header
    list, so that the list and the page go to the cache together in one `set_many`."""

    def __init__(self) -> None:
        self.values: dict[str, object] = {}

    def set(self, key: str, value: object, timeout: float | None = None) -> None:
        self.values[key] = value


# The header lists learned for each view in this process (a few per view at most: the same
# view on an address with and without a language prefix). Used to predict the page key, so
# that the header list and the page are read together; a wrong guess costs a second read.
_MAX_HEADER_LISTS_PER_VIEW = 4
_header_lists: dict[str, tuple[tuple[str, ...], ...]] = {}


def _remember_header_list(view: str, headerlist: list[str]) -> None:
    known = _header_lists.get(view, ())
    if tuple(headerlist) not in known:
        _header_lists[view] = (tuple(headerlist), *known)[:_MAX_HEADER_LISTS_PER_VIEW]


def _page_key(
    request: HttpRequest, prefix: str, headerlist: list[str] | None
) -> tuple[str, str | None]:
    """The header list's key, and the page's key for that list (None for no list), both made
    by Django's `get_cache_key`."""
    answer = _KnownHeaderList(headerlist)
    with _key_language(request):
        page_key = get_cache_key(request, prefix, "GET", cache=answer)
    return str(answer.asked), page_key


def _render_lock_key(headers_key: str) -> str:
    return f"{headers_key}.rendering"


@dataclass
class _Lookup:
    response: HttpResponse | None
    headers_key: str
    fetched: dict[str, object]


def _lookup(
    request: HttpRequest, cache: BaseCache, prefix: str, also: Sequence[str] = ()
) -> _Lookup:
    """The cached page, in one round trip when this process predicts its key (and `also`'s
    keys, fetched with it)."""
    view = request.resolver_match.view_name
    headers_key, _none = _page_key(request, prefix, None)
    known = _header_lists.get(view, ())
    predicted = {_page_key(request, prefix, list(headerlist))[1] for headerlist in known}
    fetched = cache.get_many([headers_key, *sorted(k for k in predicted if k), *also])
    headerlist = fetched.get(headers_key)
    if headerlist is None:  # nothing learned for this address and version: not cached
        return _Lookup(None, headers_key, fetched)
    _headers_key, page_key = _page_key(request, prefix, headerlist)
    if page_key in fetched:
        response = fetched[page_key]
    elif page_key in predicted:
        response = None  # read, and not there
    else:
        response = cache.get(page_key)
        _remember_header_list(view, headerlist)
    return _Lookup(response if isinstance(response, HttpResponse) else None, headers_key, fetched)


def _wait_for_render(
    request: HttpRequest, cache: BaseCache, prefix: str, lock_key: str, seconds: float
) -> HttpResponse | None:
    """Another request is rendering this page: wait for it (at most `seconds`). None when
    the lock went without a page (an answer that is not cached) or the time is up."""
    deadline = time.monotonic() + seconds
    pause = 0.01
    while time.monotonic() < deadline:
        time.sleep(pause)
        pause = min(pause * 2, 0.1)
        found = _lookup(request, cache, prefix, also=[lock_key])
        if found.response is not None:
            return found.response
        if lock_key not in found.fetched:
            return None
    return None


class FetchPageCacheMiddleware(FetchFromCacheMiddleware):
    """Serves a cached page. Low in MIDDLEWARE (below LocaleMiddleware: the language is part
    of the key), above DatabaseOutageMiddleware and the views.

    Django's `process_request` is replaced (its key functions are kept): it reads the header
    list and the page one after the other, two round trips, and renders on every miss."""

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        request._cache_update_cache = False
        try:
            if not is_cacheable_request(request) or not breaker.allows():
                return None
            version = held_content_version()
        except DatabaseError:
            # No session or version without the database: no cached page either. The view
            # answers (a 503 if it needs the database; DatabaseOutageMiddleware logs that).
            # A database that hangs rather than refuses is waited for twice: here, and by
            # the view.
            return None
        prefix = _key_prefix(version)
        try:
            found = _lookup(request, self.cache, prefix)
            response = found.response
            if response is None and request.method == "GET":
                response = self._render_or_wait(request, prefix, found.headers_key)
        except Exception as error:  # any backend's error; a cache outage costs speed only
            cache_failed("read", error)
            return None
        breaker.succeeded()
        request._hub_cache_version = version
        if response is None:
            request._cache_update_cache = True
            return None
        request._hub_cache_hit = True
        stored_at = getattr(response, "_hub_cached_at", time.time())
        response["Age"] = str(max(0, int(time.time() - stored_at)))
        return response

    def _render_or_wait(
        self, request: HttpRequest, prefix: str, headers_key: str
    ) -> HttpResponse | None:
        """A miss: take the render lock and render (None), or wait for the request that
        holds it and serve its page."""
        seconds = settings.HUB_PAGE_RENDER_LOCK_SECONDS
        if seconds <= 0:
            return None
        lock_key = _render_lock_key(headers_key)
        if self.cache.add(lock_key, 1, seconds):
            request._hub_render_lock = lock_key
            return None
        return _wait_for_render(request, self.cache, prefix, lock_key, seconds)


class UpdatePageCacheMiddleware(UpdateCacheMiddleware):
    """Stores a page and sets the headers for browsers and CDNs. High in MIDDLEWARE (below
    ReferralCountMiddleware, which must still count visits answered from the cache; above
    SessionMiddleware and LocaleMiddleware, whose headers are part of the stored page)."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        try:
            return self._store(request, response)
        finally:
            # After the page is stored, so that the requests waiting for it find it.
            if lock_key := getattr(request, "_hub_render_lock", None):
                try:
                    self.cache.delete(lock_key)
                except Exception as error:
                    cache_failed("write", error)

    def _store(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
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
            learned = _DeferredWrites()
            with _key_language(request):
                key = learn_cache_key(request, response, seconds, _key_prefix(version), learned)
            self.cache.set_many({**learned.values, key: response}, seconds)
            for headerlist in learned.values.values():
                _remember_header_list(request.resolver_match.view_name, list(headerlist))
        except Exception as error:
            cache_failed("write", error)
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
