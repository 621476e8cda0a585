"""A cache outage, for real (issue #16): Redis behind a TCP forwarder this module starts.

Stopping the forwarder is the outage (the shared Redis itself is never touched); starting it
again on the same port is the recovery. A resource unpublished during the outage must be gone
from every public page once the cache answers again, and those pages must come from the cache
again. A Redis that hangs (accepts connections, never answers) must cost one short timeout per
process and breaker period, not one per request.

Needs Redis at 127.0.0.1:6379 (CI always has it; skipped elsewhere without it). The keys live
in database 14 under a prefix of their own, deleted afterwards: nothing is flushed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from hub import cache as page_cache
from hub.models import PendingContentChange
from resources.models import Resource, Status

from .factories import ResourceFactory

# Real commits: the workflow's transaction and its on-commit step run as in production.
pytestmark = pytest.mark.django_db(transaction=True)

REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 14
SLUG = "seated-marching-outage-test"


class Forwarder:
    """Forwards a free loopback port to Redis, one thread pair per connection. `stop()`
    closes the port and every connection through it, as an outage does; `start()` opens the
    same port again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._server: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen()
        server.settimeout(0.05)  # the accept loop notices stop() within this
        self.port = server.getsockname()[1]
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        with self._lock:
            closing, self._open = self._open, set()
        for sock in closing:
            _close(sock)

    def _accept(self, server: socket.socket) -> None:
        while self._server is server:
            try:
                client, _address = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=2)
            except OSError:
                _close(client)
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                self._open |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        _close(source)
        _close(sink)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def _redis_or_skip():
    import redis

    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("Redis is not running at 127.0.0.1:6379 (CI always has it)")
    return client


def redis_cache(port: int, prefix: str) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/{REDIS_DB}",
            "KEY_PREFIX": prefix,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


@pytest.fixture
def forwarded_redis(settings) -> Iterator[Forwarder]:
    """The page cache in real Redis, through a forwarder; every request tries the cache (no
    breaker period), so a stale page could not hide behind a skipped cache."""
    direct = _redis_or_skip()
    forwarder = Forwarder((REDIS_HOST, REDIS_PORT))
    forwarder.start()
    prefix = f"hub-test-{uuid.uuid4().hex}"
    settings.CACHES = redis_cache(forwarder.port, prefix)
    settings.HUB_CACHE_BREAKER_SECONDS = 0
    try:
        yield forwarder
    finally:
        forwarder.stop()
        for key in direct.scan_iter(f"{prefix}:*"):
            direct.delete(key)


# Every kind of public page that lists or shows the resource.
PAGES = {
    "detail": f"/en/resources/{SLUG}/",
    "browse": "/en/resources/",
    "API list": "/api/v1/resources/",
    "API detail": f"/api/v1/resources/{SLUG}/",
    "RSS": "/en/feeds/rss/",
    "Atom": "/en/feeds/atom/",
    "widget": "/embed/resources/",
    "sitemap": "/sitemap.xml",
    "home": "/en/",
}


def rendering_queries(client: Client, url: str) -> tuple[object, list[str]]:
    """The answer, and its queries besides the content version's read."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    version_read = 'FROM "hub_contentversion"'
    return response, [q["sql"] for q in captured if version_read not in q["sql"]]


def test_a_resource_unpublished_while_redis_is_unreachable_is_gone_once_it_is_back(
    forwarded_redis: Forwarder, client: Client, admin_client: Client, caplog
):
    resource = ResourceFactory(title="Seated marching", slug=SLUG)
    for name, url in PAGES.items():
        assert client.get(url).status_code == 200, name
        response, queries = rendering_queries(client, url)
        assert SLUG in response.content.decode(), name
        assert queries == [], f"{name} was not served from Redis: {queries}"

    forwarded_redis.stop()
    # Pages still work (rendered) while the cache is gone...
    assert client.get("/en/resources/").status_code == 200
    # ... and the change is made through the workflow, as a reviewer would.
    response = admin_client.post(
        "/admin/resources/resource/",
        {"action": "unpublish_selected", "_selected_action": [resource.pk]},
    )
    assert response.status_code == 302
    assert Resource.objects.get(pk=resource.pk).status == Status.DRAFT
    assert not PendingContentChange.objects.exists()  # the version changed in the database

    forwarded_redis.start()
    caplog.clear()
    for name, url in PAGES.items():
        response = client.get(url)
        if name in {"detail", "API detail"}:
            assert response.status_code == 404, name
        else:
            assert response.status_code == 200, name
            assert SLUG not in response.content.decode(), f"{name} is stale after the outage"
    # The cache is in use again: the fresh pages were stored, the second visit is a hit.
    for name in ("browse", "home", "sitemap", "API list", "RSS", "widget"):
        response, queries = rendering_queries(client, PAGES[name])
        assert SLUG not in response.content.decode(), name
        assert queries == [], f"{name} is not served from Redis after the outage: {queries}"
    assert "Page cache unavailable" not in caplog.text


def test_a_change_whose_version_bump_failed_after_its_commit_is_settled_by_the_next_request(
    forwarded_redis: Forwarder, client: Client, monkeypatch: pytest.MonkeyPatch
):
    """The database went away between the change's commit and the version change: the
    pending row, committed with the change, makes the next request change the version."""
    from django.db import OperationalError

    resource = ResourceFactory(title="Seated marching", slug=SLUG)
    url = PAGES["browse"]
    client.get(url)
    assert SLUG in client.get(url).content.decode()

    real_bump = page_cache.bump_content_version

    def database_gone(using: str = "default") -> page_cache.ContentVersion:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(page_cache, "bump_content_version", database_gone)
    resource.status = Status.DRAFT
    resource.published_at = None
    resource.save()  # inside save(): committed together with its pending row
    monkeypatch.setattr(page_cache, "bump_content_version", real_bump)
    # (Autocommit: the save committed first, and the pending row is the fallback.)
    assert PendingContentChange.objects.count() == 1

    response, queries = rendering_queries(client, url)
    assert SLUG not in response.content.decode()
    assert queries, "the stale page was served from the cache"
    assert not PendingContentChange.objects.exists()


def test_the_pending_row_is_committed_with_the_change_in_a_transaction(
    forwarded_redis: Forwarder, client: Client, monkeypatch: pytest.MonkeyPatch
):
    from django.db import OperationalError, transaction

    resource = ResourceFactory(title="Seated marching", slug=SLUG)
    url = PAGES["detail"]
    client.get(url)
    assert client.get(url).status_code == 200

    real_bump = page_cache.bump_content_version

    def database_gone(using: str = "default") -> page_cache.ContentVersion:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(page_cache, "bump_content_version", database_gone)
    with transaction.atomic():
        resource.status = Status.DRAFT
        resource.published_at = None
        resource.save()
    # The version step after the commit failed; the change and its pending row are saved.
    monkeypatch.setattr(page_cache, "bump_content_version", real_bump)
    assert PendingContentChange.objects.count() == 1
    assert client.get(url).status_code == 404
    assert not PendingContentChange.objects.exists()


# --- A Redis that hangs ----------------------------------------------------------------------


class SilentServer:
    """Accepts connections and reads what is sent, never answering: a hung Redis. Counts the
    connections, i.e. how often the hub tried the cache after a timeout closed the last one."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.05)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self._held: list[socket.socket] = []
        self._running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self._running:
            try:
                conn, _address = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            self._held.append(conn)  # never read, never answered

    def close(self) -> None:
        self._running = False
        self.server.close()
        for conn in self._held:
            _close(conn)


@pytest.fixture
def hung_redis(settings) -> Iterator[SilentServer]:
    server = SilentServer()
    settings.CACHES = redis_cache(server.port, "hub-test-hung")
    settings.CACHES["default"]["OPTIONS"] = {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}
    settings.HUB_CACHE_BREAKER_SECONDS = 30
    try:
        yield server
    finally:
        server.close()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_hanging_redis_is_skipped_after_one_timeout_and_tried_again_later(
    hung_redis: SilentServer, client: Client, monkeypatch: pytest.MonkeyPatch, caplog
):
    clock = FakeClock()
    monkeypatch.setattr(page_cache.breaker, "_clock", clock)
    ResourceFactory(title="Seated marching", slug=SLUG)
    caplog.set_level(logging.WARNING, logger="hub.cache")

    # The first request waits for the timeout once, then renders the page.
    response = client.get(PAGES["detail"])
    assert response.status_code == 200
    assert "Seated marching" in response.content.decode()
    assert hung_redis.connections == 1
    assert page_cache.breaker.is_open

    # For the breaker's period nobody waits for the cache: no new connection is tried.
    for url in PAGES.values():
        assert client.get(url).status_code in (200, 404)
    assert client.get(PAGES["browse"]).status_code == 200
    assert hung_redis.connections == 1
    warnings = [r.getMessage() for r in caplog.records if r.name == "hub.cache"]
    assert len(warnings) == 1
    assert warnings[0].startswith("Page cache unavailable (read), skipped for 30 s: ")

    # After it, one request tries again (and, still hung, opens the breaker again).
    clock.now += 31
    assert client.get(PAGES["browse"]).status_code == 200
    assert client.get(PAGES["home"]).status_code == 200
    assert hung_redis.connections == 2


def test_readiness_reports_a_hanging_cache_as_degraded_not_down(
    hung_redis: SilentServer, client: Client
):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["cache"]["status"] == "degraded"
    assert body["checks"]["cache"]["error"] in {"TimeoutError", "ConnectionError"}
    assert body["checks"]["database"]["status"] == "ok"
