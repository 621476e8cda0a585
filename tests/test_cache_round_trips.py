"""What a cached page costs, and what happens right after a change (issue #12, hub/cache.py).

- A hit is one read of the shared cache (the header list and the page, together) and, while
  the process holds the content version, no query.
- The version is held at most HUB_CONTENT_VERSION_HOLD_SECONDS: a change made by another
  process shows once that has passed.
- After a change, one request renders a page while the others for it wait for its answer
  (a render lock), and a lock whose holder died only delays the others, never the page.

The cache backends below count their calls: each call is one round trip to Redis (`get_many`
is one MGET, `set_many` one pipeline), so the count is the number of round trips.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from hub import cache as page_cache
from hub.models import ContentVersion
from resources.models import Resource

from .factories import ResourceFactory

pytestmark = pytest.mark.django_db

URL = "/en/resources/"


class CountingMixin:
    """Records each call of the cache's public API once (not the calls a backend makes to
    itself, such as the base class's `get_many` calling `get` for each key)."""

    # Shared by every instance on purpose: the middleware gets its own from the handler.
    calls: list[str] = []
    _depth = threading.local()

    def _counted(self, name: str, *args: Any, **kwargs: Any) -> Any:
        depth = getattr(self._depth, "value", 0)
        if depth == 0:
            CountingMixin.calls.append(name)
        self._depth.value = depth + 1
        try:
            return getattr(super(), name)(*args, **kwargs)
        finally:
            self._depth.value = depth

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self._counted("get", *args, **kwargs)

    def get_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._counted("get_many", *args, **kwargs)

    def set(self, *args: Any, **kwargs: Any) -> Any:
        return self._counted("set", *args, **kwargs)

    def set_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._counted("set_many", *args, **kwargs)

    def add(self, *args: Any, **kwargs: Any) -> Any:
        return self._counted("add", *args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        return self._counted("delete", *args, **kwargs)


class CountingLocMemCache(CountingMixin, LocMemCache):
    pass


class CountingRedisCache(CountingMixin, RedisCache):
    pass


def _redis_cache() -> dict[str, Any]:
    redis = pytest.importorskip("redis")
    location = "redis://127.0.0.1:6379/12"
    try:
        redis.Redis.from_url(location, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        pytest.skip("Redis is not running at 127.0.0.1:6379")
    return {
        "BACKEND": f"{__name__}.CountingRedisCache",
        "LOCATION": location,
        "KEY_PREFIX": f"hub-test-{uuid.uuid4().hex}",
    }


@pytest.fixture(params=["locmem", "redis"])
def counted(request: pytest.FixtureRequest, settings) -> Iterator[list[str]]:
    """The page cache counts its calls; the process starts without any learned header list."""
    if request.param == "redis":
        settings.CACHES = {"default": _redis_cache()}
    else:
        settings.CACHES = {
            "default": {"BACKEND": f"{__name__}.CountingLocMemCache", "LOCATION": "counted"}
        }
    page_cache._header_lists.clear()
    CountingMixin.calls.clear()
    yield CountingMixin.calls
    page_cache.page_cache().clear()
    page_cache._header_lists.clear()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The clock of the version hold, moved by hand."""
    clock = Clock()
    monkeypatch.setattr(page_cache._hold, "clock", clock)
    return clock


@pytest.fixture
def resource(django_capture_on_commit_callbacks) -> Resource:
    with django_capture_on_commit_callbacks(execute=True):
        return ResourceFactory(title="Seated marching", slug="seated-marching")


def visit(client: Client, url: str = URL) -> tuple[Any, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return response, [q["sql"] for q in captured]


def test_a_hit_is_one_cache_read_and_no_query(
    client: Client, resource: Resource, counted: list[str], clock: Clock
):
    first, _queries = visit(client)
    # The miss: one read, the render lock, the browse page's shared facet counts (read, then
    # stored: resources/catalogue/filters.py), the header list and the page in one write, and
    # the lock released.
    assert counted == ["get_many", "add", "get", "set", "set_many", "delete"]
    counted.clear()
    second, queries = visit(client)
    assert counted == ["get_many"]
    assert queries == []
    assert second.content == first.content
    assert "Seated marching" in second.text


def test_a_new_process_learns_the_header_list_with_its_first_hit(
    client: Client, resource: Resource, counted: list[str], clock: Clock
):
    """A process that did not store the page does not know which headers it varies on yet:
    its first hit reads the list, then the page; every later hit reads both at once."""
    first, _queries = visit(client)
    page_cache._header_lists.clear()  # as in another worker
    counted.clear()
    assert visit(client)[0].content == first.content
    assert counted == ["get_many", "get"]
    counted.clear()
    assert visit(client)[0].content == first.content
    assert counted == ["get_many"]


def test_the_version_is_read_again_once_the_hold_is_over(
    client: Client, resource: Resource, counted: list[str], clock: Clock, settings
):
    """Another process changed the content (here: its new token written directly). Within
    the hold this process still serves the page of the version it holds, as documented;
    after it, the new version, with one query for the version."""
    settings.HUB_CONTENT_VERSION_HOLD_SECONDS = 1
    visit(client)
    Resource.objects.filter(pk=resource.pk).update(title="Chair yoga")
    ContentVersion.objects.filter(pk=page_cache.VERSION_PK).update(token="changed-elsewhere")

    clock.now += 0.9
    held, queries = visit(client)
    assert queries == []
    assert "Seated marching" in held.text

    clock.now += 0.1
    fresh, queries = visit(client)
    assert "Chair yoga" in fresh.text
    assert "Seated marching" not in fresh.text
    assert queries[0].startswith("SELECT") and '"hub_contentversion"' in queries[0]
    # And held again: the next hit costs no query.
    assert visit(client)[1] == []


def test_with_no_hold_every_request_reads_the_version(
    client: Client, resource: Resource, counted: list[str], clock: Clock, settings
):
    settings.HUB_CONTENT_VERSION_HOLD_SECONDS = 0
    visit(client)
    _response, queries = visit(client)
    assert len(queries) == 1 and '"hub_contentversion"' in queries[0]


def test_a_change_in_this_process_is_not_held(
    client: Client, resource: Resource, counted: list[str], clock: Clock, commit_callbacks
):
    visit(client)
    with commit_callbacks(execute=True):
        resource.title = "Chair yoga"
        resource.save()
    response, _queries = visit(client)  # the clock has not moved: the hold is not over
    assert "Chair yoga" in response.text


@pytest.fixture
def commit_callbacks(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def test_the_render_lock_is_released_after_every_answer(
    client: Client, resource: Resource, counted: list[str], clock: Clock
):
    cache = page_cache.page_cache()
    response = client.get(URL)
    assert cache.get(response.wsgi_request._hub_render_lock) is None
    missing = client.get("/en/resources/no-such-resource/")
    assert missing.status_code == 404
    assert cache.get(missing.wsgi_request._hub_render_lock) is None


def test_a_request_waits_for_the_one_rendering_the_page_instead_of_rendering_it_too(
    client: Client, resource: Resource, counted: list[str], clock: Clock, monkeypatch
):
    """Request A renders the page; request B comes while A holds the render lock. B waits
    and is served A's page: one render for two visitors."""
    b_is_waiting = threading.Event()
    real_wait = page_cache._wait_for_render

    def waiting(*args: Any, **kwargs: Any) -> Any:
        b_is_waiting.set()
        return real_wait(*args, **kwargs)

    monkeypatch.setattr(page_cache, "_wait_for_render", waiting)
    answers: dict[str, Any] = {}
    real_store = page_cache.UpdatePageCacheMiddleware._store

    def store_after_b_came(self, request, response):
        # A has rendered, and still holds the lock: B comes now, before A stores the page.
        if "b" not in answers:
            answers["b"] = None
            thread = threading.Thread(target=lambda: answers.update(b=Client().get(URL)))
            thread.start()
            answers["thread"] = thread
            assert b_is_waiting.wait(timeout=30), "B did not wait for A"
        return real_store(self, request, response)

    monkeypatch.setattr(page_cache.UpdatePageCacheMiddleware, "_store", store_after_b_came)
    a = client.get(URL)
    answers["thread"].join(timeout=30)
    b = answers["b"]
    assert a.status_code == b.status_code == 200
    assert b.wsgi_request._hub_cache_hit  # served from the cache...
    assert not hasattr(b.wsgi_request, "_hub_render_lock")  # ...without rendering
    assert b.content == a.content


def test_a_lock_whose_holder_died_delays_the_page_but_never_withholds_it(
    client: Client, resource: Resource, counted: list[str], clock: Clock, settings
):
    """The renderer died holding the lock: the others wait at most the lock's seconds, then
    render the page themselves."""
    cache = page_cache.page_cache()
    first = client.get(URL)
    lock = first.wsgi_request._hub_render_lock
    cache.clear()
    settings.HUB_PAGE_RENDER_LOCK_SECONDS = 1
    assert cache.add(lock, 1, 1)  # held by a request that never finishes
    counted.clear()
    response, queries = visit(client)
    assert "Seated marching" in response.text
    assert queries, "the page was rendered"
    assert counted.count("get_many") >= 2, "it waited (read the cache again) before rendering"
