"""Fixtures shared by every test module (browser fixtures live in tests/browser/)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path: Path) -> None:
    """Uploaded files go to a temporary folder, never the developer's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"


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


EDITOR_PERMISSIONS = [
    ("resources", "add_resource"),
    ("resources", "change_resource"),
    ("resources", "view_resource"),
    ("resources", "view_organisation"),
    ("resources", "view_tag"),
]


@pytest.fixture
def editor_user(db) -> User:
    """A member of charity staff: admin access to resources, not a superuser."""
    user = User.objects.create_user(
        "editor", "editor@example.org", "a long editor password", is_staff=True
    )
    for app_label, codename in EDITOR_PERMISSIONS:
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


@pytest.fixture
def editor(editor_user: User) -> Client:
    """A test client logged in to the admin as an editor."""
    client = Client()
    client.force_login(editor_user)
    return client
