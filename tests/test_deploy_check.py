"""`manage.py check --deploy` passes with production settings (issue 6, part 1).

Each test runs Django in a fresh interpreter with exactly the environment a deployment would
have, not the test run's own settings.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_ALLOWED_HOSTS": "hub.example.org",
}


def production_env(**overrides: str | None) -> dict[str, str]:
    """This machine's environment minus every hub setting, plus a production configuration
    with a fresh 50+ character random secret key (what check --deploy asks for)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "HUB_", "AXES_"))
        and key not in {"DATABASE_URL", "CACHE_URL", "REDIS_URL"}
    }
    env.update(
        PRODUCTION,
        DJANGO_SETTINGS_MODULE="hub.settings",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (this interpreter, the test's own arguments)
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def deploy_check(**overrides: str | None) -> subprocess.CompletedProcess[str]:
    return run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(**overrides)
    )


def setting(name: str, **overrides: str | None) -> str:
    result = run(
        ["-c", f"from django.conf import settings as s; print(s.{name})"],
        production_env(**overrides),
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_deploy_check_passes_with_production_settings() -> None:
    result = deploy_check()
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "no issues" in output


def test_deploy_check_passes_behind_a_tls_proxy() -> None:
    result = deploy_check(DJANGO_BEHIND_TLS_PROXY="true")
    assert result.returncode == 0, result.stdout + result.stderr


def test_deploy_check_passes_with_hsts_preload_and_silences_nothing() -> None:
    # Preload is the domain owner's choice; once made, no check needs silencing at all.
    result = deploy_check(DJANGO_HSTS_PRELOAD="true")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "(0 silenced)" in output


@pytest.mark.parametrize(
    ("overrides", "warning"),
    [
        ({"DJANGO_HSTS_SECONDS": "0"}, "security.W004"),
        ({"DJANGO_SECURE_SSL_REDIRECT": "false"}, "security.W008"),
        ({"DJANGO_SECRET_KEY": "short-and-guessable"}, "security.W009"),
    ],
    ids=["no-hsts", "no-https-redirect", "weak-secret-key"],
)
def test_deploy_check_fails_on_a_weakened_configuration(overrides, warning) -> None:
    """The check is not vacuous: weaken one setting and it fails, naming the problem."""
    result = deploy_check(**overrides)
    assert result.returncode != 0
    assert warning in result.stdout + result.stderr


def test_production_hsts_lasts_a_year_and_covers_subdomains() -> None:
    assert int(setting("SECURE_HSTS_SECONDS")) >= 365 * 24 * 60 * 60
    assert setting("SECURE_HSTS_INCLUDE_SUBDOMAINS") == "True"
    assert setting("SECURE_SSL_REDIRECT") == "True"


def test_the_proxy_header_is_trusted_only_when_a_proxy_is_configured() -> None:
    assert setting("SECURE_PROXY_SSL_HEADER") == "None"
    assert setting("SECURE_PROXY_SSL_HEADER", DJANGO_BEHIND_TLS_PROXY="true") == str(
        ("HTTP_X_FORWARDED_PROTO", "https")
    )


def test_production_cookies_use_host_prefixes_and_local_development_does_not() -> None:
    assert setting("SESSION_COOKIE_NAME") == "__Host-sessionid"
    assert setting("CSRF_COOKIE_NAME") == "__Host-csrftoken"
    # __Host- needs Secure, which a laptop's plain http://127.0.0.1:8000 cannot give.
    debug = {"DJANGO_DEBUG": "true"}
    assert setting("SESSION_COOKIE_NAME", **debug) == "sessionid"
    assert setting("SESSION_COOKIE_SECURE", **debug) == "False"
