"""Playwright fixtures for the browser tests: one Chromium, a fresh context per test.

The browser is Debian's Chromium (`/usr/bin/chromium`); Playwright's own browser downloads are
never used. axe-core comes from npm (`node_modules/axe-core/axe.min.js`). Without either, the
browser tests skip with the reason, unless HUB_REQUIRE_BROWSER=1 (CI), where they fail.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an asyncio loop in the main thread, and these tests also use the
# ORM there (to create the data the live server shows). Django refuses ORM calls while a loop
# is running unless told that this is deliberate.
#
# A second consequence: while that loop runs, `django.db.connections` hands this thread a new
# connection object, one without the `_test_serialized_contents` that `serialized_rollback`
# restores from, so a serialized rollback silently restores nothing. Hence the browser is
# package-scoped (its loop stops before any test outside tests/browser runs) and the
# vocabularies are re-seeded before each browser test (`_seeded_vocabularies`).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Fail fast: a missing element should not hold the suite for Playwright's default 30 s.
TIMEOUT_MS = 10_000


def _missing(reason: str) -> None:
    """Skip with the reason on a developer's machine; fail in CI, where a skip hides a gap."""
    if os.environ.get("HUB_REQUIRE_BROWSER") == "1":
        pytest.fail(f"HUB_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    # The reason is printed with -s, and listed in the summary with -ra (pyproject's addopts).
    print(f"browser tests skipped: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def axe_path() -> Path:
    if not AXE.is_file():
        _missing(f"{AXE} is missing (run `npm install` in the project root)")
    return AXE


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One Chromium for all the browser tests (they all live in this package)."""
    if not CHROMIUM.is_file():
        _missing(f"{CHROMIUM} is missing (install Debian's `chromium` package)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _seeded_vocabularies(transactional_db: None) -> None:
    """The fitness levels, stages and exercise types of migration 0002, with their names in
    every language (migration 0006), as in production.

    Each transactional test ends by emptying every table, seeded rows included.
    """
    from django.apps import apps
    from django.utils import translation

    seed = importlib.import_module("resources.migrations.0002_seed_vocabularies").seed
    translate = importlib.import_module("resources.migrations.0006_translate_vocabularies")
    flags = importlib.import_module("resources.migrations.0008_seed_movement_flags")
    # English active: on the live model, 0002's English names land in `name_en`.
    with translation.override("en"):
        seed(apps, None)
        translate.translate(apps, None)
        flags.seed(apps, None)


def _whitenoise_serves_static(application: Any) -> Any:
    """No test static handler: WhiteNoise (in MIDDLEWARE) serves /static/ as in production."""
    return application


def _stale_static_files(static_root: Path) -> list[str]:
    """Our own static files whose collected copy differs from the source."""
    from django.contrib.staticfiles.finders import FileSystemFinder

    return sorted(
        name
        for name, storage in FileSystemFinder().list([])
        if not (static_root / name).is_file()
        or (static_root / name).read_bytes() != Path(storage.path(name)).read_bytes()
    )


@pytest.fixture(scope="session")
def live_server(request: pytest.FixtureRequest) -> Iterator[Any]:
    """pytest-django's live server, minus its static handler.

    That handler looks files up with the finders, which do not know the hashed names the
    manifest storage puts in the pages (`hub.2eda31f5077a.css`): every stylesheet would 404
    and the tests would check an unstyled site. Here the collected files are served by
    WhiteNoise from STATIC_ROOT, exactly as in production.
    """
    from django.conf import settings
    from django.contrib.staticfiles.storage import staticfiles_storage
    from django.test.testcases import LiveServerThread
    from pytest_django.live_server_helper import LiveServer

    manifest = getattr(staticfiles_storage, "manifest_name", None)
    if manifest:
        collect = "run `python manage.py collectstatic --noinput` first (`make test` does)"
        if not (Path(settings.STATIC_ROOT) / manifest).is_file():
            _missing(f"{Path(settings.STATIC_ROOT) / manifest} is missing: {collect}")
        stale = _stale_static_files(Path(settings.STATIC_ROOT))
        if stale:
            # Not a skip: the tests would pass or fail on yesterday's stylesheet.
            pytest.fail(f"collected static files are out of date ({', '.join(stale)}): {collect}")
    addr = (
        request.config.getvalue("liveserver")
        or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    server = LiveServer(addr, start=False)
    server.thread = LiveServerThread(
        server.thread.host,
        static_handler=_whitenoise_serves_static,
        connections_override=server.thread.connections_override,
        port=server.thread.port,
    )
    server.thread.daemon = True
    server.start()
    yield server
    server.stop()


@pytest.fixture
def new_context(browser: Any) -> Iterator[Callable[..., Any]]:
    """Open browser contexts with the given options; all are closed after the test."""
    contexts: list[Any] = []

    def open_context(**options: Any) -> Any:
        context = browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context: Callable[..., Any]) -> Any:
    """A page in a fresh context: no cookies or cache from another test; CSP enforced."""
    return new_context().new_page()


class Traffic:
    """Every request the page makes, every console message, and a gate for other origins."""

    def __init__(self, page: Any, origin: str) -> None:
        self.origin = origin
        self.requests: list[str] = []
        self.console: list[str] = []
        page.context.route("**/*", self._only_our_origin)
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("console", lambda message: self.console.append(message.text))
        page.on("pageerror", lambda error: self.console.append(str(error)))

    def _only_our_origin(self, route: Any) -> None:
        if self._is_ours(route.request.url):
            route.continue_()
        else:
            route.abort()

    def _is_ours(self, url: str) -> bool:
        # data: URLs never touch the network (and img-src allows them).
        return url.startswith((self.origin + "/", "data:"))

    @property
    def elsewhere(self) -> list[str]:
        return [url for url in self.requests if not self._is_ours(url)]

    @property
    def csp_violations(self) -> list[str]:
        return [text for text in self.console if "Content Security Policy" in text]
