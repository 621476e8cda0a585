"""Fixtures shared by every test module (browser fixtures live in tests/browser/)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, User
from django.test import Client


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path: Path) -> None:
    """Uploaded files go to a temporary folder, never the developer's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Each test starts with an empty cache: the database is rolled back after a test, the
    cache is not, and a page cached by one test would otherwise be served to the next."""
    from django.core.cache import caches

    from hub.cache import breaker

    for cache in caches.all():
        cache.clear()
    # A test that made the cache fail must not leave it skipped for the next one.
    breaker.reset()


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _force_login_includes_the_second_factor(monkeypatch: pytest.MonkeyPatch) -> None:
    """`client.force_login(staff_user)` stands for a complete staff login: password and code.

    The admin requires a verified one-time code, as in production (HUB_ADMIN_REQUIRE_2FA is on
    whenever debug is off). Tests that are not about logging in skip the form, so here the
    staff user gets a TOTP device and the session is marked as verified by it, exactly as
    django_otp.login() does after a correct code. The login itself, code included, is tested
    through the real form in test_admin_login.py.
    """
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    password_only = Client.force_login

    def force_login(self: Client, user: User, backend: str | None = None) -> None:
        password_only(self, user, backend)
        if user.is_staff:
            device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
            if device is None:
                device = TOTPDevice.objects.create(user=user, name="Test authenticator")
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()

    monkeypatch.setattr(Client, "force_login", force_login)


def _member_of(role: str, username: str, **names: str) -> User:
    """A staff account in one of the roles of migration 0010 (issue #4)."""
    group = Group.objects.filter(name=role).first()
    if group is None:  # a transactional (browser) test emptied the tables: seed them again
        migration = importlib.import_module("resources.migrations.0010_roles")
        migration.create_roles(django_apps, None)
        group = Group.objects.get(name=role)
    user = User.objects.create_user(
        username, f"{username}@example.org", f"a long {username} password", is_staff=True, **names
    )
    user.groups.add(group)
    return user


def _logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def editor_user(db) -> User:
    """A member of charity staff in the Editor group: edits, never rates or publishes."""
    return _member_of("Editor", "editor")


@pytest.fixture
def editor(editor_user: User) -> Client:
    """A test client logged in to the admin as an editor."""
    return _logged_in(editor_user)


@pytest.fixture
def reviewer_user(db) -> User:
    """A clinical reviewer: rates safety, approves, publishes, sends back."""
    return _member_of("Clinical reviewer", "reviewer", first_name="Anna", last_name="Jansen")


@pytest.fixture
def reviewer(reviewer_user: User) -> Client:
    return _logged_in(reviewer_user)


@pytest.fixture
def second_reviewer_user(db) -> User:
    """Another clinician, to approve what the first one changed (four eyes)."""
    return _member_of("Clinical reviewer", "reviewer2", first_name="Ben", last_name="Okafor")


@pytest.fixture
def second_reviewer(second_reviewer_user: User) -> Client:
    return _logged_in(second_reviewer_user)


@pytest.fixture
def site_admin_user(db) -> User:
    """A member of "Site admin" (not a superuser): everything, users included."""
    return _member_of("Site admin", "siteadmin")


@pytest.fixture
def site_admin(site_admin_user: User) -> Client:
    return _logged_in(site_admin_user)


# --- What this machine lacks, said once at the end of the run ----------------------------

# The system programs beyond Python and npm, with what each is for. `make test` installs them
# when it runs as root with apt-get (scripts/install-test-tools.sh); otherwise the run ends by
# naming what is missing, once, instead of a line per skipped test.
SYSTEM_TOOLS = {
    "chromium": (Path("/usr/bin/chromium"), "the browser tests (tests/browser/)"),
    "wrk": (Path("/usr/bin/wrk"), "bench/run.py"),
}


def missing_tools_advice(tools: dict[str, tuple[Path, str]], browser_skips: int) -> list[str]:
    """The lines that say what to install, or none when nothing is missing."""
    missing = {name: use for name, (path, use) in tools.items() if not path.exists()}
    if not missing:
        return []
    lines = []
    for name, use in missing.items():
        skipped = f": {browser_skips} tests skipped" if name == "chromium" and browser_skips else ""
        lines.append(f"{name} is not installed, needed by {use}{skipped}.")
    names = " ".join(missing)
    lines.append(
        f"Install with `sudo apt-get install {names}` (Debian), or run `make test` as root "
        f"where apt-get works: it installs them itself."
    )
    return lines


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    browser_skips = sum(
        1
        for report in terminalreporter.stats.get("skipped", [])
        if report.nodeid.startswith("tests/browser/")
    )
    lines = missing_tools_advice(SYSTEM_TOOLS, browser_skips)
    if lines:
        terminalreporter.section("missing system tools", sep="=", yellow=True)
        for line in lines:
            terminalreporter.write_line(line)
