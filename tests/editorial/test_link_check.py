"""``manage.py check_links``: against a local TLS server, never the internet.

The checker refuses loopback addresses, so these tests allow 127.0.0.1/32 (and the server's
port) through the settings-only allowlist; the guard tests run without it. A resolver that
fails the test for any name but local ones makes sure nothing here reaches the internet.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import trustme
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from resources.editorial import linkcheck
from resources.models import LinkCheck
from tests.factories import OrganisationFactory, ResourceFactory

BIG_BODY = 50 * 1024 * 1024


class Handler(BaseHTTPRequestHandler):
    """Routes by path; every request is recorded on the server."""

    protocol_version = "HTTP/1.1"
    server: LinkServer

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests assert on ``server.requests`` instead."""

    def do_HEAD(self) -> None:
        self.route()

    def do_GET(self) -> None:
        self.route()

    def answer(self, status: int, location: str = "", length: int = 0) -> None:
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", str(length))
        self.send_header("Connection", "close")
        self.end_headers()

    def route(self) -> None:
        path = urlsplit(self.path).path
        self.server.requests.append((self.command, path, self.headers.get("User-Agent", "")))
        self.server.hosts.append(self.headers.get("Host", ""))
        port = self.server.server_address[1]
        if path == "/ok":
            self.answer(200)
        elif path == "/missing":
            self.answer(404)
        elif path == "/error":
            self.answer(500)
        elif path == "/flaky":
            self.answer(self.server.flaky_status)
        elif path == "/no-head":
            self.answer(405 if self.command == "HEAD" else 200)
        elif path.startswith("/hops/"):
            left = int(path.rsplit("/", 1)[1])
            self.answer(302, location=f"/hops/{left - 1}") if left else self.answer(200)
        elif path == "/to-loopback":
            self.answer(302, location=f"https://127.0.0.2:{port}/ok")
        elif path == "/to-metadata":
            self.answer(301, location="http://169.254.169.254/latest/meta-data/")
        elif path == "/to-file":
            self.answer(302, location="file:///etc/passwd")
        elif path == "/slow":
            time.sleep(1.5)
            self.answer(200)
        elif path == "/concurrent":
            self.concurrent()
        elif path == "/big":
            self.big()
        else:
            self.answer(404)

    def concurrent(self) -> None:
        with self.server.lock:
            self.server.in_flight += 1
            self.server.most_in_flight = max(self.server.most_in_flight, self.server.in_flight)
        time.sleep(0.3)
        with self.server.lock:
            self.server.in_flight -= 1
        self.answer(200)

    def big(self) -> None:
        """HEAD refused, GET answers with a 50 MB body the checker must not download."""
        if self.command == "HEAD":
            self.answer(405)
            return
        self.answer(200, length=BIG_BODY)
        chunk = b"x" * 65536
        try:
            while self.server.big_sent < BIG_BODY:
                self.wfile.write(chunk)
                self.server.big_sent += len(chunk)
        except OSError:
            pass  # the checker hung up: what we want
        finally:
            self.server.big_done.set()


class LinkServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        # The handshake happens in the handler's thread, not in the accepting one.
        self.socket = context.wrap_socket(
            self.socket, server_side=True, do_handshake_on_connect=False
        )
        self.requests: list[tuple[str, str, str]] = []
        self.hosts: list[str] = []
        self.flaky_status = 404
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        self.big_sent = 0
        self.big_done = threading.Event()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"https://{host}:{self.port}{path}"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def server(ca: trustme.CA) -> Iterator[LinkServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "links.test").configure_cert(context)
    httpd = LinkServer(context)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


async def local_only_resolver(host: str, port: int) -> list[str]:
    """getaddrinfo for address literals and localhost only: no test may touch the internet."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if host != "localhost":
            pytest.fail(f"A test tried to resolve {host!r} on the internet.")
    return await _system_resolver(host, port)


_system_resolver = linkcheck.system_resolver


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(linkcheck, "system_resolver", local_only_resolver)


@pytest.fixture
def ca_bundle(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def local(settings, server: LinkServer, ca_bundle: str) -> LinkServer:
    """Settings that let the checker reach the local test server, with short timeouts."""
    settings.HUB_LINK_CHECK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.HUB_LINK_CHECK_ALLOWED_PORTS = [80, 443, server.port]
    settings.HUB_LINK_CHECK_CA_BUNDLE = ca_bundle
    settings.HUB_LINK_CHECK_CONNECT_TIMEOUT = 2
    settings.HUB_LINK_CHECK_READ_TIMEOUT = 2
    settings.HUB_LINK_CHECK_DEADLINE = 10
    return server


def check(url: str, resolver: linkcheck.Resolver | None = None) -> linkcheck.CheckResult:
    config = linkcheck.CheckSettings.from_settings()
    return asyncio.run(linkcheck.check_url(url, config, resolver=resolver))


def resource_linking_to(url: str, **fields: object):
    """A resource whose organisation has no website (it would be checked too)."""
    return ResourceFactory(url=url, organisation=OrganisationFactory(website=""), **fields)


def run_command(*args: str) -> str:
    out = StringIO()
    call_command("check_links", *args, stdout=out)
    return out.getvalue()


# --- done means ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_404_link_is_broken_only_on_the_second_failing_run(local: LinkServer) -> None:
    url = local.url("/missing")
    resource_linking_to(url)

    first = run_command()

    row = LinkCheck.objects.get(url=url)
    assert (row.status_code, row.consecutive_failures, row.is_broken) == (404, 1, False)
    assert row.error == "page not found (HTTP 404)"
    assert row.checked_at is not None and row.elapsed_ms is not None
    assert row.broken_since is None
    assert "Checked 1 links: 0 ok, 1 failing (0 refused as unsafe), 0 broken." in first
    assert "Broken links" not in first

    second = run_command()

    row.refresh_from_db()
    assert (row.status_code, row.consecutive_failures, row.is_broken) == (404, 2, True)
    assert row.broken_since is not None
    assert "1 broken." in second
    assert f"  {url}  page not found (HTTP 404)" in second


@pytest.mark.django_db
def test_a_working_link_resets_a_broken_one(local: LinkServer) -> None:
    url = local.url("/flaky")
    resource_linking_to(url)
    run_command()
    run_command()
    assert LinkCheck.objects.get(url=url).is_broken

    local.flaky_status = 200
    run_command()

    row = LinkCheck.objects.get(url=url)
    assert (row.status_code, row.consecutive_failures, row.is_broken) == (200, 0, False)
    assert row.error == "" and row.broken_since is None and row.last_failed_run == ""


@pytest.mark.django_db
def test_failures_count_once_per_run() -> None:
    failed = linkcheck.CheckResult(url="https://gone.example.org/", ok=False, error="x")
    linkcheck.record([failed], run_id="run-1")
    linkcheck.record([failed], run_id="run-1")
    row = LinkCheck.objects.get()
    assert (row.consecutive_failures, row.is_broken) == (1, False)

    linkcheck.record([failed], run_id="run-2")
    row.refresh_from_db()
    assert (row.consecutive_failures, row.is_broken) == (2, True)


@pytest.mark.django_db
def test_every_address_is_checked_drafts_too_and_unused_ones_are_forgotten(
    local: LinkServer,
) -> None:
    organisation = OrganisationFactory(website=local.url("/ok"))
    ResourceFactory(
        url=local.url("/ok"),  # the same address twice: checked once
        transcript_url=local.url("/hops/1"),
        organisation=organisation,
        draft=True,
    )
    LinkCheck.objects.create(url="https://no-longer-listed.example.org/")

    output = run_command()

    assert "Checked 2 links: 2 ok" in output
    assert "Forgot 1 links" in output
    assert sorted(LinkCheck.objects.values_list("url", flat=True)) == [
        local.url("/hops/1"),
        local.url("/ok"),
    ]
    assert [path for _, path, _ in local.requests].count("/ok") == 1


@pytest.mark.django_db
def test_dry_run_records_nothing(local: LinkServer) -> None:
    resource_linking_to(local.url("/missing"))
    output = run_command("--dry-run")
    assert "1 failing" in output and "nothing was recorded" in output
    assert not LinkCheck.objects.exists()


# --- how it asks --------------------------------------------------------------------------


def test_head_first_then_get_when_head_is_refused(local: LinkServer) -> None:
    result = check(local.url("/no-head"))

    assert result.ok and result.status_code == 200
    assert [(method, path) for method, path, _ in local.requests] == [
        ("HEAD", "/no-head"),
        ("GET", "/no-head"),
    ]
    assert all("ResourceHub" in agent for _, _, agent in local.requests)


def test_a_big_page_is_not_downloaded(local: LinkServer) -> None:
    result = check(local.url("/big"))

    assert result.ok
    assert local.big_done.wait(timeout=10), "the checker neither read nor closed"
    assert local.big_sent < BIG_BODY


def test_a_server_error_and_a_404_fail(local: LinkServer) -> None:
    assert check(local.url("/error")).error == "the site had an error (HTTP 500)"
    assert check(local.url("/missing")).status_code == 404


def test_a_slow_server_times_out(local: LinkServer, settings) -> None:
    settings.HUB_LINK_CHECK_READ_TIMEOUT = 0.2
    result = check(local.url("/slow"))
    assert (result.ok, result.status_code, result.error) == (False, None, "no answer in time")


def test_the_whole_check_has_a_deadline(local: LinkServer, settings) -> None:
    settings.HUB_LINK_CHECK_DEADLINE = 0.3
    result = check(local.url("/slow"))
    assert (result.ok, result.error) == (False, "no answer within 0.3 seconds")


def test_the_command_takes_a_timeout(local: LinkServer, db) -> None:
    resource_linking_to(local.url("/slow"))
    output = run_command("--timeout", "0.2")
    assert "1 failing" in output
    assert LinkCheck.objects.get().error == "no answer in time"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--timeout", "0"], "invalid seconds value: '0'"),
        (["--timeout", "soon"], "invalid seconds value: 'soon'"),
        (["--concurrency", "0"], "invalid count value: '0'"),
        (["--concurrency", "500"], "invalid count value: '500'"),
    ],
)
def test_bad_options_get_a_readable_error(db, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run_command(*args)
    assert not LinkCheck.objects.exists()


def test_at_most_concurrency_links_are_checked_at_once(local: LinkServer) -> None:
    config = linkcheck.CheckSettings.from_settings(concurrency=2)
    urls = [local.url(f"/concurrent?n={n}") for n in range(6)]

    results = asyncio.run(linkcheck.check_urls(urls, config))

    assert all(result.ok for result in results)
    assert len(local.requests) == 6
    assert local.most_in_flight <= 2


def test_a_wrong_certificate_fails(local: LinkServer, settings) -> None:
    settings.HUB_LINK_CHECK_CA_BUNDLE = ""  # certifi's bundle: does not know the test CA
    result = check(local.url("/ok"))
    assert (result.ok, result.error) == (False, "the site's security certificate is not valid")


def test_the_connection_goes_to_the_address_that_was_checked(local: LinkServer) -> None:
    """A name is resolved once, vetted, and the connection made to that address (with the
    right Host header and TLS name), so a second DNS answer cannot point it elsewhere."""
    answers: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        answers.append(host)
        return ["127.0.0.1"] if not answers[1:] else ["10.0.0.1"]

    result = check(local.url("/ok", host="links.test"), resolver=resolver)

    assert result.ok, result.error
    assert answers == ["links.test"]
    assert local.hosts == [f"links.test:{local.port}"]
    assert result.final_url == local.url("/ok", host="links.test")


# --- redirects ----------------------------------------------------------------------------


def test_a_few_redirects_are_followed(local: LinkServer) -> None:
    result = check(local.url("/hops/3"))
    assert result.ok and result.final_url == local.url("/hops/0")


def test_too_many_redirects_fail(local: LinkServer) -> None:
    result = check(local.url("/hops/10"))
    assert (result.ok, result.error) == (False, "too many redirects (more than 5)")
    assert len(local.requests) == 6  # the first request and five redirects, no more


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/to-loopback", "redirects to a private address (127.0.0.2)"),
        ("/to-metadata", "redirects to a private address (169.254.169.254)"),
        ("/to-file", "redirects to a non-web address (file:)"),
    ],
)
def test_redirects_into_refused_targets_fail(local: LinkServer, path: str, error: str) -> None:
    result = check(local.url(path))
    assert (result.ok, result.refused, result.error) == (False, True, error)
    assert [p for _, p, _ in local.requests] == [path]


# --- the guard, without the test allowlist ---------------------------------------------------


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("https://127.0.0.1/", "points to a private or local network address (127.0.0.1)"),
        ("https://localhost/", "points to a private or local network address"),
        ("https://10.1.2.3/", "points to a private or local network address (10.1.2.3)"),
        ("http://169.254.169.254/latest/", "private or local network address (169.254.169.254)"),
        ("https://[::1]/", "points to a private or local network address (::1)"),
        ("https://[::ffff:127.0.0.1]/", "points to a private or local network address"),
        ("https://[fe80::1]/", "points to a private or local network address (fe80::1)"),
        ("https://0.0.0.0/", "points to a private or local network address (0.0.0.0)"),
        ("https://100.64.0.1/", "points to a private or local network address (100.64.0.1)"),
        ("https://224.0.0.1/", "points to a private or local network address (224.0.0.1)"),
        ("file:///etc/passwd", "not a web address (file:)"),
        ("ftp://93.184.215.14/", "not a web address (ftp:)"),
        ("https://user:secret@93.184.215.14/", "the address contains a user name or password"),
        ("https://93.184.215.14:22/", "unusual port (22)"),
    ],
)
def test_unsafe_addresses_are_refused_without_a_request(url: str, error: str) -> None:
    result = check(url)
    assert (result.ok, result.refused) == (False, True)
    assert error in result.error


def test_a_name_is_refused_if_any_of_its_addresses_is_private() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "10.0.0.7"]

    result = check("https://mixed.example.org/", resolver=resolver)
    assert result.refused
    assert result.error == "points to a private or local network address (10.0.0.7)"


def test_an_unknown_name_fails_in_plain_words() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    result = check("https://no-such-site.example.org/", resolver=resolver)
    assert (result.ok, result.refused) == (False, False)
    assert result.error == "the site's name could not be found"


def test_an_unexpected_error_fails_one_link_not_the_run(caplog) -> None:
    async def resolver(host: str, port: int) -> list[str]:
        raise RuntimeError("surprise")

    config = linkcheck.CheckSettings.from_settings()
    urls = ["https://a.example.org/", "https://b.example.org/"]
    results = asyncio.run(linkcheck.check_urls(urls, config, resolver=resolver))
    assert [r.error for r in results] == ["the check failed unexpectedly"] * 2
    assert "https://a.example.org/" in caplog.text


def test_the_allowlist_lets_only_its_networks_through(local: LinkServer, settings) -> None:
    settings.HUB_LINK_CHECK_ALLOWED_NETWORKS = ["127.0.0.2/32"]
    assert check(local.url("/ok")).refused
    assert local.requests == []


@pytest.mark.parametrize("url", ["https://exa mple.org/", "https://", "not a url", "https://[::1"])
def test_nonsense_addresses_fail_without_crashing(url: str) -> None:
    result = check(url)
    assert not result.ok and result.error


def test_the_web_process_never_imports_the_checker() -> None:
    """Views, URLs and the admin are loaded in a fresh interpreter: no linkcheck module."""
    code = (
        "import sys, django; django.setup();"
        "from django.urls import get_resolver; get_resolver().url_patterns;"
        "import hub.urls, resources.catalogue.views, resources.admin;"
        "sys.exit(1 if 'resources.editorial.linkcheck' in sys.modules else 0)"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "hub.settings",
        "DJANGO_SECRET_KEY": "x",
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "PATH": "/usr/bin:/bin",
    }
    completed = subprocess.run(  # noqa: S603 (this interpreter, fixed code)
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr


# --- admin --------------------------------------------------------------------------------


@pytest.fixture
def states(db) -> dict[str, object]:
    """One resource per link state, plus one without any address."""
    organisation = OrganisationFactory(website="")
    made = {
        state: ResourceFactory(
            title=f"Resource {state}",
            url=f"https://{state}.example.org/",
            organisation=organisation,
        )
        for state in ["broken", "failing", "ok", "unchecked"]
    }
    made["none"] = ResourceFactory(title="Resource none", url="", organisation=organisation)
    LinkCheck.objects.create(
        url="https://broken.example.org/",
        checked_at="2026-11-20T10:00Z",
        status_code=404,
        error="page not found (HTTP 404)",
        consecutive_failures=2,
        is_broken=True,
    )
    LinkCheck.objects.create(
        url="https://failing.example.org/",
        checked_at="2026-11-20T10:00Z",
        error="no answer in time",
        consecutive_failures=1,
    )
    LinkCheck.objects.create(
        url="https://ok.example.org/", checked_at="2026-11-20T10:00Z", status_code=200
    )
    return made


def changelist(client, query: str = "") -> str:
    response = client.get(reverse("admin:resources_resource_changelist") + query)
    assert response.status_code == 200
    return response.content.decode()


def test_the_changelist_shows_each_link_state_in_words(editor, states) -> None:
    page = changelist(editor)
    assert "BROKEN: page not found (HTTP 404)" in page
    assert "failing (1 run): no answer in time" in page
    assert ">OK<" in page
    assert "not checked yet" in page


@pytest.mark.parametrize(
    ("choice", "shown"),
    [
        ("broken", {"broken"}),
        ("failing", {"failing"}),
        ("ok", {"ok"}),
        ("unchecked", {"unchecked"}),
    ],
)
def test_the_link_status_filter(editor, states, choice: str, shown: set[str]) -> None:
    page = changelist(editor, f"?link={choice}")
    assert {state for state in states if f"Resource {state}<" in page} == shown


def test_a_broken_transcript_address_counts_too(editor, db) -> None:
    ResourceFactory(
        title="Video with transcript",
        url="https://ok.example.org/",
        transcript_url="https://gone.example.org/transcript",
        organisation=OrganisationFactory(website=""),
    )
    LinkCheck.objects.create(url="https://ok.example.org/", checked_at="2026-11-20T10:00Z")
    LinkCheck.objects.create(
        url="https://gone.example.org/transcript",
        checked_at="2026-11-20T10:00Z",
        error="page not found (HTTP 404)",
        consecutive_failures=3,
        is_broken=True,
    )
    assert "Video with transcript<" in changelist(editor, "?link=broken")


def test_the_changelist_query_count_does_not_grow_with_rows(editor, states) -> None:
    with CaptureQueriesContext(connection) as few:
        changelist(editor)
    organisation = OrganisationFactory(website="")
    for n in range(8):
        url = f"https://more-{n}.example.org/"
        ResourceFactory(url=url, organisation=organisation)
        LinkCheck.objects.create(url=url, checked_at="2026-11-20T10:00Z", consecutive_failures=1)
    with CaptureQueriesContext(connection) as many:
        page = changelist(editor)
    assert page.count("failing (1 run)") == 9
    assert len(many.captured_queries) == len(few.captured_queries)


def test_editors_can_read_the_link_checks_but_not_change_them(editor, editor_user, states):
    editor_user.user_permissions.add(
        Permission.objects.get(content_type__app_label="resources", codename="view_linkcheck")
    )
    page = editor.get(reverse("admin:resources_linkcheck_changelist")).content.decode()
    assert "https://broken.example.org/" in page
    assert "BROKEN: page not found (HTTP 404)" in page
    assert editor.get(reverse("admin:resources_linkcheck_add")).status_code == 403
    row = LinkCheck.objects.get(url="https://broken.example.org/")
    change = editor.get(reverse("admin:resources_linkcheck_change", args=[row.pk]))
    assert change.status_code == 200
    assert 'name="url"' not in change.content.decode()  # shown, not editable
