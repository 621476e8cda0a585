"""Every UI message exists, translated and not fuzzy, in every language of the site."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def catalogue(language: str, root: Path = ROOT) -> polib.POFile:
    return polib.pofile(str(root / "locale" / language / "LC_MESSAGES" / "django.po"))


def message_ids(po: polib.POFile) -> set[tuple[str, str]]:
    return {(entry.msgctxt or "", entry.msgid) for entry in po if not entry.obsolete}


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated_and_none_is_fuzzy(language: str) -> None:
    po = catalogue(language)
    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    assert not untranslated, (
        f"{language}: {len(untranslated)} untranslated, e.g. {untranslated[:3]}"
    )
    assert not fuzzy, f"{language}: {len(fuzzy)} fuzzy, e.g. {fuzzy[:3]}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_every_placeholder(language: str) -> None:
    for entry in catalogue(language).translated_entries():
        for flag in ("python-format", "python-brace-format"):
            if flag in entry.flags:
                if entry.msgstr_plural:
                    # As msgfmt -c checks: the first form may leave out the number ("one row"),
                    # the other forms say what the English plural says.
                    plural = placeholders(entry.msgid_plural)
                    for index, target in entry.msgstr_plural.items():
                        found = placeholders(target)
                        allowed = plural if int(index) else plural | placeholders(entry.msgid)
                        assert found <= allowed, f"{language}: {entry.msgid!r} -> {target!r}"
                        if int(index):
                            assert found == plural, f"{language}: {entry.msgid!r} -> {target!r}"
                else:
                    found, source = placeholders(entry.msgstr), placeholders(entry.msgid)
                    assert found == source, f"{language}: {entry.msgid!r} -> {entry.msgstr!r}"


def placeholders(text: str) -> set[str]:
    return set(polib.re.findall(r"%\(\w+\)[sd]|\{\w*\}", text))


def test_catalogues_contain_every_message_in_the_code(tmp_path: Path) -> None:
    """The .po files are up to date: extracting the messages again finds nothing new.

    Needs GNU gettext's xgettext (only for extraction; the site compiles .po files itself).
    """
    if shutil.which("xgettext") is None:
        pytest.skip("xgettext (GNU gettext) is not installed")
    for part in ("hub", "resources", "templates", "locale", "static"):
        shutil.copytree(ROOT / part, tmp_path / part)
    shutil.copy(ROOT / "manage.py", tmp_path / "manage.py")
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "--all", "--no-obsolete", "--no-location"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    for language in TRANSLATED:
        missing = message_ids(catalogue(language, tmp_path)) - message_ids(catalogue(language))
        assert not missing, (
            f"{language}: {len(missing)} messages in the code are not in the catalogue "
            f"(run `make messages` and translate them), e.g. {sorted(missing)[:3]}"
        )
