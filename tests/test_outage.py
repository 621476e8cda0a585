"""A database outage, for real: the default connection points at a server that is not there.

Visitors get a friendly 503 with Retry-After (never a traceback, never a hang), the health
endpoints say what is wrong, and the next request after the database returns is served again.
"""

from __future__ import annotations

import logging
import re
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.template.response import TemplateResponse
from django.test import RequestFactory
from django.urls import path
from django.utils import translation
from django.utils.translation import gettext

import hub.urls
from resources.models import Resource

from .factories import ResourceFactory

# Each test opens and closes real connections, so none may run inside a test transaction.
pytestmark = pytest.mark.django_db(transaction=True)

LANGUAGES = ["en", "de", "nl", "es", "pl", "sv"]
BROWSE = "/en/resources/"
FRIENDLY = "The hub is briefly unavailable"
# Far more than a refused connection takes, and far less than a hung request would.
NO_HANG_SECONDS = 15


@contextmanager
def database_unreachable(**overrides: Any) -> Iterator[None]:
    """Point the default connection at a database that is not there, then put it back.

    PostgreSQL: a closed port on this machine (or `overrides`). SQLite: a file in a directory
    that does not exist. The live connection is closed first, so every query in between has to
    connect and fails the way an outage fails. SQLite's in-memory test database would vanish if
    closed, so that connection is put aside instead and handed back afterwards.
    """
    if connection.vendor == "postgresql":
        unreachable = {"HOST": "127.0.0.1", "PORT": 1, **overrides}
    else:
        unreachable = {"NAME": "/nonexistent-hub-outage-test/db.sqlite3", **overrides}
    saved_settings = dict(connection.settings_dict)
    put_aside = None
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        put_aside, connection.connection = connection.connection, None
    else:
        connection.close()
    connection.settings_dict.update(unreachable)
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved_settings)
        if put_aside is not None:
            connection.connection = put_aside
        connection.errors_occurred = False


def timed_get(client, url: str, **extra: Any) -> tuple[HttpResponse, float]:
    started = time.monotonic()
    response = client.get(url, **extra)
    return response, time.monotonic() - started


def assert_friendly_503(response: HttpResponse, language: str = "en") -> str:
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    with translation.override(language):
        assert gettext(FRIENDLY) in html
    assert "Traceback" not in html
    assert "OperationalError" not in html
    assert len(re.findall(r"<h1[\s>]", html)) == 1
    assert not response.cookies
    return html


def test_browse_answers_a_friendly_503_while_the_database_is_down_and_recovers(client):
    ResourceFactory(title="Chair yoga")
    client.raise_request_exception = False

    with database_unreachable():
        response, seconds = timed_get(client, BROWSE)
    print(f"\n{connection.vendor}: outage answered in {seconds * 1000:.0f} ms")

    html = assert_friendly_503(response)
    assert "Chair yoga" not in html
    assert response["Content-Security-Policy"]  # the 503 passes the security middleware too
    assert seconds < NO_HANG_SECONDS

    recovered = client.get(BROWSE)
    assert recovered.status_code == 200
    assert "Chair yoga" in recovered.content.decode()


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_outage_page_is_in_the_language_of_the_address(client, language):
    client.raise_request_exception = False
    with database_unreachable():
        response = client.get(f"/{language}/resources/")
    html = assert_friendly_503(response, language)
    assert f'<html lang="{language}">' in html
    assert 'class="skip-link" href="#main"' in html


def test_a_query_first_run_by_the_template_also_answers_503(client):
    # The home page's recent resources are a lazy queryset: the database is first needed
    # while its template renders, inside the view's render() call.
    client.raise_request_exception = False
    with database_unreachable():
        response = client.get("/en/")
    assert_friendly_503(response)
    assert client.get("/en/").status_code == 200


def lazy_template_response(request: HttpRequest) -> TemplateResponse:
    """The queryset is evaluated when the response is rendered, after the view returned."""
    template = engines["django"].from_string("{% for r in resources %}{{ r.title }}{% endfor %}")
    return TemplateResponse(request, template, {"resources": Resource.objects.all()})


urlpatterns = [path("lazy/", lazy_template_response), *hub.urls.urlpatterns]


@pytest.mark.urls(__name__)
def test_a_template_response_rendered_after_the_view_also_answers_503(client):
    ResourceFactory(title="Rendered late")
    client.raise_request_exception = False
    with database_unreachable():
        response = client.get("/lazy/")
    assert_friendly_503(response)
    assert client.get("/lazy/").content.decode() == "Rendered late"


def test_the_outage_is_logged_once_as_a_warning_without_secrets_or_search_words(client, caplog):
    client.raise_request_exception = False
    caplog.set_level(logging.WARNING)
    with database_unreachable(PASSWORD="pw-that-must-not-be-logged"):
        client.get(BROWSE, {"q": "my private words"})
    outage = [record for record in caplog.records if record.name == "hub.middleware"]
    assert len(outage) == 1
    assert outage[0].levelno == logging.WARNING
    assert BROWSE in outage[0].getMessage()
    assert "OperationalError" in outage[0].getMessage()
    assert "pw-that-must-not-be-logged" not in caplog.text
    assert "private" not in caplog.text
    # Handled, so Django does not also log it as a server error with a traceback.
    assert not [record for record in caplog.records if record.name == "django.request"]


def test_the_api_answers_a_json_503_during_an_outage(client):
    client.raise_request_exception = False
    with database_unreachable():
        response = client.get("/api/v1/resources/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Content-Type"].startswith("application/json")
    assert "briefly unavailable" in response.json()["detail"]


def test_liveness_stays_ok_and_readiness_answers_503_during_an_outage(client):
    client.raise_request_exception = False
    with database_unreachable():
        live = client.get("/healthz")
        ready, seconds = timed_get(client, "/readyz")
    assert live.status_code == 200
    assert live.json() == {"status": "ok"}
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["status"] == "error"
    assert body["checks"]["database"]["error"] == "OperationalError"
    assert body["checks"]["cache"]["status"] == "ok"
    assert body["checks"]["migrations"]["status"] == "skipped"
    assert seconds < NO_HANG_SECONDS
    assert client.get("/readyz").status_code == 200


def test_the_advice_on_when_to_stop_is_still_served_during_an_outage(client):
    # The 503 page links to it, so it must not need the database.
    client.raise_request_exception = False
    with database_unreachable():
        response = client.get("/en/safety/")
    assert response.status_code == 200
    assert "when to stop" in response.content.decode()


def test_an_unknown_address_is_still_a_404_page_during_an_outage(client):
    client.raise_request_exception = False
    with database_unreachable():
        response = client.get("/de/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert '<html lang="de">' in html
    assert len(re.findall(r"<h1[\s>]", html)) == 1


@pytest.mark.postgres
def test_a_database_server_that_never_answers_times_out_instead_of_hanging(client, settings):
    if connection.vendor != "postgresql":
        pytest.skip("connect_timeout is a PostgreSQL setting; SQLite has no server to wait for")
    timeout = settings.DATABASES["default"]["OPTIONS"]["connect_timeout"]
    client.raise_request_exception = False
    # Accepts TCP connections (the kernel does, into the backlog) but never says a word: what
    # a hung or firewalled database looks like. Without connect_timeout this request waits.
    silent = socket.create_server(("127.0.0.1", 0))
    try:
        with database_unreachable(PORT=silent.getsockname()[1]):
            response, seconds = timed_get(client, BROWSE)
    finally:
        silent.close()
    print(f"\nsilent server: 503 after {seconds:.2f} s (connect_timeout={timeout} s)")
    assert_friendly_503(response)
    assert seconds < NO_HANG_SECONDS
    assert client.get(BROWSE).status_code == 200


def wsgi_get(path: str) -> int:
    """One request the way gunicorn makes it: with the request_started/finished signals that
    check and recycle database connections (the test client leaves those out)."""
    statuses: list[str] = []
    result = WSGIHandler()(RequestFactory().get(path).environ, lambda s, h: statuses.append(s))
    b"".join(result)
    result.close()
    return int(statuses[0].split()[0])


@pytest.mark.postgres
def test_after_a_database_restart_the_next_request_reconnects_without_an_error_page(settings):
    if connection.vendor != "postgresql":
        pytest.skip("needs a server that can drop the connection")
    # Both requests must reach the database: a cached page would not notice the restart.
    settings.HUB_PAGE_CACHE_SECONDS = 0
    assert wsgi_get(BROWSE) == 200  # leaves a persistent connection open (CONN_MAX_AGE)
    backend_pid = connection.connection.info.backend_pid
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [backend_pid])
    finally:
        other.close()
    # CONN_HEALTH_CHECKS notices the dead connection before the first query and replaces it.
    assert wsgi_get(BROWSE) == 200
    assert connection.connection.info.backend_pid != backend_pid


def test_a_visitor_with_a_session_cookie_gets_the_friendly_503_too(client, settings):
    # The page cache reads the session to tell a made-up cookie from a signed-in visitor:
    # without the database that read fails, and the answer is the outage page, not a 500.
    client.raise_request_exception = False
    client.cookies[settings.SESSION_COOKIE_NAME] = "x" * 32
    with database_unreachable():
        response = client.get(BROWSE)
    assert_friendly_503(response)
