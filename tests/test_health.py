"""Health endpoints for load balancers, and the security contact file.

/healthz answers without the database or the cache; /readyz checks both and the migrations,
cheaply enough to be polled every few seconds. (Outages for real: tests/test_outage.py.)
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache.backends.base import BaseCache
from django.db import OperationalError, connection
from django.db.migrations.recorder import MigrationRecorder
from django.test.utils import CaptureQueriesContext

from hub import health
from hub.cache import breaker


class UnreachableCache(BaseCache):
    """A cache whose server does not answer, like Redis during an outage."""

    def __init__(self, location: str, params: dict) -> None:
        super().__init__(params)

    def set(self, *args, **kwargs) -> None:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    def get(self, *args, **kwargs) -> None:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


class ForgetfulCache(UnreachableCache):
    """Answers, but keeps nothing (a full or misconfigured cache)."""

    def set(self, *args, **kwargs) -> None:
        return None

    def get(self, key, default=None, version=None):
        return default


def use_cache(settings, backend: type[BaseCache]) -> None:
    settings.CACHES = {"default": {"BACKEND": f"{__name__}.{backend.__name__}"}}


@pytest.fixture(autouse=True)
def _forget_migration_check() -> Iterator[None]:
    health._MigrationState.applied_until = 0.0
    yield
    health._MigrationState.applied_until = 0.0


# --- /healthz ------------------------------------------------------------------------------


def test_liveness_answers_ok_without_the_database_or_the_cache(client, settings):
    # No django_db mark: any database access here would raise instead of answering.
    use_cache(settings, UnreachableCache)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"
    assert not response.cookies


def test_health_addresses_have_no_language_prefix_and_no_redirect(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/en/healthz").status_code == 404
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


# --- /readyz -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_readiness_reports_each_check_with_its_time(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "migrations"}
    for check in body["checks"].values():
        assert check["status"] == "ok"
        assert isinstance(check["ms"], float)
        assert check["ms"] >= 0


@pytest.mark.django_db
def test_readiness_is_cheap_enough_to_poll(client):
    with CaptureQueriesContext(connection) as first:
        started = time.perf_counter()
        assert client.get("/readyz").json()["checks"]["migrations"]["cached"] is False
        first_ms = (time.perf_counter() - started) * 1000
    with CaptureQueriesContext(connection) as polled:
        started = time.perf_counter()
        assert client.get("/readyz").json()["checks"]["migrations"]["cached"] is True
        polled_ms = (time.perf_counter() - started) * 1000
    print(
        f"\n{connection.vendor}: first /readyz {len(first)} queries {first_ms:.1f} ms; "
        f"then {len(polled)} query {polled_ms:.1f} ms"
    )
    # SELECT 1, plus the migration table's existence and contents on the first check.
    assert len(first) <= 3
    assert [query["sql"] for query in polled] == ["SELECT 1"]


@pytest.mark.django_db
def test_readiness_stays_200_and_reports_the_cache_degraded_when_it_is_unreachable(
    client, settings
):
    # Pages work without the cache (slower): a 503 would have the load balancer pull every
    # server at once when the one shared Redis is down.
    use_cache(settings, UnreachableCache)
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["cache"] == {
        "status": "degraded",
        "error": "ConnectionError",
        "ms": body["checks"]["cache"]["ms"],
    }
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["migrations"]["status"] == "ok"
    assert "127.0.0.1" not in response.content.decode()  # no internals for the public


@pytest.mark.django_db
def test_readiness_reports_the_cache_degraded_when_it_loses_what_it_was_given(client, settings):
    use_cache(settings, ForgetfulCache)
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["cache"]["error"] == "NotReady"


@pytest.mark.django_db
def test_the_cache_probe_opens_and_closes_the_page_cache_breaker(client, settings):
    use_cache(settings, UnreachableCache)
    client.get("/readyz")
    assert breaker.is_open  # pages skip the cache instead of waiting for it
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert client.get("/readyz").json()["status"] == "ok"
    assert not breaker.is_open  # back: pages use it again without waiting for the period


@pytest.mark.django_db
def test_readiness_still_answers_503_when_the_database_fails_and_the_cache_too(
    client, settings, monkeypatch
):
    use_cache(settings, UnreachableCache)

    def no_database() -> dict:
        raise OperationalError("connection refused")

    monkeypatch.setattr(health, "_check_database", no_database)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"]["cache"]["status"] == "degraded"


@pytest.mark.django_db
def test_readiness_answers_503_until_every_migration_is_applied(client):
    latest = MigrationRecorder.Migration.objects.filter(app="resources").latest("id")
    latest.delete()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"]["status"] == "error"
    assert response.json()["checks"]["migrations"]["unapplied"] == 1

    # Only "all applied" is remembered: once migrate has run, the next poll is ready.
    MigrationRecorder.Migration.objects.create(app=latest.app, name=latest.name)
    assert client.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_readiness_failures_are_logged_once_as_warnings(client, settings, caplog):
    use_cache(settings, UnreachableCache)
    client.get("/readyz")
    # (hub.request's access log line is the request log, not a second report of the failure.)
    messages = [(r.name, r.levelname, r.getMessage()) for r in caplog.records]
    assert [m for m in messages if m[0] != "hub.request"] == [
        (
            "hub.health",
            "WARNING",
            "Readiness check cache failed: ConnectionError: "
            "Error 111 connecting to 127.0.0.1:6379. Connection refused.",
        )
    ]


# --- /.well-known/security.txt -------------------------------------------------------------


def security_txt(client, **headers: str) -> dict[str, list[str]]:
    response = client.get("/.well-known/security.txt", **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    fields: dict[str, list[str]] = {}
    for line in response.content.decode().splitlines():
        name, _, value = line.partition(": ")
        fields.setdefault(name, []).append(value)
    return fields


def test_security_txt_names_the_configured_contact(client, settings):
    settings.HUB_SECURITY_CONTACT = "mailto:security@hospital.example"
    fields = security_txt(client)
    assert fields["Contact"] == ["mailto:security@hospital.example"]
    assert fields["Preferred-Languages"] == ["en"]
    assert set(fields) == {"Contact", "Expires", "Preferred-Languages", "Canonical"}


def test_security_txt_has_a_default_contact(client):
    assert security_txt(client)["Contact"] == ["mailto:security@example.org"]


def test_security_txt_accepts_several_contacts_and_a_bare_address(client, settings):
    settings.HUB_SECURITY_CONTACT = "psirt@hospital.example https://hospital.example/report"
    assert security_txt(client)["Contact"] == [
        "mailto:psirt@hospital.example",
        "https://hospital.example/report",
    ]


def test_security_txt_expires_less_than_a_year_ahead_in_utc(client):
    (expires,) = security_txt(client)["Expires"]
    assert expires.endswith("Z")
    moment = datetime.strptime(expires, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    now = datetime.now(UTC)
    assert now + timedelta(days=364) < moment <= now + timedelta(days=365)


def test_security_txt_canonical_address_is_https_on_the_requested_host(client, settings):
    settings.ALLOWED_HOSTS = ["hub.example.org"]
    fields = security_txt(client, HTTP_HOST="hub.example.org")
    assert fields["Canonical"] == ["https://hub.example.org/.well-known/security.txt"]


def test_security_txt_needs_no_database_and_sets_no_cookie(client):
    # No django_db mark: a query would raise.
    response = client.get("/.well-known/security.txt")
    assert response.status_code == 200
    assert not response.cookies
