"""Give a staff account an authenticator app (TOTP), from the server's terminal.

Needed once for the first administrator, who cannot open the admin before having a second
factor; everyone else can be enrolled in the admin (OTP_TOTP > TOTP devices > Add).
"""

from __future__ import annotations

import io
from typing import Any

import segno
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = (
        "Create a TOTP device for a staff account and show the QR code (and otpauth:// link) "
        "to scan with an authenticator app. The secret is shown this once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="the staff account to enrol")
        parser.add_argument(
            "--name",
            default="Authenticator app",
            help="a name for the device (default: %(default)s)",
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="remove the account's existing TOTP devices first (a lost or new phone)",
        )

    @transaction.atomic
    def handle(self, *args: Any, username: str, name: str, replace: bool, **options: Any) -> None:
        user_model = get_user_model()
        try:
            user = user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist:
            raise CommandError(f"No account is called {username!r}.") from None
        if not user.is_staff:
            raise CommandError(f"{username!r} is not a staff account: it cannot use the admin.")
        existing = TOTPDevice.objects.filter(user=user)
        if existing.exists():
            if not replace:
                raise CommandError(
                    f"{username!r} already has an authenticator app. "
                    "Use --replace to set up a new one (the old one stops working)."
                )
            existing.delete()
        device = TOTPDevice.objects.create(user=user, name=name, confirmed=True)

        self.stdout.write(f"Scan this with the authenticator app of {username}:\n")
        picture = io.StringIO()
        segno.make(device.config_url, error="m").terminal(out=picture, compact=True)
        self.stdout.write(picture.getvalue())
        self.stdout.write(f"\nOr enter this link in the app: {device.config_url}\n")
        self.stdout.write(
            "Then log in to /admin/ with the username, the password and the 6-digit code the "
            "app shows. Keep this secret: do not paste it anywhere else."
        )
