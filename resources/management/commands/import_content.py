"""Read a file written by export_content back into the database (editorial/portable.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from resources.editorial.portable import PortableError, import_document, loads


class Command(BaseCommand):
    help = (
        "Import a file written by export_content, in one transaction: rows are created or "
        "updated by slug, and nothing is saved if any row is invalid. --replace also deletes "
        "content that is not in the file (vocabulary terms seeded by migrations stay)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The export to read, or '-' for standard input.")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Delete resources, organisations, partners, referral counts and tags that "
            "are not in the file, so the database holds exactly the file's content.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check the whole file and report what would change, then save nothing.",
        )

    def handle(self, *args: Any, file: str, replace: bool, dry_run: bool, **options: Any) -> None:
        source = "standard input" if file == "-" else file
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CommandError(f"No such file: {file}") from None
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {source}: {error}") from None
        try:
            report = import_document(loads(text, source), replace=replace, dry_run=dry_run)
        except PortableError as error:
            raise CommandError(f"Nothing was imported. {error}") from None

        for name, tally in report.tallies.items():
            self.stdout.write(f"{name.replace('_', ' ')}: {tally}")
        if report.kept_seeded_tags:
            self.stdout.write(
                "Kept vocabulary terms seeded by the migrations although the file lacks them: "
                + ", ".join(report.kept_seeded_tags)
            )
        if report.missing_media:
            self.stderr.write(
                self.style.WARNING(
                    f"{len(report.missing_media)} media reference(s) have no file in media "
                    "storage; restore MEDIA_ROOT from the same backup: "
                    + ", ".join(report.missing_media)
                )
            )
        if dry_run:
            self.stdout.write("Dry run: nothing was saved.")
