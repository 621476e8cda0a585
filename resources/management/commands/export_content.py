"""Write all of the hub's content to a portable, versioned JSON file (editorial/portable.py)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from resources.editorial.portable import dumps, export_document


class Command(BaseCommand):
    help = (
        "Export every tag, organisation, resource, partner and referral count to a portable "
        "JSON file keyed by slugs, for import_content on this or another server. Media files "
        "are referenced by name, not included: back up MEDIA_ROOT as well."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            "-o",
            default="-",
            help="File to write (default '-': standard output). Replaced only once complete.",
        )

    def handle(self, *args: Any, output: str, **options: Any) -> None:
        text = dumps(export_document())
        if output == "-":
            self.stdout.write(text, ending="")
            return
        target = Path(output)
        # Write beside the target and rename: a failed export never leaves half a file where
        # the last good one was.
        try:
            handle, temporary = tempfile.mkstemp(
                dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
            )
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(text)
            os.replace(temporary, target)
        except OSError as error:
            raise CommandError(f"Cannot write {target}: {error.strerror}") from None
        self.stderr.write(f"Content exported to {target}.")
