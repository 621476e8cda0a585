"""Staff log in with a password and a one-time code; guessing is paused, not rewarded."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from hub.auth import client_ip

from .test_settings import PRODUCTION

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
ADMIN = "/admin/"
PASSWORD = "a long editor password"
OFFICE = "192.0.2.10"  # documentation addresses (RFC 5737), never contacted
HOME = "198.51.100.7"
PROXY = "203.0.113.1"


@pytest.fixture
def staff() -> User:
    return User.objects.create_user("editor", "editor@example.org", PASSWORD, is_staff=True)


@pytest.fixture
def phone(staff: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=staff, name="Phone")


def code(device: TOTPDevice) -> str:
    """What the authenticator app shows right now."""
    return f"{totp(device.bin_key, step=device.step, digits=device.digits):0{device.digits}d}"


def log_in(client: Client, username: str, password: str, token: str = "", **extra: str):
    data = {"username": username, "password": password, "next": ADMIN}
    if token:
        data["otp_token"] = token
    return client.post(LOGIN, data, **extra)


def can_open_admin(client: Client) -> bool:
    response = client.get(ADMIN)
    return response.status_code == 200 and "login" not in response.get("Location", "")


def failures(username: str, ip_address: str) -> int:
    return sum(
        AccessAttempt.objects.filter(username=username, ip_address=ip_address).values_list(
            "failures_since_start", flat=True
        )
    )


# --- The second factor ------------------------------------------------------------------


def test_login_page_asks_for_username_password_and_one_time_code(client: Client):
    page = client.get(LOGIN).content.decode()
    assert page.count("<h1") == 1
    assert 'name="username"' in page
    assert 'name="password"' in page
    assert 'name="otp_token"' in page
    assert "One-time code" in page
    assert 'autocomplete="one-time-code"' in page


def test_password_and_current_code_open_the_admin(client: Client, staff, phone):
    response = log_in(client, "editor", PASSWORD, code(phone))
    assert response.status_code == 302
    assert response["Location"] == ADMIN
    assert can_open_admin(client)


def test_password_alone_is_refused_when_staff_need_a_second_factor(client: Client, staff, phone):
    response = log_in(client, "editor", PASSWORD)
    assert response.status_code == 200
    assert "Enter the 6-digit code from your authenticator app." in response.content.decode()
    assert not can_open_admin(client)


def test_a_wrong_code_is_refused_and_counts_as_a_failed_login(client: Client, staff, phone):
    wrong = f"{(int(code(phone)) + 1) % 1_000_000:06d}"
    response = log_in(client, "editor", PASSWORD, wrong)
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert not can_open_admin(client)
    assert failures("editor", "127.0.0.1") == 1


def test_a_refused_page_does_not_send_the_password_back(client: Client, staff, phone):
    page = log_in(client, "editor", PASSWORD, "000000").content.decode()
    assert PASSWORD not in page


def test_staff_without_an_authenticator_are_told_to_ask_for_enrolment(client: Client, staff):
    response = log_in(client, "editor", PASSWORD, "123456")
    page = response.content.decode()
    assert "has no authenticator app set up yet" in page
    assert "Ask a site administrator to enrol you." in page
    assert not can_open_admin(client)


def test_a_password_only_session_cannot_open_the_admin_once_codes_are_required(
    client: Client, staff, settings
):
    settings.HUB_ADMIN_REQUIRE_2FA = False
    assert log_in(client, "editor", PASSWORD).status_code == 302
    assert can_open_admin(client)

    settings.HUB_ADMIN_REQUIRE_2FA = True
    assert client.get(ADMIN).status_code == 302


def test_in_local_development_a_password_is_enough(client: Client, staff, settings):
    settings.HUB_ADMIN_REQUIRE_2FA = False
    assert 'name="otp_token"' not in client.get(LOGIN).content.decode()
    response = log_in(client, "editor", PASSWORD)
    assert response.status_code == 302
    assert can_open_admin(client)


@pytest.mark.parametrize(
    ("env", "required"),
    [
        ({}, "True"),
        ({"DJANGO_DEBUG": "true"}, "False"),
        ({"HUB_ADMIN_REQUIRE_2FA": "false"}, "False"),
        ({"DJANGO_DEBUG": "true", "HUB_ADMIN_REQUIRE_2FA": "true"}, "True"),
    ],
)
def test_codes_are_required_unless_debugging_or_switched_off(env: dict[str, str], required: str):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "HUB_"))}
    clean.update(PRODUCTION, **env)
    result = subprocess.run(
        [sys.executable, "-c", "import hub.settings as s; print(s.HUB_ADMIN_REQUIRE_2FA)"],
        cwd=settings.BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == required


# --- Lockouts (django-axes) -------------------------------------------------------------


def fail_five_times(client: Client, username: str = "editor", address: str = OFFICE):
    responses = [
        log_in(client, username, "not the password", REMOTE_ADDR=address) for _ in range(5)
    ]
    return responses[-1]


def test_five_failures_lock_that_username_from_that_address(client: Client, staff, phone):
    fifth = fail_five_times(client)
    assert fifth.status_code == 429
    assert fifth["Retry-After"] == str(15 * 60)

    response = log_in(client, "editor", PASSWORD, code(phone), REMOTE_ADDR=OFFICE)
    assert response.status_code == 429
    page = response.content.decode()
    assert page.count("<h1") == 1
    assert "Too many login attempts" in page
    assert "Please wait 15 minutes, then try again." in page
    assert not can_open_admin(client)


def test_four_failures_do_not_lock(client: Client, staff, phone):
    for _ in range(4):
        assert log_in(client, "editor", "nope", REMOTE_ADDR=OFFICE).status_code == 200
    response = log_in(client, "editor", PASSWORD, code(phone), REMOTE_ADDR=OFFICE)
    assert response.status_code == 302
    assert failures("editor", OFFICE) == 0, "a successful login resets the count"


def test_the_same_username_from_another_address_is_not_locked(staff, phone):
    fail_five_times(Client())
    elsewhere = Client()
    response = log_in(elsewhere, "editor", PASSWORD, code(phone), REMOTE_ADDR=HOME)
    assert response.status_code == 302
    assert can_open_admin(elsewhere)


def test_another_username_from_the_locked_address_is_not_locked(staff):
    reviewer = User.objects.create_user("reviewer", password="another long password", is_staff=True)
    device = TOTPDevice.objects.create(user=reviewer, name="Phone")
    fail_five_times(Client())
    colleague = Client()
    response = log_in(
        colleague, "reviewer", "another long password", code(device), REMOTE_ADDR=OFFICE
    )
    assert response.status_code == 302


def test_login_works_again_after_the_cool_off(client: Client, staff, phone):
    fail_five_times(client)
    assert log_in(client, "editor", "nope", REMOTE_ADDR=OFFICE).status_code == 429

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=14))
    assert log_in(client, "editor", "nope", REMOTE_ADDR=OFFICE).status_code == 429, (
        "each attempt during the lockout restarts the wait"
    )

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    response = log_in(client, "editor", PASSWORD, code(phone), REMOTE_ADDR=OFFICE)
    assert response.status_code == 302
    assert can_open_admin(client)


def test_an_administrator_can_lift_a_lockout_at_once(client: Client, staff, phone):
    fail_five_times(client)
    call_command("axes_reset_username", "editor", verbosity=0)
    response = log_in(client, "editor", PASSWORD, code(phone), REMOTE_ADDR=OFFICE)
    assert response.status_code == 302


def test_wrong_codes_lock_out_like_wrong_passwords(client: Client, staff, phone, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp's own per-device delay, not under test
    for _ in range(4):
        assert log_in(client, "editor", PASSWORD, "000000").status_code == 200
    assert log_in(client, "editor", PASSWORD, "000000").status_code == 429
    assert log_in(client, "editor", PASSWORD, code(phone)).status_code == 429


# --- The client's address ---------------------------------------------------------------


def test_x_forwarded_for_is_ignored_without_trusted_proxies(client: Client, staff, settings):
    settings.HUB_TRUSTED_PROXIES = []
    for n in range(5):
        log_in(client, "editor", "nope", REMOTE_ADDR=OFFICE, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert failures("editor", OFFICE) == 5
    response = log_in(
        client, "editor", "nope", REMOTE_ADDR=OFFICE, HTTP_X_FORWARDED_FOR="192.0.2.99"
    )
    assert response.status_code == 429, "a forged header must not dodge the lockout"


def test_a_rotating_header_from_a_peer_that_is_not_our_proxy_gives_no_extra_guesses(
    staff, settings
):
    # Deployed behind its proxy, but the attacker reaches the app server directly (or through
    # some other host): the header is theirs, so only their own address counts.
    settings.HUB_TRUSTED_PROXIES = [PROXY, "10.0.0.0/8"]
    attacker = Client(REMOTE_ADDR=OFFICE)
    statuses = [
        log_in(attacker, "editor", "nope", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
        for n in range(12)
    ]
    assert statuses == [200] * 4 + [429] * 8, "five guesses in all, however the header rotates"
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {OFFICE}


def test_behind_a_trusted_proxy_the_address_it_saw_is_locked(staff, phone, settings):
    settings.HUB_TRUSTED_PROXIES = [PROXY]
    attacker = Client(REMOTE_ADDR=PROXY)
    for n in range(5):
        # The proxy appends the address it saw; what the client sent comes first.
        log_in(attacker, "editor", "nope", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, {OFFICE}")
    assert failures("editor", OFFICE) == 5
    assert not AccessAttempt.objects.filter(ip_address=PROXY).exists()
    response = log_in(attacker, "editor", "nope", HTTP_X_FORWARDED_FOR=f"192.0.2.77, {OFFICE}")
    assert response.status_code == 429, "rotating the client's own part of the header is no help"

    colleague = Client(REMOTE_ADDR=PROXY)
    response = log_in(colleague, "editor", PASSWORD, code(phone), HTTP_X_FORWARDED_FOR=HOME)
    assert response.status_code == 302, "other people behind the same proxy are not locked"


@pytest.mark.parametrize(
    ("proxies", "peer", "forwarded", "expected"),
    [
        ([], OFFICE, "192.0.2.1", OFFICE),
        ([], PROXY, "192.0.2.1", PROXY),
        ([OFFICE], PROXY, "192.0.2.1", PROXY),  # the peer is not a proxy of ours
        ([PROXY], PROXY, "192.0.2.1", "192.0.2.1"),
        ([PROXY], PROXY, "198.51.100.9, 192.0.2.1", "192.0.2.1"),
        ([PROXY], PROXY, "  2001:db8::1 ", "2001:db8::1"),
        ([PROXY], PROXY, "not-an-address", PROXY),
        ([PROXY], PROXY, "", PROXY),
        # Two proxies in a row (CDN, then load balancer): the right-most untrusted address.
        (["203.0.113.0/24", "10.0.0.0/8"], "10.1.2.3", f"192.0.2.5, {HOME}, 203.0.113.9", HOME),
        (["10.0.0.0/8"], "10.1.2.3", "10.9.9.9, 10.0.0.1", "10.9.9.9"),  # all ours
        (["10.0.0.0/8"], "10.1.2.3", f"{HOME}, junk, 10.0.0.1", "10.0.0.1"),
        (["2001:db8::/32"], "2001:db8::5", HOME, HOME),
    ],
)
def test_client_ip(rf, settings, proxies, peer: str, forwarded: str, expected: str):
    settings.HUB_TRUSTED_PROXIES = proxies
    request = rf.get("/admin/login/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_a_trusted_proxy_that_is_not_an_address_stops_the_server_from_starting() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "hub.settings", "HUB_TRUSTED_PROXIES": "x"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "HUB_TRUSTED_PROXIES: 'x' is not an IP address or network." in result.stderr


# --- Enrolment --------------------------------------------------------------------------


def test_enrol_totp_gives_a_staff_account_a_working_authenticator(staff, capsys):
    call_command("enrol_totp", "editor")
    shown = capsys.readouterr().out
    device = TOTPDevice.objects.get(user=staff)
    assert device.config_url in shown
    assert "otpauth://totp/Resource%20Hub%3Aeditor?secret=" in shown
    response = log_in(Client(), "editor", PASSWORD, code(device))
    assert response.status_code == 302


def test_enrol_totp_keeps_an_existing_authenticator_unless_told_to_replace_it(staff, phone):
    with pytest.raises(CommandError, match="already has an authenticator app"):
        call_command("enrol_totp", "editor")
    call_command("enrol_totp", "editor", "--replace", stdout=None)
    assert list(TOTPDevice.objects.filter(user=staff)) != [phone]
    assert TOTPDevice.objects.filter(user=staff).count() == 1


def test_enrol_totp_refuses_an_account_without_admin_access(db):
    User.objects.create_user("visitor", password="a long visitor password")
    with pytest.raises(CommandError, match="not a staff account"):
        call_command("enrol_totp", "visitor")


def test_the_admin_shows_a_qr_code_to_enrol_a_colleague(admin_client: Client, staff, phone):
    config = admin_client.get(f"/admin/otp_totp/totpdevice/{phone.pk}/config/")
    assert config.status_code == 200
    qr = admin_client.get(f"/admin/otp_totp/totpdevice/{phone.pk}/qrcode/")
    assert qr.status_code == 200
    assert qr["Content-Type"] == "image/svg+xml"
    assert b"<svg" in qr.content


# --- Passwords (NIST SP 800-63B) --------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    ["short", "password1234", "editor.example.org", "x" * 129],
    ids=["too short", "common", "like the account", "too long"],
)
def test_weak_passwords_are_refused(staff, password: str):
    with pytest.raises(ValidationError):
        validate_password(password, staff)


@pytest.mark.parametrize(
    "password",
    [
        "walking by the canal every tuesday",
        "839201746618",  # digits only: no composition rules
        "correct horse battery staple " * 4,  # 116 characters: long passphrases are welcome
    ],
)
def test_long_passphrases_are_accepted(staff, password: str):
    validate_password(password, staff)


# --- Session lifetime (issue 16, defect 9) -----------------------------------------------


def session_of(client: Client):
    from django.contrib.sessions.models import Session

    return Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)


def edit_session(client: Client, **values: int) -> None:
    session = client.session
    session.update(values)
    session.save()


def test_staff_sessions_last_twelve_idle_hours_not_two_weeks(client: Client, staff) -> None:
    assert settings.HUB_STAFF_SESSION_IDLE_HOURS == 12
    assert settings.HUB_STAFF_SESSION_MAX_DAYS == 7
    client.force_login(staff)
    response = client.get(ADMIN)
    assert response.status_code == 200
    left = session_of(client).expire_date - timezone.now()
    assert timedelta(hours=11, minutes=59) < left <= timedelta(hours=12)


def test_each_request_renews_the_idle_timer(client: Client, staff) -> None:
    client.force_login(staff)
    edit_session(client, hub_renewed_at=int(time.time()) - 3600)
    session_of(client).__class__.objects.update(expire_date=timezone.now() + timedelta(hours=11))
    assert client.get(ADMIN).status_code == 200
    left = session_of(client).expire_date - timezone.now()
    assert left > timedelta(hours=11, minutes=59), "the request renewed the session"


def test_an_idle_session_is_over(client: Client, staff) -> None:
    client.force_login(staff)
    session_of(client).__class__.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(ADMIN)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_a_busy_session_still_ends_seven_days_after_the_login(client: Client, staff) -> None:
    client.force_login(staff)
    week = 7 * 86400
    edit_session(client, hub_login_at=int(time.time()) - week + 3600)
    assert client.get(ADMIN).status_code == 200
    # Renewed, but only up to the absolute limit: one hour left, not twelve.
    edit_session(client, hub_renewed_at=0)
    assert client.get(ADMIN).status_code == 200
    assert session_of(client).expire_date - timezone.now() <= timedelta(hours=1)

    edit_session(client, hub_login_at=int(time.time()) - week - 1)
    response = client.get(ADMIN)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert client.get(ADMIN).status_code == 302, "logged out, not just turned away once"


def test_the_session_limits_are_settings(settings, client: Client, staff) -> None:
    settings.HUB_STAFF_SESSION_IDLE_HOURS = 2
    client.force_login(staff)
    assert client.get(ADMIN).status_code == 200
    assert session_of(client).expire_date - timezone.now() <= timedelta(hours=2)
