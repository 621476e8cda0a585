"""The page cache (hub/cache.py): anonymous visitors get cached pages, and every change to
public content shows on the very next visit.

Changes are made inside `django_capture_on_commit_callbacks(execute=True)` (the `commit`
fixture): the test's own transaction never commits, and the cache is invalidated only when
a change commits. A test that forgot it would see the page uncached, not a stale one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from hub import cache as page_cache
from resources.models import Organisation, Partner, ReferralCount, Resource, Status, Tag

from .factories import ResourceFactory

pytestmark = pytest.mark.django_db

# Headers that belong to one answer, not to the page: the rest must match byte for byte.
PER_RESPONSE = {"age", "x-request-id", "date"}

Commit = Callable[[], AbstractContextManager[object]]


@pytest.fixture
def commit(django_capture_on_commit_callbacks) -> Commit:
    """`with commit(): ...` runs the block's on-commit callbacks, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def resource(commit: Commit) -> Resource:
    with commit():
        return ResourceFactory(
            title="Seated marching",
            slug="seated-marching",
            tags={"level": ["gentle"], "type": ["aerobic"]},
        )


@contextmanager
def queries() -> Iterator[CaptureQueriesContext]:
    with CaptureQueriesContext(connection) as captured:
        yield captured


def read_resources(captured: CaptureQueriesContext) -> bool:
    """Whether the page was rendered from the database (not answered from the page cache)."""
    return any("resources_resource" in query["sql"] for query in captured.captured_queries)


def is_version_read(sql: str) -> bool:
    return sql.startswith("SELECT") and 'FROM "hub_contentversion"' in sql


def rendering(captured: CaptureQueriesContext) -> list[str]:
    """The queries besides the content version's read, which every cacheable request makes
    (hub/cache.py): none for a page answered from the cache."""
    return [q["sql"] for q in captured if not is_version_read(q["sql"])]


def page_headers(response) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers.items() if k.lower() not in PER_RESPONSE}


def assert_cached(client: Client, url: str, **extra: str):
    """The first visit renders and stores the page, the second costs one query (the content
    version) and is the same answer, byte for byte. Returns the second answer."""
    first = client.get(url, **extra)
    assert first.status_code == 200, url
    with queries() as second_visit:
        second = client.get(url, **extra)
    assert len(second_visit) == 1, (url, [q["sql"] for q in second_visit])
    assert rendering(second_visit) == [], url
    assert second.content == first.content
    assert page_headers(second) == page_headers(first)
    return second


def public_pages(slug: str) -> list[str]:
    return [
        "/en/",
        "/de/",
        "/en/resources/",
        "/en/resources/?level=gentle&type=aerobic",
        f"/en/resources/{slug}/",
        "/en/safety/",
        "/en/about/",
        "/en/find/",
        "/en/for-clinics/?level=gentle",
        "/en/for-clinics/handout/?level=gentle",
        "/en/for-clinics/qr.svg?level=gentle",
        "/en/for-clinics/qr.png?level=gentle",
        "/en/feeds/rss/",
        "/en/feeds/atom/",
        "/embed/resources/?level=gentle",
        "/api/v1/resources/?level=gentle",
        f"/api/v1/resources/{slug}/",
        "/api/v1/vocabularies/",
        "/api/v1/openapi.json",
        "/sitemap.xml",
        "/robots.txt",
    ]


@pytest.mark.parametrize("index", range(len(public_pages("x"))), ids=public_pages("slug"))
def test_second_anonymous_visit_is_served_from_the_cache_byte_for_byte(
    client: Client, resource: Resource, index: int
):
    url = public_pages(resource.slug)[index]
    response = assert_cached(client, url)
    assert response["Cache-Control"] == "public, max-age=0, s-maxage=600"
    assert response["ETag"]
    assert not response.cookies
    assert "cookie" not in response.get("Vary", "").lower()


def test_language_independent_addresses_do_not_vary_on_accept_language(
    client: Client, resource: Resource
):
    for url in ("/api/v1/resources/", "/sitemap.xml", "/robots.txt"):
        response = assert_cached(client, url)
        assert "Vary" not in response, url
        # Another browser language: the same cached answer.
        with queries() as other_language:
            assert client.get(url, HTTP_ACCEPT_LANGUAGE="de").content == response.content
        assert rendering(other_language) == []


def test_widget_is_cached_per_browser_language(client: Client, resource: Resource):
    english = assert_cached(client, "/embed/resources/", HTTP_ACCEPT_LANGUAGE="en")
    german = assert_cached(client, "/embed/resources/", HTTP_ACCEPT_LANGUAGE="de")
    assert english["Vary"] == german["Vary"] == "Accept-Language"
    assert english["Content-Language"] == "en"
    assert german["Content-Language"] == "de"
    assert english.content != german.content


def test_a_matching_if_none_match_gets_304_without_a_body(client: Client, resource: Resource):
    url = f"/en/resources/{resource.slug}/"
    etag = client.get(url)["ETag"]
    with queries() as revalidation:
        response = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert rendering(revalidation) == []
    assert client.get(url, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200


def test_head_is_answered_from_the_cache(client: Client, resource: Resource):
    url = f"/en/resources/{resource.slug}/"
    etag = client.get(url)["ETag"]
    with queries() as head:
        response = client.head(url)
    assert response.status_code == 200
    assert response["ETag"] == etag
    assert rendering(head) == []


def test_each_cached_answer_has_its_own_request_id(client: Client, resource: Resource):
    client.get("/en/")
    first = client.get("/en/", HTTP_X_REQUEST_ID="first-visit")
    second = client.get("/en/", HTTP_X_REQUEST_ID="second-visit")
    assert first["X-Request-ID"] == "first-visit"
    assert second["X-Request-ID"] == "second-visit"


def test_signed_in_visitors_neither_read_nor_fill_the_cache(
    client: Client, editor: Client, resource: Resource
):
    url = f"/en/resources/{resource.slug}/"
    # Staff first: their answer is not stored for the public...
    staff_answer = editor.get(url)
    assert staff_answer.status_code == 200
    assert "public" not in staff_answer.get("Cache-Control", "")
    with queries() as anonymous:
        public_answer = client.get(url)
    assert read_resources(anonymous)
    assert resource.title in public_answer.text
    # ... and with the public's page cached, staff still get theirs rendered.
    assert_cached(client, url)
    with queries() as staff:
        staff_again = editor.get(url)
    assert read_resources(staff)
    assert resource.title in staff_again.text
    assert "public" not in staff_again.get("Cache-Control", "")


def test_a_made_up_session_cookie_is_served_the_cached_page(
    client: Client, resource: Resource, settings
):
    """A cookie that names no session must not make every request render (issue #16): the
    session is looked up once and the visitor is anonymous."""
    url = f"/en/resources/{resource.slug}/"
    cached = assert_cached(client, url)
    for bogus in ("x" * 32, "0123456789abcdefghijklmnopqrstuv"):
        client.cookies[settings.SESSION_COOKIE_NAME] = bogus
        with queries() as visit:
            response = client.get(url)
        assert response.status_code == 200
        assert response.content == cached.content
        # The session lookup, and nothing that renders the page.
        assert len(rendering(visit)) == 1, rendering(visit)
        assert "django_session" in rendering(visit)[0]
        # The browser is told to drop the cookie that names nothing (Django's session
        # middleware, which also adds `Vary: Cookie` to this one answer).
        assert response.cookies[settings.SESSION_COOKIE_NAME].value == ""


def test_a_made_up_session_cookie_on_an_uncached_page_does_not_store_its_answer(
    client: Client, resource: Resource, settings
):
    url = f"/en/resources/{resource.slug}/"
    client.cookies[settings.SESSION_COOKIE_NAME] = "x" * 32
    with page_cache_spy() as stored:
        assert client.get(url).status_code == 200
    # Its answer deletes the cookie: the next visitor without one stores the page.
    assert stored == []
    del client.cookies[settings.SESSION_COOKIE_NAME]
    assert_cached(client, url)


def test_a_live_staff_session_is_not_served_the_cached_page(
    editor: Client, client: Client, resource: Resource
):
    url = f"/en/resources/{resource.slug}/"
    assert_cached(client, url)
    with queries() as staff:
        response = editor.get(url)
    assert response.status_code == 200
    assert "Age" not in response  # rendered, not from the cache
    # The session is loaded once, however many times the page asks for it.
    assert len([sql for sql in rendering(staff) if "django_session" in sql]) == 1


def test_an_anonymous_session_with_data_is_not_served_the_cached_page(
    client: Client, resource: Resource
):
    url = f"/en/resources/{resource.slug}/"
    assert_cached(client, url)
    session = client.session
    session["something"] = "kept for this visitor"
    session.save()
    client.cookies[django_settings.SESSION_COOKIE_NAME] = session.session_key
    with queries() as visit:
        response = client.get(url)
    assert response.status_code == 200
    assert "Age" not in response
    assert len(rendering(visit)) > 1
    assert read_resources(visit)  # the page itself was rendered


def test_admin_and_previews_are_never_cached(admin_client: Client, client: Client, resource):
    with page_cache_spy() as stored:
        preview = admin_client.get(reverse("resources:preview", args=[resource.pk]))
        assert preview.status_code == 200
        assert "no-store" in preview["Cache-Control"]
        anonymous_preview = client.get(reverse("resources:preview", args=[resource.pk]))
        assert anonymous_preview.status_code == 302  # to the login page, not the staff's page
        client.get(reverse("admin:login"))
        client.get(reverse("admin:index"))
        client.get("/healthz")
    assert stored == []


def test_a_bad_filter_is_not_cached(client: Client, resource: Resource):
    url = "/en/resources/?level=nope"
    assert client.get(url).status_code == 400
    with queries() as again:
        response = client.get(url)
    assert response.status_code == 400
    assert rendering(again)  # rendered again, with the error, not replayed
    assert "nope" in response.text
    assert "public" not in response.get("Cache-Control", "")


def test_the_plan_page_is_not_cached(client: Client, resource: Resource):
    url = f"/en/my-plan/?r={resource.slug}"
    client.get(url)
    with queries() as again:
        response = client.get(url)
    assert read_resources(again)
    assert resource.title in response.text
    assert "public" not in response.get("Cache-Control", "")


# --- Changes show at once ---------------------------------------------------------------


def test_publishing_in_the_admin_shows_on_the_next_anonymous_visit(
    admin_client: Client, client: Client, commit: Commit
):
    with commit():
        draft = ResourceFactory(in_review=True, title="Gentle stretching at home")
    assert "Gentle stretching at home" not in assert_cached(client, "/en/resources/").text

    with commit():
        response = admin_client.post(
            reverse("admin:resources_resource_changelist"),
            {"action": "approve_selected", "_selected_action": [draft.pk]},
        )
    assert response.status_code == 302
    assert Resource.objects.published().filter(pk=draft.pk).exists()

    assert "Gentle stretching at home" in client.get("/en/resources/").text
    assert client.get(f"/en/resources/{draft.slug}/").status_code == 200


def test_unpublishing_in_the_admin_removes_it_at_once(
    admin_client: Client, client: Client, resource: Resource, commit: Commit
):
    url = f"/en/resources/{resource.slug}/"
    assert_cached(client, url)
    assert "Seated marching" in assert_cached(client, "/api/v1/resources/").text

    with commit():
        admin_client.post(
            reverse("admin:resources_resource_changelist"),
            {"action": "unpublish_selected", "_selected_action": [resource.pk]},
        )
    resource.refresh_from_db()
    assert resource.status != Status.PUBLISHED

    assert client.get(url).status_code == 404
    assert "Seated marching" not in client.get("/api/v1/resources/").text
    assert "Seated marching" not in client.get("/sitemap.xml").text


def test_editing_a_resource_shows_at_once(client: Client, resource: Resource, commit: Commit):
    url = f"/en/resources/{resource.slug}/"
    assert_cached(client, url)
    with commit():
        resource.title = "Seated marching, with music"
        resource.save()
    assert "Seated marching, with music" in client.get(url).text


def test_renaming_a_tag_shows_at_once(client: Client, resource: Resource, commit: Commit):
    assert "Gentle" in assert_cached(client, "/en/resources/").text
    with commit():
        tag = Tag.objects.get(vocabulary="level", slug="gentle")
        tag.name = "Very gentle indeed"
        tag.save()
    assert "Very gentle indeed" in client.get("/en/resources/").text
    assert "Very gentle indeed" in client.get(f"/en/resources/{resource.slug}/").text


def test_tagging_a_resource_shows_at_once(client: Client, resource: Resource, commit: Commit):
    url = "/en/resources/?type=balance"
    assert "Seated marching" not in assert_cached(client, url).text
    with commit():
        resource.tags.add(Tag.objects.get(vocabulary="type", slug="balance"))
    assert "Seated marching" in client.get(url).text


def test_renaming_an_organisation_shows_at_once(client: Client, resource: Resource, commit: Commit):
    url = f"/en/resources/{resource.slug}/"
    assert_cached(client, url)
    with commit():
        organisation = Organisation.objects.get(pk=resource.organisation_id)
        organisation.name = "Moving Together Trust"
        organisation.save()
    assert "Moving Together Trust" in client.get(url).text


def test_a_new_partner_origin_may_frame_the_cached_widget_at_once(
    client: Client, resource: Resource, commit: Commit
):
    with commit():
        partner = Partner.objects.create(
            name="St Example", slug="st-example", origins="https://clinic.example"
        )
    before = assert_cached(client, "/embed/resources/")
    assert "frame-ancestors https://clinic.example" in before["Content-Security-Policy"]

    with commit():
        partner.origins = "https://clinic.example\nhttps://www.clinic.example"
        partner.save()
    after = client.get("/embed/resources/")
    assert "https://www.clinic.example" in after["Content-Security-Policy"]

    with commit():
        partner.active = False
        partner.save()
    assert "frame-ancestors 'none'" in client.get("/embed/resources/")["Content-Security-Policy"]


def test_a_rolled_back_change_leaves_the_cached_page_as_it_was(client: Client, resource: Resource):
    url = f"/en/resources/{resource.slug}/"
    assert_cached(client, url)

    with pytest.raises(RuntimeError), transaction.atomic():
        Resource.objects.filter(pk=resource.pk).first().delete()
        # Inside the transaction its own connection sees the change, and must not cache it.
        assert client.get(url).status_code == 404
        raise RuntimeError("roll back")

    with queries() as after:
        response = client.get(url)
    assert response.status_code == 200
    assert "Seated marching" in response.text
    assert rendering(after) == []  # the cached page is still the current one


def test_the_version_changes_when_the_change_commits_not_when_it_is_saved(
    resource: Resource, commit: Commit
):
    """Another visitor may cache the old page between the save and the commit: the bump at
    commit makes that page unreachable."""
    before = page_cache.content_version()
    with commit() as callbacks:
        for number in range(3):
            resource.title = f"Seated marching {number}"
            resource.save()
        assert page_cache.content_version() == before
    assert len(callbacks) == 1  # one bump per transaction, however many rows
    assert page_cache.content_version() != before


def test_a_scheduled_resource_appears_on_time_without_a_save(
    client: Client, commit: Commit, resource: Resource, monkeypatch: pytest.MonkeyPatch
):
    with commit():
        ResourceFactory(
            title="Breathing for calm", published_at=timezone.now() + timedelta(minutes=2)
        )
    response = client.get("/en/resources/")
    assert "Breathing for calm" not in response.text
    # No one, browser or CDN, may keep the page past the publication time.
    cache_control = dict(
        part.strip().split("=") for part in response["Cache-Control"].split(",")[1:]
    )
    assert 0 < int(cache_control["s-maxage"]) <= 120
    assert int(cache_control["max-age"]) == 0  # browsers revalidate anyway (the default)

    later = timezone.now() + timedelta(minutes=3)
    monkeypatch.setattr(timezone, "now", lambda: later)
    monkeypatch.setattr(page_cache.time, "time", lambda: later.timestamp())
    assert "Breathing for calm" in client.get("/en/resources/").text


def test_a_visit_through_a_partner_link_counts_when_served_from_the_cache(
    client: Client, resource: Resource, commit: Commit
):
    with commit():
        partner = Partner.objects.create(name="St Example", slug="st-example")
    url = f"/en/resources/{resource.slug}/?ref=st-example"
    first = client.get(url)
    with queries() as second_visit:
        second = client.get(url)
    assert second.content == first.content
    # The page came from the cache: the only queries are the count's own.
    assert rendering(second_visit) and all(
        "referralcount" in sql or "partner" in sql for sql in rendering(second_visit)
    )
    counts = ReferralCount.objects.filter(partner=partner)
    assert counts.get().visits == 2
    # The link builder takes the code as input: never counted, from the cache or not.
    assert_cached(client, "/en/for-clinics/?ref=st-example")
    assert counts.get().visits == 2


def test_a_cache_outage_costs_speed_not_the_page(
    client: Client, resource: Resource, settings, commit: Commit
):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing answers
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    assert "Seated marching" in client.get(f"/en/resources/{resource.slug}/").text
    with commit():
        resource.title = "Seated marching, saved while the cache was down"
        resource.save()
    resource.refresh_from_db()
    assert resource.title.endswith("down")


# --- Helpers --------------------------------------------------------------------------------


@contextmanager
def page_cache_spy() -> Iterator[list[str]]:
    """The keys of every page stored while the block runs."""
    stored: list[str] = []
    cache = page_cache.page_cache()
    original = cache.set

    def spy(key: str, value: object, *args: object, **kwargs: object) -> None:
        if key != page_cache.VERSION_KEY:
            stored.append(key)
        original(key, value, *args, **kwargs)

    cache.set = spy  # type: ignore[method-assign]
    try:
        yield stored
    finally:
        del cache.set
