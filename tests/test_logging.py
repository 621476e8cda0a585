"""Logs: one JSON line per request with its id, security events, and nothing about visitors."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from hub.auth import username_hash
from hub.logging import JsonFormatter, RequestIdFilter

from .test_settings import PRODUCTION

pytestmark = pytest.mark.django_db

PASSWORD = "a long editor password"
SEARCH = "lymphoedema after my second operation"
REQUEST_FIELDS = {
    "timestamp",
    "level",
    "logger",
    "message",
    "request_id",
    "method",
    "path",
    "status",
    "duration_ms",
}


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict[str, object]]]]:
    """The JSON lines production would print, as dicts (the stdout handler's formatter)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def request_lines(lines: list[dict[str, object]]) -> list[dict[str, object]]:
    return [line for line in lines if line["logger"] == "hub.request"]


# --- Request log ------------------------------------------------------------------------


def test_a_request_is_one_json_line_with_its_id(client: Client, log_lines):
    response = client.get("/en/about/")

    [line] = request_lines(log_lines())
    assert set(line) == REQUEST_FIELDS
    assert line["request_id"] == response["X-Request-ID"]
    assert line["method"] == "GET"
    assert line["path"] == "/en/about/"
    assert line["status"] == 200
    assert line["level"] == "INFO"
    assert isinstance(line["duration_ms"], float)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", str(line["timestamp"]))


def test_search_text_never_reaches_the_log(client: Client, log_lines):
    found = client.get("/en/resources/", {"q": SEARCH, "level": "gentle"}, follow=True)
    assert found.status_code == 200
    assert SEARCH in found.content.decode(), "the page still shows the visitor their search"
    refused = client.get("/en/resources/", {"q": SEARCH, "level": "no-such-level"}, follow=True)
    assert refused.status_code == 400

    lines = request_lines(log_lines())
    assert len(lines) >= 2
    assert {line["path"] for line in lines} == {"/en/resources/"}
    everything = json.dumps(log_lines())
    assert "lymphoedema" not in everything
    assert "level=" not in everything


def test_request_lines_hold_no_address_and_no_cookie(client: Client, log_lines):
    client.cookies["sessionid"] = "a-secret-session-key"
    client.get("/en/about/", REMOTE_ADDR="192.0.2.44", HTTP_USER_AGENT="Mozilla/5.0 Test")
    [line] = request_lines(log_lines())
    text = json.dumps(line)
    assert "192.0.2.44" not in text
    assert "a-secret-session-key" not in text
    assert "Mozilla" not in text


def test_an_error_is_logged_with_its_status(client: Client, log_lines):
    client.get("/en/resources/no-such-resource/")
    [line] = request_lines(log_lines())
    assert line["status"] == 404
    assert line["path"] == "/en/resources/no-such-resource/"


def test_a_redirect_made_by_middleware_is_logged_too(client: Client, log_lines):
    response = client.get("/en/about")
    assert response.status_code == 301
    [line] = request_lines(log_lines())
    assert line["status"] == 301
    assert line["request_id"] == response["X-Request-ID"]


# --- Request ids ------------------------------------------------------------------------


def test_a_new_request_id_is_made_when_none_is_sent(client: Client):
    first = client.get("/en/about/")["X-Request-ID"]
    second = client.get("/en/about/")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


def test_a_safe_incoming_request_id_is_kept_and_echoed(client: Client, log_lines):
    response = client.get("/en/about/", headers={"X-Request-ID": "lb-7f3a.91:42_x"})
    assert response["X-Request-ID"] == "lb-7f3a.91:42_x"
    [line] = request_lines(log_lines())
    assert line["request_id"] == "lb-7f3a.91:42_x"


@pytest.mark.parametrize(
    "unsafe",
    [
        "a" * 65,
        "id with spaces",
        'id"},{"level":"forged',
        "<script>",
        "-starts-with-a-dash",
        "ünïcode",
    ],
)
def test_an_unsafe_incoming_request_id_is_replaced(client: Client, log_lines, unsafe: str):
    response = client.get("/en/about/", headers={"X-Request-ID": unsafe})
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    [line] = request_lines(log_lines())
    assert line["request_id"] == response["X-Request-ID"]


def test_every_line_logged_during_a_request_carries_its_id(client: Client, log_lines):
    response = client.post(
        "/admin/login/", {"username": "nobody", "password": "wrong"}, REMOTE_ADDR="192.0.2.5"
    )
    lines = log_lines()
    assert {line["logger"] for line in lines} >= {"hub.request", "hub.security"}
    assert {line["request_id"] for line in lines} == {response["X-Request-ID"]}


def test_lines_outside_a_request_have_no_id(log_lines):
    logging.getLogger("hub.test").warning("started")
    [line] = log_lines()
    assert line["request_id"] is None
    assert line["message"] == "started"


# --- Security log -----------------------------------------------------------------------


@pytest.fixture
def staff() -> User:
    return User.objects.create_user("editor", "editor@example.org", PASSWORD, is_staff=True)


@pytest.fixture
def phone(staff: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=staff, name="Phone")


def security_events(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "hub.security"]


def log_in(client: Client, username: str, password: str, token: str = ""):
    return client.post(
        "/admin/login/",
        {"username": username, "password": password, "otp_token": token},
        REMOTE_ADDR="192.0.2.10",
    )


def test_a_staff_login_and_logout_are_logged_with_username_and_address(
    client: Client, staff, phone, caplog
):
    token = f"{totp(phone.bin_key):06d}"
    caplog.set_level(logging.INFO, logger="hub.security")
    assert log_in(client, "editor", PASSWORD, token).status_code == 302
    client.post("/admin/logout/", REMOTE_ADDR="192.0.2.10")

    login, logout = security_events(caplog)
    assert (login.event, login.username, login.client_ip) == ("login", "editor", "192.0.2.10")
    assert (logout.event, logout.username) == ("logout", "editor")
    assert PASSWORD not in caplog.text
    assert token not in caplog.text


def test_a_failure_names_a_staff_account_but_only_hashes_anything_else(
    client: Client, staff, caplog
):
    log_in(client, "editor", "wrong password")
    # A password typed into the username box must not end up in the log.
    log_in(client, "MySecretPassw0rd!", "MySecretPassw0rd!")

    staff_failure, other_failure = security_events(caplog)
    assert staff_failure.event == "login_failed"
    assert staff_failure.username == "editor"
    assert staff_failure.client_ip == "192.0.2.10"
    assert other_failure.event == "login_failed"
    assert not hasattr(other_failure, "username")
    assert other_failure.username_hash == username_hash("MySecretPassw0rd!")
    assert "MySecretPassw0rd!" not in caplog.text
    assert "wrong password" not in caplog.text


def test_a_wrong_code_is_logged_as_a_failure_without_the_code(client: Client, staff, phone, caplog):
    log_in(client, "editor", PASSWORD, "314159")
    [failure] = security_events(caplog)
    assert (failure.event, failure.reason, failure.username) == (
        "login_failed",
        "one-time code",
        "editor",
    )
    assert "314159" not in caplog.text


def test_a_lockout_is_logged(client: Client, staff, caplog):
    for _ in range(5):
        log_in(client, "editor", "wrong password")
    events = [record.event for record in security_events(caplog)]
    assert Counter(events) == {"login_failed": 5, "lockout": 1}
    [lockout] = [record for record in security_events(caplog) if record.event == "lockout"]
    assert (lockout.username, lockout.client_ip) == ("editor", "192.0.2.10")
    assert lockout.levelname == "WARNING"


# --- Production configuration -----------------------------------------------------------


def run_with_settings(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "HUB_"))}
    clean.update(PRODUCTION, DJANGO_SECURE_SSL_REDIRECT="false", **env)
    clean["DJANGO_ALLOWED_HOSTS"] = "testserver"
    return subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


REQUEST_IN_A_FRESH_PROCESS = (
    "import django; django.setup(); from django.test import Client; "
    "Client().get('/robots.txt', {'q': 'my private words'})"
)


def test_production_prints_json_request_lines_to_stdout():
    result = run_with_settings(REQUEST_IN_A_FRESH_PROCESS, DJANGO_SETTINGS_MODULE="hub.settings")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    [line] = [line for line in lines if line["logger"] == "hub.request"]
    assert line["path"] == "/robots.txt"
    assert line["status"] == 200
    assert "private" not in result.stdout + result.stderr


def test_text_logs_can_be_chosen_and_are_the_default_while_debugging():
    for env in ({"HUB_LOG_FORMAT": "text"}, {"DJANGO_DEBUG": "true"}):
        result = run_with_settings(
            REQUEST_IN_A_FRESH_PROCESS, DJANGO_SETTINGS_MODULE="hub.settings", **env
        )
        assert result.returncode == 0, result.stderr
        assert "INFO hub.request: GET /robots.txt 200 [" in result.stdout
        assert not result.stdout.lstrip().startswith("{")


def test_an_unknown_log_format_is_refused():
    result = run_with_settings("import hub.settings", HUB_LOG_FORMAT="yaml")
    assert result.returncode != 0
    assert "HUB_LOG_FORMAT must be json or text, not 'yaml'" in result.stderr
