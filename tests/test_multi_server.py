"""Two app servers, one PostgreSQL, one Redis, one media folder: nothing lives in one process.

docs/operations.md (Replicas) promises stateless app servers behind a load balancer. This module
starts two real gunicorn processes with production settings (debug off, 2FA on, the same secret
key) on a fresh database, and checks what a load balancer would otherwise break: a login made on
one server is valid on the other, a resource published or unpublished in the admin of one server
is shown or hidden by the other on the very next request (whatever either has cached), an image
uploaded through one server is there for the other, and failed logins spread across both servers
add up to one lockout.

Needs PostgreSQL (the test's own DATABASE_URL server; a new database is created and dropped)
and Redis at 127.0.0.1:6379 (database 9 is flushed). Slow by nature: about a minute, most of
it spent migrating the new database.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from PIL import Image

pytestmark = pytest.mark.postgres

REDIS_URL = "redis://127.0.0.1:6379/9"
PASSWORD = "a long password for two servers"
LOCKED_PASSWORD = "another long password, soon locked"
TITLE = "Seated marching, seen from two servers"
ADMIN_CHANGELIST = "/admin/resources/resource/"
STARTUP_SECONDS = 90
# Each server's log file, by its base URL: shown when a server answers 500.
SERVER_LOGS: dict[str, Path] = {}

# Run inside `manage.py shell` against the new database: the accounts and the resource the
# tests then work on through HTTP only. Publishing is NOT done here, but through the admin.
SETUP = f"""
import json
from django.contrib.auth.models import User
from django_otp.plugins.otp_totp.models import TOTPDevice
from resources.models import BoneSafety
from tests.factories import ResourceFactory

boss = User.objects.create_superuser("boss", "boss@example.org", {PASSWORD!r})
device = TOTPDevice.objects.create(user=boss, name="Phone", confirmed=True)
locked = User.objects.create_user("locked", "locked@example.org", {LOCKED_PASSWORD!r},
                                  is_staff=True)
TOTPDevice.objects.create(user=locked, name="Phone", confirmed=True)
resource = ResourceFactory(in_review=True, title={TITLE!r}, image_alt="",
                           bone_metastasis_safety=BoneSafety.SUITABLE)
print(json.dumps({{"key": device.key, "pk": resource.pk, "slug": resource.slug}}))
"""


# --- Plumbing ---------------------------------------------------------------------------


def _database() -> dict:
    return settings.DATABASES["default"]


def _admin_connection():
    """An autocommit connection to the PostgreSQL server the test suite uses."""
    import psycopg

    db = _database()
    return psycopg.connect(
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
    )


def _database_url(name: str) -> str:
    db = _database()
    credentials = db.get("USER") or ""
    if db.get("PASSWORD"):
        credentials += f":{db['PASSWORD']}"
    host = db.get("HOST") or "127.0.0.1"
    return f"postgres://{credentials}@{host}:{db.get('PORT') or 5432}/{name}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_or_skip():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("Redis is not running at 127.0.0.1:6379 (CI always has it)")
    return client


def _server_env(database_url: str, media_root: Path, port: int | None = None) -> dict[str, str]:
    """Production settings, as a deployment would give them; nothing from the test run."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "HUB_", "GUNICORN_", "AWS_"))
        and key not in {"DATABASE_URL", "CACHE_URL", "REDIS_URL"}
    }
    env.update(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="the-secret-both-servers-share-" + "x" * 20,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        # Plain http between the test and the servers: no TLS proxy here.
        DJANGO_SECURE_SSL_REDIRECT="false",
        DATABASE_URL=database_url,
        CACHE_URL=REDIS_URL,
        DJANGO_MEDIA_ROOT=str(media_root),
        DJANGO_LOG_LEVEL="WARNING",
        GUNICORN_WORKERS="1",
    )
    if port is not None:
        env["GUNICORN_BIND"] = f"127.0.0.1:{port}"
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(  # noqa: S603 (our own manage.py, fixed arguments)
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _wait_until_ready(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn at {url} exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    pytest.fail(
        f"gunicorn at {url} not ready after {STARTUP_SECONDS} s:\n{log.read_text()[-3000:]}"
    )


@dataclass
class Cluster:
    a: str
    b: str
    media_root: Path
    totp_key: str
    pk: int
    slug: str


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if _database()["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("app servers share state through PostgreSQL; run with a postgres DATABASE_URL")
    _redis_or_skip().flushdb()
    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        pytest.fail("run `manage.py collectstatic` first: debug-off pages need the manifest")

    name = f"hub_multiserver_{secrets.token_hex(4)}"
    media_root = tmp_path_factory.mktemp("shared-media")
    logs = tmp_path_factory.mktemp("gunicorn-logs")
    database_url = _database_url(name)
    with _admin_connection() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    processes: list[subprocess.Popen] = []
    try:
        _manage(_server_env(database_url, media_root), "migrate", "--noinput", "-v0")
        created = json.loads(
            _manage(_server_env(database_url, media_root), "shell", "-c", SETUP).splitlines()[-1]
        )
        urls = []
        for server in ("a", "b"):
            port = _free_port()
            log = logs / f"{server}.log"
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "hub.wsgi"],
                    cwd=settings.BASE_DIR,
                    env=_server_env(database_url, media_root, port),
                    stdout=log.open("wb"),
                    stderr=subprocess.STDOUT,
                )
            )
            urls.append((f"http://127.0.0.1:{port}", processes[-1], log))
            SERVER_LOGS[urls[-1][0]] = log
        for url, process, log in urls:
            _wait_until_ready(url, process, log)
        yield Cluster(
            a=urls[0][0],
            b=urls[1][0],
            media_root=media_root,
            totp_key=created["key"],
            pk=created["pk"],
            slug=created["slug"],
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        with _admin_connection() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Visitor:
    """A browser's cookie jar, kept by hand: the servers set Secure (__Host-) cookies, which
    an HTTP client only sends over https, and here both servers are plain http behind no
    proxy. The same jar is used on both servers, as a load balancer would mix them."""

    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = httpx.request(method, url, headers=headers, timeout=30, **kwargs)
        if response.status_code >= 500:
            log = SERVER_LOGS.get(f"{response.url.scheme}://{response.url.netloc.decode()}")
            tail = log.read_text()[-3000:] if log else ""
            pytest.fail(f"{method} {url} answered {response.status_code}:\n{tail}")
        for header in response.headers.get_list("set-cookie"):
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel.value in ("", '""') or morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response

    def get(self, url: str) -> httpx.Response:
        return self.request("GET", url)

    def post(self, url: str, **kwargs) -> httpx.Response:
        return self.request("POST", url, **kwargs)


def _csrf_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "no CSRF token in the form"
    return match.group(1)


def _totp_code(key_hex: str) -> str:
    from django_otp.oath import totp

    return f"{totp(bytes.fromhex(key_hex), step=30, digits=6):06d}"


def _log_in(visitor: Visitor, server: str, username: str, password: str, code: str = ""):
    page = visitor.get(f"{server}/admin/login/")
    data = {
        "csrfmiddlewaretoken": _csrf_token(page.text),
        "username": username,
        "password": password,
        "otp_token": code,
        "next": "/admin/",
    }
    return visitor.post(f"{server}/admin/login/", data=data)


class _FormFields(HTMLParser):
    """The values a browser would submit from one form (by id), file inputs left out."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in {"file", "submit", "button", "image", "reset"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in a:
                return
            self.fields.append((name, a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.fields.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None


def _form_fields(html: str, form_id: str) -> list[tuple[str, str]]:
    parser = _FormFields(form_id)
    parser.feed(html)
    assert parser.fields, f"no form #{form_id} on the page"
    return parser.fields


def _png(width: int = 800, height: int = 600) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (40, 120, 90)).save(buffer, "PNG")
    return buffer.getvalue()


def _errors(html: str) -> str:
    return " | ".join(re.findall(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.S))[:2000]


@pytest.fixture(scope="module")
def editor(cluster: Cluster) -> Visitor:
    """The superuser, logged in once on server A with password and authenticator code."""
    visitor = Visitor()
    response = _log_in(visitor, cluster.a, "boss", PASSWORD, _totp_code(cluster.totp_key))
    assert response.status_code == 302, _errors(response.text)
    assert response.headers["location"] == "/admin/"
    return visitor


def _run_action(editor: Visitor, server: str, action: str, pk: int) -> str:
    """Tick one resource on the changelist and run a bulk action, as an editor would."""
    changelist = editor.get(f"{server}{ADMIN_CHANGELIST}")
    assert changelist.status_code == 200
    data = {
        "csrfmiddlewaretoken": _csrf_token(changelist.text),
        "action": action,
        "_selected_action": str(pk),
        "index": "0",
    }
    response = editor.post(f"{server}{ADMIN_CHANGELIST}", data=data)
    assert response.status_code == 302, _errors(response.text)
    # The message comes with the next page, as the editor sees it.
    return editor.get(f"{server}{ADMIN_CHANGELIST}").text


# --- The tests ----------------------------------------------------------------------------


def test_a_login_made_on_one_server_is_valid_on_the_other(cluster: Cluster, editor: Visitor):
    assert any(name.endswith("sessionid") for name in editor.cookies)
    on_b = editor.get(f"{cluster.b}/admin/")
    assert on_b.status_code == 200
    assert 'name="password"' not in on_b.text
    assert "boss" in on_b.text
    # A visitor without the cookie is still sent to the login page by B.
    assert Visitor().get(f"{cluster.b}/admin/").status_code == 302


@pytest.fixture(scope="module")
def image_uploaded_on_a(cluster: Cluster, editor: Visitor) -> None:
    """The editor adds an image to the resource through server A's change form."""
    change = f"{cluster.a}{ADMIN_CHANGELIST}{cluster.pk}/change/"
    page = editor.get(change)
    assert page.status_code == 200
    data: dict[str, list[str]] = {}
    for name, value in _form_fields(page.text, "resource_form"):
        data.setdefault(name, []).append(value)
    data["image_alt"] = ["A woman marching on the spot, seated"]
    data["_continue"] = ["1"]
    files = {"image": ("marching.png", _png(), "image/png")}
    response = editor.post(change, data=data, files=files)
    assert response.status_code == 302, _errors(response.text)


@pytest.mark.usefixtures("image_uploaded_on_a")
def test_an_image_uploaded_on_one_server_is_there_for_the_other(cluster: Cluster, editor: Visitor):
    # Server B's admin shows the stored file, and the file is in the shared storage.
    on_b = editor.get(f"{cluster.b}{ADMIN_CHANGELIST}{cluster.pk}/change/").text
    stored = re.search(r"resources/\d{4}/[0-9a-f]{32}-800x600\.png", on_b)
    assert stored, "server B's change form does not name the uploaded image"
    with Image.open(cluster.media_root / stored.group(0)) as image:
        assert image.size == (800, 600)


@pytest.mark.usefixtures("image_uploaded_on_a")
def test_publishing_on_one_server_shows_at_once_on_the_other_and_unpublishing_hides_it(
    cluster: Cluster, editor: Visitor
):
    public = Visitor()
    browse = f"{cluster.b}/en/resources/"
    detail = f"{cluster.b}/en/resources/{cluster.slug}/"
    for _ in range(2):  # the second answer may come from B's cache
        before = public.get(browse)
        assert before.status_code == 200
        assert TITLE not in before.text
        assert public.get(detail).status_code == 404
    assert "set-cookie" not in before.headers  # anonymous pages set no cookies
    # B's page is now in the shared Redis: what follows proves that A's publishing reaches it.
    cached = _redis_or_skip().keys("*cache_page*")
    assert cached, "server B did not cache its public page in Redis"

    message = _run_action(editor, cluster.a, "approve_selected", cluster.pk)
    assert "Approved and published 1 resource." in message

    after = public.get(browse)
    assert after.status_code == 200
    assert TITLE in after.text
    page = public.get(detail)
    assert page.status_code == 200
    assert TITLE in page.text
    # The image uploaded through A is on B's public page, from the shared storage.
    shown = re.search(r"/media/(resources/\d{4}/[^\"' ?]+)", page.text)
    assert shown, "B's public page shows no uploaded image"
    assert (cluster.media_root / shown.group(1)).is_file()

    message = _run_action(editor, cluster.a, "unpublish_selected", cluster.pk)
    assert "Unpublished 1 resource" in message
    gone = public.get(browse)
    assert gone.status_code == 200
    assert TITLE not in gone.text
    assert public.get(detail).status_code == 404


def test_failed_logins_on_both_servers_add_up_to_one_lockout(cluster: Cluster):
    visitor = Visitor()
    statuses = [
        _log_in(visitor, server, "locked", "not the password").status_code
        for server in (cluster.a, cluster.b, cluster.a, cluster.b, cluster.a)
    ]
    # Four refusals with the form shown again, then the fifth failure locks the account:
    # two of the five were counted by B, three by A.
    assert statuses[:4] == [200, 200, 200, 200]
    assert statuses[4] == 429
    # Locked on both servers, even with the right password (and before any code is asked).
    for server in (cluster.b, cluster.a):
        response = _log_in(Visitor(), server, "locked", LOCKED_PASSWORD)
        assert response.status_code == 429
        assert "Retry-After" in response.headers
