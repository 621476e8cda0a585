"""Backups: export_content / import_content round trips, refusals, and the backup scripts."""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection, models
from PIL import Image

from resources.editorial.portable import FORMAT, VERSION
from resources.models import (
    BoneSafety,
    Organisation,
    Partner,
    ReferralCount,
    Resource,
    Tag,
)

from .factories import OrganisationFactory, ResourceFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[1]
CONTENT_MODELS: list[type[models.Model]] = [Tag, Organisation, Resource, Partner, ReferralCount]


def natural_key(obj: models.Model) -> tuple[Any, ...]:
    if isinstance(obj, Tag):
        return (obj.vocabulary, obj.slug)
    if isinstance(obj, ReferralCount):
        return (obj.partner.slug, obj.day)
    return (obj.slug,)


def snapshot() -> dict[str, dict[tuple[Any, ...], dict[str, Any]]]:
    """Every field of every content object (ids aside), references by natural key."""
    state: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}
    for model in CONTENT_MODELS:
        rows = {}
        for obj in model.objects.all():
            values: dict[str, Any] = {}
            for field in model._meta.concrete_fields:
                if field.primary_key:
                    continue
                value = getattr(obj, field.name)
                if isinstance(value, models.Model):
                    value = natural_key(value)
                elif isinstance(field, models.FileField):
                    value = value.name
                values[field.name] = value
            for field in model._meta.many_to_many:
                values[field.name] = sorted(natural_key(o) for o in getattr(obj, field.name).all())
            rows[natural_key(obj)] = values
        state[model.__name__] = rows
    return state


def wipe() -> None:
    ReferralCount.objects.all().delete()
    Partner.objects.all().delete()
    Resource.objects.all().delete()
    Organisation.objects.all().delete()
    Tag.objects.all().delete()


def export(path: Path) -> dict[str, Any]:
    call_command("export_content", "--output", str(path), stderr=io.StringIO())
    return json.loads(path.read_text(encoding="utf-8"))


def import_content(path: Path, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_content", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def png(name: str) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), "teal").save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2024, 3, day, hour, 15, 30, 123456, tzinfo=UTC)


@pytest.fixture
def content() -> dict[str, Any]:
    """Content of every kind and state, with timestamps that are not 'now'."""
    Tag.objects.filter(vocabulary="level", slug="gentle").update(name="Gentle (edited)")
    yoga = Tag.objects.create(
        vocabulary="type", slug="yoga", name="Yoga", description="Slow poses.", position=9
    )
    plain = OrganisationFactory(name="Plain Org", slug="plain-org", website="", country="")
    walking = ResourceFactory(
        slug="walking",
        organisation=plain,
        tags={"level": ["gentle", "moderate"], "stage": ["metastatic"]},
        review_notes="Checked against the 2022 guidance.",
    )
    walking.tags.add(yoga)
    pictured = ResourceFactory(
        slug="pictured", image=png("walk.png"), image_alt="Two people walking in a park."
    )
    ResourceFactory(slug="video", video=True, tags={"type": ["balance"]})
    ResourceFactory(slug="draft", unreviewed=True, duration_minutes=None)
    ResourceFactory(slug="in-review", in_review=True, provisional=True, review_notes="Proposal.")
    ResourceFactory(slug="archived", archived=True)
    ResourceFactory(slug="scheduled", scheduled=True, link=True)
    # A review date without a next-review date: save() would fill one in, the file must not.
    no_next = ResourceFactory(slug="no-next-review", programme=True)
    Resource.objects.filter(pk=no_next.pk).update(next_review_due=None)
    for number, resource in enumerate(Resource.objects.order_by("slug"), start=1):
        Resource.objects.filter(pk=resource.pk).update(
            created_at=at(number), updated_at=at(number, 17), published_at=resource.published_at
        )
    clinic = Partner.objects.create(
        name="St Elsewhere", slug="st-elsewhere", origins="https://www.st-elsewhere.example"
    )
    Partner.objects.create(name="Closed clinic", slug="closed", active=False)
    Partner.objects.filter(pk=clinic.pk).update(created_at=at(2))
    ReferralCount.objects.create(partner=clinic, day=date(2024, 3, 1), visits=12)
    ReferralCount.objects.create(partner=clinic, day=date(2024, 3, 2), visits=3)
    return {"pictured": pictured}


# --- the round trip --------------------------------------------------------------------------


def test_export_wipe_import_restores_every_field_of_every_object(content, tmp_path: Path):
    before = snapshot()
    path = tmp_path / "content.json"
    export(path)
    wipe()
    assert snapshot() == {model.__name__: {} for model in CONTENT_MODELS}

    out, err = import_content(path)

    assert snapshot() == before
    assert "resources: 8 created, 0 updated, 0 unchanged" in out
    assert "referral counts: 2 created" in out
    assert err == ""
    # Spot checks of values save() or auto_now would otherwise have changed.
    restored = Resource.objects.get(slug="walking")
    assert restored.created_at == at(8)
    assert restored.updated_at == at(8, 17)
    assert Resource.objects.get(slug="no-next-review").next_review_due is None
    assert Resource.objects.get(slug="video").video_id == "vtA1R87lkv8"
    assert Partner.objects.get(slug="st-elsewhere").created_at == at(2)


def test_uploaded_image_keeps_its_name_and_file_after_a_round_trip(content, tmp_path: Path):
    name = content["pictured"].image.name
    assert name.startswith("resources/")
    assert (Path(settings.MEDIA_ROOT) / name).is_file()
    path = tmp_path / "content.json"
    document = export(path)
    wipe()

    _, err = import_content(path)

    pictured = Resource.objects.get(slug="pictured")
    assert pictured.image.name == name
    assert pictured.image_alt == "Two people walking in a park."
    assert [row["image"] for row in document["resources"] if row["slug"] == "pictured"] == [name]
    # The import touches references only: the file is where it was, and nothing warned.
    assert Path(pictured.image.path).is_file()
    assert err == ""


def test_a_reference_without_its_media_file_is_imported_with_a_warning(content, tmp_path):
    path = tmp_path / "content.json"
    export(path)
    (Path(settings.MEDIA_ROOT) / content["pictured"].image.name).unlink()

    _, err = import_content(path)

    assert "1 media reference(s) have no file" in err
    assert content["pictured"].image.name in err
    assert Resource.objects.get(slug="pictured").image.name == content["pictured"].image.name


def test_importing_the_same_file_twice_gives_the_same_state(content, tmp_path: Path):
    path = tmp_path / "content.json"
    export(path)
    wipe()
    import_content(path)
    once = snapshot()

    out, _ = import_content(path)

    assert snapshot() == once
    assert "resources: 0 created, 0 updated, 8 unchanged, 0 deleted" in out
    # 19 seeded terms (levels, stages, types, movement flags) plus the test's own tag.
    assert "tags: 0 created, 0 updated, 20 unchanged, 0 deleted" in out


def test_export_is_stable_sorted_by_natural_key_and_free_of_database_ids(content, tmp_path):
    first = export(tmp_path / "one.json")
    second = export(tmp_path / "two.json")
    first.pop("exported_at")
    second.pop("exported_at")

    assert first == second
    assert first["format"] == FORMAT
    assert first["version"] == VERSION
    slugs = [row["slug"] for row in first["resources"]]
    assert slugs == sorted(slugs)
    tags = [(row["vocabulary"], row["slug"]) for row in first["tags"]]
    assert tags == sorted(tags)
    sections = ["tags", "organisations", "resources", "partners", "referral_counts"]
    assert all("id" not in row for section in sections for row in first[section])
    walking = next(row for row in first["resources"] if row["slug"] == "walking")
    assert walking["organisation"] == "plain-org"
    assert walking["tags"] == [
        ["level", "gentle"],
        ["level", "moderate"],
        ["stage", "metastatic"],
        ["type", "yoga"],
    ]
    assert walking["created_at"] == "2024-03-08T09:15:30.123456+00:00"
    assert first["referral_counts"][0] == {
        "partner": "st-elsewhere",
        "day": "2024-03-01",
        "visits": 12,
    }


def test_export_writes_to_standard_output_by_default(content):
    out = io.StringIO()
    call_command("export_content", stdout=out)
    assert json.loads(out.getvalue())["format"] == FORMAT


# --- refusals: nothing changes ---------------------------------------------------------------


def _truncated(text: str) -> str:
    return text[: len(text) // 2]


def _with(**changes: Any):
    def edit(text: str) -> str:
        return json.dumps({**json.loads(text), **changes})

    return edit


def _without(key: str):
    def edit(text: str) -> str:
        document = json.loads(text)
        del document[key]
        return json.dumps(document)

    return edit


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_truncated, "is not valid JSON"),
        (_with(version=VERSION + 1), f"this hub reads version {VERSION} only"),
        (_with(version="1"), f"this hub reads version {VERSION} only"),
        (_with(format="someone-elses-backup"), "is not a content export of this hub"),
        (_without("resources"), "'resources' must be a list of objects"),
        (_with(comments=[]), "unknown sections: comments"),
    ],
    ids=["truncated", "newer-version", "version-as-text", "other-format", "no-resources", "extra"],
)
def test_a_damaged_or_foreign_file_is_refused_and_nothing_changes(
    content, tmp_path: Path, edit, message: str
):
    path = tmp_path / "content.json"
    export(path)
    Resource.objects.filter(slug="walking").update(title="Edited since the export")
    before = snapshot()
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")

    with pytest.raises(CommandError, match=message):
        import_content(path, "--replace")

    assert snapshot() == before


def test_an_invalid_row_is_named_and_nothing_at_all_is_saved(content, tmp_path: Path):
    path = tmp_path / "content.json"
    document = export(path)
    document["organisations"].append({"slug": "new-org", "name": "New Org"})
    walking = next(row for row in document["resources"] if row["slug"] == "walking")
    walking["title"] = "Changed by the file"
    bad = next(row for row in document["resources"] if row["slug"] == "scheduled")
    bad["url"] = "http://insecure.example.org/"
    before = snapshot()

    with pytest.raises(CommandError) as raised:
        import_content(write(path, document))

    assert "Resource 'scheduled' (row " in str(raised.value)
    assert "url: Use a secure web address" in str(raised.value)
    assert snapshot() == before
    assert not Organisation.objects.filter(slug="new-org").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tags": [["level", "athletic"]]}, "tags: unknown level/athletic"),
        ({"organisation": "nobody"}, "there is no organisation 'nobody'"),
        ({"published_at": "2024-03-01T10:00:00"}, "lacks a time zone offset"),
        ({"reviewed_on": "last Tuesday"}, "is not a valid date or time"),
        ({"duration_minutes": 12.5}, "expected a whole number"),
        ({"colour": "red"}, "unknown fields colour"),
        ({"status": "published", "bone_metastasis_safety": BoneSafety.NOT_REVIEWED}, "safety"),
    ],
    ids=["tag", "organisation", "naive-time", "date", "fraction", "field", "unreviewed"],
)
def test_a_bad_value_is_refused_with_the_row_named(
    content, tmp_path: Path, change: dict[str, Any], message: str
):
    path = tmp_path / "content.json"
    document = export(path)
    walking = next(row for row in document["resources"] if row["slug"] == "walking")
    walking.update(change)
    before = snapshot()

    with pytest.raises(CommandError, match=message) as raised:
        import_content(write(path, document))

    assert "Resource 'walking'" in str(raised.value)
    assert snapshot() == before


def test_a_row_that_appears_twice_is_refused(content, tmp_path: Path):
    path = tmp_path / "content.json"
    document = export(path)
    document["organisations"].append(dict(document["organisations"][0]))

    with pytest.raises(CommandError, match="appears twice"):
        import_content(write(path, document))


def test_dry_run_reports_and_saves_nothing(content, tmp_path: Path):
    path = tmp_path / "content.json"
    export(path)
    wipe()

    out, _ = import_content(path, "--dry-run")

    assert "resources: 8 created" in out
    assert "Dry run: nothing was saved." in out
    assert not Resource.objects.exists()


# --- updating and replacing ------------------------------------------------------------------


def test_import_updates_by_slug_and_keeps_content_that_is_not_in_the_file(content, tmp_path):
    path = tmp_path / "content.json"
    export(path)
    Resource.objects.filter(slug="walking").update(title="Edited since the export")
    ResourceFactory(slug="added-later")

    out, _ = import_content(path)

    assert Resource.objects.get(slug="walking").title.startswith("Chair exercises")
    assert Resource.objects.filter(slug="added-later").exists()
    assert "resources: 0 created, 1 updated, 7 unchanged, 0 deleted" in out


def test_replace_leaves_exactly_the_files_content_but_keeps_seeded_vocabularies(
    content, tmp_path: Path
):
    path = tmp_path / "content.json"
    document = export(path)
    expected = snapshot()
    # A file without one seeded term, e.g. written before the term existed.
    document["tags"] = [
        t for t in document["tags"] if (t["vocabulary"], t["slug"]) != ("level", "structured")
    ]
    ResourceFactory(slug="added-later", organisation=OrganisationFactory(slug="later-org"))
    Tag.objects.create(vocabulary="type", slug="dance", name="Dance")
    Partner.objects.create(name="Later", slug="later")
    ReferralCount.objects.create(
        partner=Partner.objects.get(slug="st-elsewhere"), day=date(2024, 4, 1), visits=1
    )

    out, _ = import_content(write(path, document), "--replace")

    assert snapshot() == expected
    assert Tag.objects.filter(vocabulary="level", slug="structured").exists()
    assert "Kept vocabulary terms seeded by the migrations although the file lacks them: " in out
    assert "level/structured" in out
    assert "resources: 0 created, 0 updated, 8 unchanged, 1 deleted" in out


def test_replace_moves_resources_to_another_organisation_and_removes_the_old_one(
    content, tmp_path: Path
):
    path = tmp_path / "content.json"
    document = export(path)
    document["organisations"] = [
        {**org, "slug": "renamed-org"} if org["slug"] == "plain-org" else org
        for org in document["organisations"]
    ]
    walking = next(row for row in document["resources"] if row["slug"] == "walking")
    walking["organisation"] = "renamed-org"

    import_content(write(path, document), "--replace")

    assert Resource.objects.get(slug="walking").organisation.slug == "renamed-org"
    assert Organisation.objects.get(name="Plain Org").slug == "renamed-org"
    assert not Organisation.objects.filter(slug="plain-org").exists()


def test_a_seeded_term_in_the_file_takes_the_files_wording(content, tmp_path: Path):
    path = tmp_path / "content.json"
    export(path)
    Tag.objects.filter(vocabulary="level", slug="gentle").update(name="Changed again", position=7)

    import_content(path, "--replace")

    gentle = Tag.objects.get(vocabulary="level", slug="gentle")
    assert (gentle.name, gentle.position) == ("Gentle (edited)", 1)


def test_an_export_loads_into_a_database_that_has_only_the_migrations(content, tmp_path):
    """Another server: vocabularies seeded by its migrations, nothing else, no shared ids."""
    path = tmp_path / "content.json"
    export(path)
    before = snapshot()
    wipe()
    importlib.import_module("resources.migrations.0002_seed_vocabularies").seed(apps, None)
    assert Tag.objects.count() == 12

    import_content(path)

    assert snapshot() == before
    assert Resource.objects.published().filter(slug="walking").exists()


# --- the shell scripts -----------------------------------------------------------------------

BASH = shutil.which("bash") or "/bin/bash"


def run(*command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A script or manage.py command of this project, from the project root."""
    return subprocess.run(  # noqa: S603 - our own scripts, fixed arguments
        command, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=300
    )


def succeed(*command: str, env: dict[str, str] | None = None) -> str:
    result = run(*command, env=env)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.mark.parametrize("script", ["scripts/backup.sh", "scripts/restore.sh"])
def test_backup_scripts_refuse_to_run_without_arguments(script: str):
    result = run(BASH, script)
    assert result.returncode == 2
    assert "Usage: " + script in result.stderr


def test_restore_refuses_a_backup_whose_checksums_do_not_match(tmp_path: Path):
    backup = tmp_path / "hub-backup-20250101T000000Z"
    backup.mkdir()
    sums = []
    for name in ("database.dump", "media.tar.gz", "content.json"):
        (backup / name).write_text(name)
        sums.append(f"{hashlib.sha256(name.encode()).hexdigest()}  {name}\n")
    (backup / "SHA256SUMS").write_text("".join(sums))
    (backup / "database.dump").write_text("damaged")

    result = run(BASH, "scripts/restore.sh", "--yes", str(backup), "postgres://nobody@/none")

    assert result.returncode != 0
    assert "database.dump: FAILED" in result.stdout + result.stderr
    assert "Restoring the database" not in result.stdout


def test_restore_asks_before_replacing_a_database(tmp_path: Path):
    backup = tmp_path / "hub-backup-20250101T000000Z"
    backup.mkdir()
    for name in ("database.dump", "media.tar.gz"):
        (backup / name).write_text(name)

    result = run(BASH, "scripts/restore.sh", str(backup), "postgres://nobody@/none")

    assert result.returncode == 2
    assert "add --yes to confirm" in result.stderr


def _database_url(name: str) -> str:
    """A libpq URL for database `name` on the server the tests use."""
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    credentials = f"{user}{password}@" if user else ""
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}{db['HOST'] or ''}{port}/{name}"


@pytest.fixture
def scratch_databases() -> Iterator[tuple[str, str]]:
    """Two empty databases beside the test database, dropped afterwards whatever happens."""
    if connection.vendor != "postgresql":
        pytest.skip("the backup scripts need PostgreSQL: run with DATABASE_URL=postgres://…")
    missing = [tool for tool in ("pg_dump", "pg_restore", "sha256sum") if not shutil.which(tool)]
    if missing:
        pytest.skip(f"the backup scripts need {', '.join(missing)} on PATH")
    import psycopg

    base = connection.settings_dict["NAME"]
    names = (f"{base}_scripts_src", f"{base}_scripts_dst")
    with psycopg.connect(_database_url(base), autocommit=True) as admin:

        def drop() -> None:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        drop()
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield _database_url(names[0]), _database_url(names[1])
        finally:
            drop()


def test_backup_and_restore_scripts_bring_back_database_and_media(
    scratch_databases: tuple[str, str], tmp_path: Path
):
    """docs/operations.md, "Test a restore": back up a real hub, restore it elsewhere."""
    import psycopg

    source, target = scratch_databases
    source_media, target_media, backups = tmp_path / "src", tmp_path / "dst", tmp_path / "backups"
    env = {
        **os.environ,
        "PYTHON": sys.executable,
        "DATABASE_URL": source,
        "DJANGO_MEDIA_ROOT": str(source_media),
    }
    manage = (sys.executable, "manage.py")
    succeed(*manage, "migrate", "--noinput", "--verbosity", "0", env=env)
    succeed(*manage, "load_starter_content", "--publish-demo", env=env)
    image = source_media / "resources" / "2025" / "walk.png"
    image.parent.mkdir(parents=True)
    image.write_bytes(png("walk.png").read())
    with psycopg.connect(source, autocommit=True) as db:
        db.execute(
            "UPDATE resources_resource SET image = %s, image_alt = 'A walk.' "
            "WHERE id = (SELECT min(id) FROM resources_resource)",
            ["resources/2025/walk.png"],
        )

    succeed(BASH, "scripts/backup.sh", str(backups), env=env)
    (backup,) = backups.iterdir()
    assert backup.name.startswith("hub-backup-")
    assert sorted(p.name for p in backup.iterdir()) == [
        "SHA256SUMS",
        "content.json",
        "database.dump",
        "media.tar.gz",
    ]
    with tarfile.open(backup / "media.tar.gz") as archive:
        assert "./resources/2025/walk.png" in archive.getnames()

    # The target comes from the command line only, never from the environment.
    env.pop("DATABASE_URL")
    output = succeed(
        BASH, "scripts/restore.sh", "--yes", str(backup), target, str(target_media), env=env
    )

    assert "The restored content matches the backup's export." in output
    assert (target_media / "resources/2025/walk.png").read_bytes() == image.read_bytes()
    # Independently of the script's own check: the target's export equals the backup's.
    restored = succeed(
        *manage,
        "export_content",
        env={**env, "DATABASE_URL": target, "DJANGO_MEDIA_ROOT": str(target_media)},
    )
    exports = [json.loads(text) for text in (restored, (backup / "content.json").read_text())]
    for document in exports:
        document.pop("exported_at")
    assert exports[0] == exports[1]
    assert len(exports[0]["resources"]) > 10
    assert "resources/2025/walk.png" in [row["image"] for row in exports[0]["resources"]]


def test_a_file_written_before_the_vocabulary_was_translated_keeps_its_english(content, tmp_path):
    document = export(tmp_path / "new.json")
    for row in document["tags"]:
        for key in [k for k in row if k.startswith(("name_", "description_"))]:
            del row[key]
    import_content(write(tmp_path / "old.json", document))
    gentle = Tag.objects.get(vocabulary="level", slug="gentle")
    assert (gentle.name_en, gentle.name_de) == ("Gentle (edited)", None)
    yoga = Tag.objects.get(vocabulary="type", slug="yoga")
    assert (yoga.name_en, yoga.description_en) == ("Yoga", "Slow poses.")


def test_captions_transcripts_and_links_between_translations_survive_a_round_trip(
    content, tmp_path: Path
):
    video = Resource.objects.get(slug="video")
    Resource.objects.filter(pk=video.pk).update(
        has_captions=True,
        transcript="Sit tall.\nBreathe out as you stand.",
        transcript_url="https://example.org/transcript",
    )
    video.translations.add(Resource.objects.get(slug="walking"), Resource.objects.get(slug="draft"))
    before = snapshot()
    path = tmp_path / "content.json"
    export(path)
    wipe()

    import_content(path)

    assert snapshot() == before
    restored = Resource.objects.get(slug="video")
    assert restored.has_captions is True
    assert restored.transcript == "Sit tall.\nBreathe out as you stand."
    assert restored.transcript_url == "https://example.org/transcript"
    assert sorted(r.slug for r in restored.translations.all()) == ["draft", "walking"]
    assert [r.slug for r in Resource.objects.get(slug="walking").translations.all()] == ["video"]
