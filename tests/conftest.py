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
