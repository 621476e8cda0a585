"""Compile locale/*/LC_MESSAGES/*.po to .mo in pure Python (polib).

Django's own `compilemessages` needs GNU gettext's msgfmt, which a fresh machine may lack;
`make run` and `make test` call this instead. Fuzzy and untranslated entries are left out,
so they fall back to English rather than showing a guess.
"""

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Compile the project's .po files to .mo files (no gettext tools needed)."

    def handle(self, *args, **options) -> None:
        compiled = 0
        for locale_path in settings.LOCALE_PATHS:
            for po_path in sorted(Path(locale_path).glob("*/LC_MESSAGES/*.po")):
                mo_path = po_path.with_suffix(".mo")
                if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                    continue
                polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
                compiled += 1
                self.stdout.write(f"Compiled {po_path}")
        self.stdout.write(f"{compiled} catalogue(s) compiled, the rest were up to date.")
