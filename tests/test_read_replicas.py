"""Read replicas (issue #12 part 5) with a REAL streaming replica.

The test builds its own small PostgreSQL pair in a temporary folder: a primary (`initdb`,
replication allowed from 127.0.0.1 as initdb's default pg_hba.conf does) and a hot standby
made from it with `pg_basebackup -R`, each on a free port. It does not copy the shared
server on 127.0.0.1:5432: that one may refuse replication connections (its pg_hba.conf), and
copying every database on it would take minutes. The app runs as production does (gunicorn,
debug off, Redis page cache, `DATABASE_REPLICA_URLS`), and resources are published through
the ORM in `manage.py shell`, so the content version is bumped exactly as an editor's save.

It shows: a page published on the primary is served once the replica has caught up; while
the replica lags (replay paused), the new content version's page is read from the primary,
never a stale page cached as new; and the replica alone answers public pages (the primary
stopped), so they really are read there.

PostgreSQL refuses to run as root: as root the PostgreSQL programs run through
`runuser -u postgres`. Needs the PostgreSQL server programs (`pg_config --bindir`) and Redis
(database 7 is flushed). Slow by nature (about a minute: two clusters and one migration).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from django.conf import settings

pytestmark = pytest.mark.postgres

REDIS_URL = "redis://127.0.0.1:6379/7"
STARTUP_SECONDS = 90
CATCH_UP_SECONDS = 30

# Each `manage.py shell` starts the factories' sequences afresh: names and slugs are given.
PUBLISH = """
from django.utils.text import slugify
from tests.factories import ResourceFactory
resource = ResourceFactory(
    title={title!r},
    slug=slugify({title!r}),
    summary="Seen through a replica.",
    organisation__name={title!r} + " clinic",
)
print(resource.slug)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _bindir() -> Path:
    try:
        found = subprocess.run(
            ["pg_config", "--bindir"],  # noqa: S607 - found on PATH like psql
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("pg_config not found: the PostgreSQL server programs are needed")
    bindir = Path(found)
    if not (bindir / "initdb").exists():
        pytest.skip(f"initdb not in {bindir}: install the PostgreSQL server package")
    return bindir


@dataclass
class Pair:
    primary_url: str
    replica_url: str
    app: str
    bindir: Path
    folder: Path

    def run_as_postgres(self, *command: str) -> None:
        _as_postgres(self.folder, *command)


def _as_postgres(folder: Path, *command: str) -> None:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    result = subprocess.run(  # noqa: S603 (PostgreSQL's own programs, fixed arguments)
        [*prefix, *command], cwd=folder, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, f"{command[0]}: {result.stdout}{result.stderr}"


def _env(primary_url: str, replica_url: str, port: int | None = None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "HUB_", "GUNICORN_", "AWS_", "DATABASE_"))
        and key not in {"CACHE_URL", "REDIS_URL"}
    }
    env.update(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="replica-test-" + "x" * 40,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_LOG_LEVEL="WARNING",
        DATABASE_URL=primary_url,
        DATABASE_REPLICA_URLS=replica_url,
        CACHE_URL=REDIS_URL,
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


def _sql(url: str, statement: str, params: tuple = ()) -> object:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        cursor = conn.execute(statement, params)
        row = cursor.fetchone() if cursor.description else None
    return row[0] if row else None


@pytest.fixture
def pair() -> Iterator[Pair]:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("read replicas are PostgreSQL streaming standbys; run with a postgres URL")
    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        pytest.fail("run `manage.py collectstatic` first: debug-off pages need the manifest")
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).flushdb()
    except redis.ConnectionError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("Redis is not running at 127.0.0.1:6379 (CI always has it)")
    bindir = _bindir()
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: PostgreSQL refuses to run as root")

    folder = Path(tempfile.mkdtemp(prefix="hub-replica-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    primary_port, replica_port, app_port = _free_port(), _free_port(), _free_port()
    primary, replica = folder / "primary", folder / "replica"
    started: list[Path] = []
    server: subprocess.Popen | None = None
    try:
        _as_postgres(
            folder, str(bindir / "initdb"), "-D", str(primary), "-A", "trust", "-U", "root",
            "--no-sync", "-E", "UTF8",
        )  # fmt: skip
        settings_lines = [
            f"port = {primary_port}",
            "listen_addresses = '127.0.0.1'",
            f"unix_socket_directories = '{folder}'",
            "fsync = off",
            "wal_level = replica",
            "max_wal_senders = 4",
            "hot_standby = on",
        ]
        _append_as_postgres(folder, primary / "postgresql.conf", settings_lines)
        _as_postgres(
            folder, str(bindir / "pg_ctl"), "-D", str(primary), "-l", str(folder / "primary.log"),
            "-w", "start",
        )  # fmt: skip
        started.append(primary)
        base = f"postgres://root@127.0.0.1:{primary_port}"
        _sql(f"{base}/postgres", "CREATE DATABASE hub")
        primary_url, replica_url = f"{base}/hub", f"postgres://root@127.0.0.1:{replica_port}/hub"
        _manage(_env(primary_url, replica_url), "migrate", "--noinput", "-v0")

        _as_postgres(
            folder, str(bindir / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary_port),
            "-U", "root", "-D", str(replica), "-R", "-X", "stream", "-c", "fast", "--no-sync",
        )  # fmt: skip
        _append_as_postgres(folder, replica / "postgresql.auto.conf", [f"port = {replica_port}"])
        _as_postgres(
            folder, str(bindir / "pg_ctl"), "-D", str(replica), "-l", str(folder / "replica.log"),
            "-w", "start",
        )  # fmt: skip
        started.append(replica)
        assert _sql(replica_url, "SELECT pg_is_in_recovery()") is True

        log = folder / "gunicorn.log"
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "hub.wsgi"],
            cwd=settings.BASE_DIR,
            env=_env(primary_url, replica_url, app_port),
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        app = f"http://127.0.0.1:{app_port}"
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert server.poll() is None, log.read_text()[-3000:]
            try:
                if httpx.get(f"{app}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
        yield Pair(primary_url, replica_url, app, bindir, folder)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        for data in reversed(started):
            with contextlib.suppress(AssertionError):
                _as_postgres(
                    folder, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"
                )
        shutil.rmtree(folder, ignore_errors=True)


def _append_as_postgres(folder: Path, path: Path, lines: list[str]) -> None:
    text = "".join(f"{line}\n" for line in lines)
    _as_postgres(folder, "sh", "-c", f"printf '%s' \"$0\" >> {path}", text)


def _publish(pair: Pair, title: str) -> str:
    script = PUBLISH.format(title=title)
    return _manage(_env(pair.primary_url, pair.replica_url), "shell", "-c", script).split()[-1]


def _on_replica(pair: Pair, slug: str) -> bool:
    count = _sql(
        pair.replica_url, "SELECT count(*) FROM resources_resource WHERE slug = %s", (slug,)
    )
    return count == 1


def _wait_for_replica(pair: Pair, slug: str) -> None:
    deadline = time.monotonic() + CATCH_UP_SECONDS
    while not _on_replica(pair, slug):
        assert time.monotonic() < deadline, "the replica did not catch up"
        time.sleep(0.2)


def _page(pair: Pair, path: str) -> str:
    response = httpx.get(f"{pair.app}{path}", timeout=30)
    assert response.status_code == 200, response.text[:2000]
    return response.text


def test_public_pages_are_read_from_a_caught_up_replica_never_cached_stale(pair: Pair):
    first = _publish(pair, "Seated marching on the replica")
    _wait_for_replica(pair, first)
    assert "Seated marching on the replica" in _page(pair, "/en/resources/")

    # The replica stops replaying: it lags behind what the primary has committed.
    _sql(pair.replica_url, "SELECT pg_wal_replay_pause()")
    second = _publish(pair, "Balance at the kitchen counter")
    time.sleep(1)
    assert not _on_replica(pair, second)
    # The page of the new content version is read from the primary and shows the change;
    # this is also the page the cache now holds for that version.
    assert "Balance at the kitchen counter" in _page(pair, "/en/resources/")

    _sql(pair.replica_url, "SELECT pg_wal_replay_resume()")
    _wait_for_replica(pair, second)
    assert "Balance at the kitchen counter" in _page(pair, "/en/resources/")

    # With the primary stopped, only the replica can answer: public pages still do.
    pair.run_as_postgres(
        str(pair.bindir / "pg_ctl"), "-D", str(pair.folder / "primary"), "-m", "fast", "stop"
    )
    html = _page(pair, "/en/resources/?q=kitchen")
    assert "Balance at the kitchen counter" in html
    assert "Seated marching on the replica" in _page(pair, f"/en/resources/{first}/")
