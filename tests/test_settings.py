"""Configuration fails fast in production and the migrations match the models."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command

PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "a-production-secret-key-for-this-test-only",
    "DJANGO_ALLOWED_HOSTS": "hub.example.org",
}


def import_settings(**env: str | None) -> subprocess.CompletedProcess[str]:
    """Import hub.settings in a fresh interpreter with exactly this configuration."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "HUB_")) and key != "DATABASE_URL"
    }
    for key, value in {**PRODUCTION, **env}.items():
        if value is not None:
            clean[key] = value
    return subprocess.run(
        [sys.executable, "-c", "import hub.settings"],
        cwd=settings.BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_settings_load_when_everything_is_set():
    result = import_settings()
    assert result.returncode == 0, result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = import_settings(DJANGO_SECRET_KEY=None)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_an_empty_secret_key():
    result = import_settings(DJANGO_SECRET_KEY="")
    assert "ImproperlyConfigured" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = import_settings(DJANGO_ALLOWED_HOSTS=None)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_ALLOWED_HOSTS" in result.stderr


def test_debug_off_is_the_default():
    result = import_settings(DJANGO_DEBUG=None, DJANGO_SECRET_KEY=None)
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_local_development_needs_no_configuration():
    result = import_settings(DJANGO_DEBUG="true", DJANGO_SECRET_KEY=None, DJANGO_ALLOWED_HOSTS=None)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DJANGO_DEBUG", "maybe"),
        ("DJANGO_SECURE_SSL_REDIRECT", "sometimes"),
        ("DJANGO_HSTS_SECONDS", "a year"),
        ("HUB_PAGE_SIZE", "twenty"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_with_its_name(name, value):
    result = import_settings(**{name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr
    assert repr(value) in result.stderr


@pytest.mark.django_db
def test_no_model_change_lacks_a_migration():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
