"""Protection of the editors' admin: second factor, lockouts, client address, security log.

- `HubAdminSite` is `admin.site` (see hub/apps.py). With HUB_ADMIN_REQUIRE_2FA on (the default
  whenever DEBUG is off) it lets in only staff who logged in with password *and* a one-time
  code from a TOTP device (django-otp); with it off (local development) a password is enough.
- django-axes counts failed logins per username + client address and pauses that pair for
  AXES_COOLOFF_TIME; a wrong one-time code counts as a failure too (`clean_otp`).
- `client_ip` is the address axes locks and the security log records.
- Every login, logout, failure and lockout goes to the `hub.security` logger. Usernames of staff
  accounts are logged as they are; any other attempted username is logged only as a keyed hash,
  because it may be a password typed into the wrong box. Passwords and codes are never logged.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import time
from collections.abc import Callable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Any

from axes.helpers import get_cool_off
from axes.signals import user_locked_out
from django import forms
from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import SESSION_KEY, get_user_model, logout
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.exceptions import ValidationError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite
from django_otp.models import Device

security_log = logging.getLogger("hub.security")

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network


# --- Client address ---------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _address(value: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def client_ip(request: HttpRequest | None) -> str | None:
    """The address of the client, as far as this server can trust it.

    X-Forwarded-For is read only when the connection itself comes from a proxy listed in
    HUB_TRUSTED_PROXIES. Each proxy appends the address it saw, so the header is read from
    the right: the first address that is not one of our proxies is the client; anything left of
    it is whatever the client chose to send. From any other peer the header is ignored: a
    forged header must not let an attacker pick the address that gets locked.
    """
    if request is None:
        return None
    peer = request.META.get("REMOTE_ADDR") or None
    networks = _networks(tuple(settings.HUB_TRUSTED_PROXIES))

    def trusted(address: IPAddress | None) -> bool:
        return address is not None and any(address in network for network in networks)

    nearest = _address(peer or "")
    if not trusted(nearest):
        return peer
    for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        address = _address(hop)
        if address is None:
            break  # not written by a proxy of ours: stop at the last hop we can vouch for
        nearest = address
        if not trusted(address):
            break
    return str(nearest)


# --- Admin login with a one-time code -----------------------------------------------------


class HubAdminAuthenticationForm(OTPAdminAuthenticationForm):
    """Username, password and the code from the staff member's authenticator app, on one page."""

    otp_token = forms.CharField(
        label=_("One-time code"),
        required=False,
        max_length=16,
        help_text=_("The 6-digit code your authenticator app shows for the Resource Hub."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )
    otp_device = forms.CharField(label=_("Authenticator"), required=False, widget=forms.Select)

    otp_error_messages = {
        **OTPAdminAuthenticationForm.otp_error_messages,
        "token_required": _("Enter the 6-digit code from your authenticator app."),
        "invalid_token": _(
            "That code is not right, or it has expired. Enter the code your authenticator app "
            "shows now."
        ),
        "device_required": _("Choose the authenticator app you are using."),
        "no_device": _(
            "Your account has no authenticator app set up yet, and the editors' site needs one. "
            "Ask a site administrator to enrol you."
        ),
    }

    def has_several_devices(self) -> bool:
        """Whether the template must ask which authenticator the code comes from."""
        user = self.get_user()
        return user is not None and len(list(devices_for_user(user))) > 1

    def clean_otp(self, user: AbstractBaseUser | None) -> None:
        if user is None:
            return
        try:
            if not any(True for _device in devices_for_user(user)):
                raise ValidationError(self.otp_error_messages["no_device"], code="no_device")
            super().clean_otp(user)
        except ValidationError:
            # The password was right but the login is refused: tell axes, so that guessing
            # codes is throttled like guessing passwords, and the security log.
            user_login_failed.send(
                sender=type(self),
                credentials={get_user_model().USERNAME_FIELD: user.get_username()},
                request=self.request,
                reason="one-time code",
            )
            raise

    def _chosen_device(self, user: AbstractBaseUser) -> Device | None:
        # django-otp asks which device to check the code against. Most staff have exactly one
        # authenticator: use it, so that one submission of the form is enough.
        device = super()._chosen_device(user)
        if device is None:
            devices = list(devices_for_user(user, for_verify=True))
            if len(devices) == 1:
                device = devices[0]
        return device

    def _update_form(self, user: AbstractBaseUser) -> None:
        # django-otp would also send the password back in the page; ask for it again instead.
        self.fields["otp_device"].widget.choices = self.device_choices(user)


class HubAdminSite(OTPAdminSite):
    """`admin.site`: requires a verified second factor when HUB_ADMIN_REQUIRE_2FA is on."""

    # Ours, which extends Django's and keeps the page's one <h1>; it adds the code field.
    login_template = "admin/login.html"

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)

    @property
    def login_form(self) -> type[AdminAuthenticationForm]:  # type: ignore[override]
        if settings.HUB_ADMIN_REQUIRE_2FA:
            return HubAdminAuthenticationForm
        return AdminAuthenticationForm

    def has_permission(self, request: HttpRequest) -> bool:
        if settings.HUB_ADMIN_REQUIRE_2FA:
            return super().has_permission(request)
        return AdminSite.has_permission(self, request)


# --- Lockout page ---------------------------------------------------------------------------


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: a page in the admin's layout saying when to try again."""
    from django.contrib import admin

    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds()) if cool_off else 0
    minutes = max(1, round(seconds / 60))
    context = {
        **admin.site.each_context(request),
        "title": _("Too many login attempts"),
        "minutes": minutes,
        "wait": ngettext("%(minutes)d minute", "%(minutes)d minutes", minutes)
        % {"minutes": minutes},
        "failure_limit": settings.AXES_FAILURE_LIMIT,
    }
    response = render(
        request, "admin/lockout.html", context, status=settings.AXES_HTTP_RESPONSE_CODE
    )
    if seconds:
        response["Retry-After"] = str(seconds)
    return response


# --- Passwords ------------------------------------------------------------------------------


class MaximumLengthValidator:
    """Refuse absurdly long passwords (NIST 800-63B: allow at least 64 characters)."""

    def __init__(self, max_length: int = 128) -> None:
        self.max_length = max_length

    def validate(self, password: str, user: AbstractBaseUser | None = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                _("This password is too long: use at most %(max_length)d characters."),
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self) -> str:
        return _("Your password can be up to %(max_length)d characters long.") % {
            "max_length": self.max_length
        }


# --- Security log ---------------------------------------------------------------------------


def username_hash(username: str) -> str:
    """A short keyed hash: the same attempt can be followed across lines, not read back."""
    return salted_hmac("hub.security.username", username, algorithm="sha256").hexdigest()[:12]


def _who(username: str | None) -> dict[str, str]:
    """Log a staff account by name; anything else typed as a username only as a hash."""
    if not username:
        return {}
    user_model = get_user_model()
    is_staff = user_model._default_manager.filter(
        **{user_model.USERNAME_FIELD: username, "is_staff": True}
    ).exists()
    return {"username": username} if is_staff else {"username_hash": username_hash(username)}


# --- Session lifetime -------------------------------------------------------------------

LOGIN_AT = "hub_login_at"  # session keys: when the login happened, and the last renewal
RENEWED_AT = "hub_renewed_at"
# The idle timer is renewed at most this often, so a busy editor's session is not written to
# the database on every click.
RENEW_EVERY_SECONDS = 60


def _limits() -> tuple[int, int]:
    return settings.HUB_STAFF_SESSION_IDLE_HOURS * 3600, settings.HUB_STAFF_SESSION_MAX_DAYS * 86400


@receiver(user_logged_in, dispatch_uid="hub.security.session_start")
def start_session_clock(sender: object, request: HttpRequest | None, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    now = int(time.time())
    request.session[LOGIN_AT] = now
    request.session[RENEWED_AT] = now
    request.session.set_expiry(min(_limits()))


class StaffSessionLifetimeMiddleware:
    """Logs a session out HUB_STAFF_SESSION_MAX_DAYS after its login, however busy, and
    HUB_STAFF_SESSION_IDLE_HOURS after its last request (the session and its cookie expire
    then; each request renews that, capped at the absolute limit).

    A session from before this rule (without a login time) gets its clock started now.
    Place it below AuthenticationMiddleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        # Without a session cookie there is no login to time: reading the session anyway would
        # mark every anonymous answer `Vary: Cookie` and keep it out of the page cache.
        has_cookie = settings.SESSION_COOKIE_NAME in request.COOKIES
        if session is not None and has_cookie and session.get(SESSION_KEY):
            idle, absolute = _limits()
            now = int(time.time())
            login_at = session.get(LOGIN_AT)
            if not isinstance(login_at, int):
                session[LOGIN_AT] = login_at = now
            left = absolute - (now - login_at)
            if left <= 0:
                security_log.info(
                    "Session ended: older than HUB_STAFF_SESSION_MAX_DAYS",
                    extra={"event": "session_expired", "client_ip": client_ip(request)},
                )
                logout(request)
            elif now - session.get(RENEWED_AT, 0) >= RENEW_EVERY_SECONDS:
                session[RENEWED_AT] = now
                session.set_expiry(min(idle, left))
        return self.get_response(request)


@receiver(user_logged_in, dispatch_uid="hub.security.login")
def log_login(sender: object, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    who = (
        {"username": user.get_username()}
        if user.is_staff
        else {"username_hash": username_hash(user.get_username())}
    )
    security_log.info(
        "Login succeeded", extra={"event": "login", "client_ip": client_ip(request), **who}
    )


@receiver(user_login_failed, dispatch_uid="hub.security.login_failed")
def log_login_failure(
    sender: object,
    credentials: dict[str, Any],
    request: HttpRequest | None = None,
    reason: str = "username or password",
    **kwargs: Any,
) -> None:
    username = credentials.get(get_user_model().USERNAME_FIELD)
    security_log.warning(
        "Login failed",
        extra={
            "event": "login_failed",
            "reason": reason,
            "client_ip": client_ip(request),
            **_who(username if isinstance(username, str) else None),
        },
    )


@receiver(user_logged_out, dispatch_uid="hub.security.logout")
def log_logout(sender: object, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    who = _who(user.get_username()) if user is not None else {}
    security_log.info("Logout", extra={"event": "logout", "client_ip": client_ip(request), **who})


@receiver(user_locked_out, dispatch_uid="hub.security.lockout")
def log_lockout(
    sender: object,
    request: HttpRequest | None,
    username: str | None,
    ip_address: str | None,
    **kwargs: Any,
) -> None:
    security_log.warning(
        "Login locked out after repeated failures",
        extra={"event": "lockout", "client_ip": ip_address, **_who(username)},
    )
