"""Portable content files: the hub's content keyed by slugs, not database ids.

`export_content` writes one, `import_content` reads one back, into the same database, an
empty one or another server's. Format version 1 is a JSON object:

    {"format": FORMAT, "version": 1, "exported_at": "2025-05-01T09:30:00+00:00",
     "tags": [...], "organisations": [...], "resources": [...], "partners": [...],
     "referral_counts": [...]}

Each section lists its rows sorted by natural key, so two exports diff line by line. A row
holds every concrete field of its model except the database id and the values save()
derives (a video's provider and id): foreign keys as the related row's slug, the tags of a
resource as sorted [vocabulary, slug] pairs, an image as its storage name (a *reference*:
the file itself is backed up with MEDIA_ROOT, not here), times as ISO 8601 in UTC.

Versioning: a new model field with a default keeps version 1 (an older file still loads and
the field takes its default). Removing or renaming a field, or changing a natural key,
bumps VERSION; a file of another version is refused, never half-read.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models.deletion import ProtectedError

from ..models import Organisation, Partner, ReferralCount, Resource, Tag
from .content_import import describe

FORMAT = "physical-activity-resource-hub/content"
VERSION = 1
HEADER_KEYS = ("format", "version", "exported_at")

Key = tuple[Any, ...]
Row = dict[str, Any]


class PortableError(Exception):
    """A file that cannot be imported. The message names the row and what is wrong."""


@dataclass(frozen=True)
class Section:
    """One kind of row in the file: a model, and the fields that identify a row anywhere."""

    name: str
    model: type[models.Model]
    natural_key: tuple[str, ...]
    # Computed by the model's save() from other fields, so not content.
    derived: frozenset[str] = frozenset()
    # Other unique fields: a row whose natural key is new but whose value here matches a row
    # the file does not keep is that row, re-slugged (an editor changed the slug).
    alternate_keys: tuple[str, ...] = ()
    # Per-row uniqueness and constraint queries, skipped for the bulk daily counters: their
    # only constraint is their natural key, which the import checks in memory.
    validate_in_database: bool = True

    @property
    def fields(self) -> list[models.Field]:
        """The natural key first, so that each row starts with what it is."""
        fields = [
            f
            for f in self.model._meta.concrete_fields
            if not f.primary_key
            and f.name not in self.derived
            and not getattr(f, "generated", False)
        ]
        return sorted(fields, key=lambda f: f.name not in self.natural_key)

    @property
    def many_to_many(self) -> list[models.ManyToManyField]:
        # Links to content only: staff accounts (a resource's safety contributors since its
        # last approval) are not content, and differ between servers.
        return [f for f in self.model._meta.many_to_many if f.related_model in SECTION_BY_MODEL]

    @property
    def row_keys(self) -> set[str]:
        return {f.name for f in self.fields} | {f.name for f in self.many_to_many}

    def queryset(self) -> models.QuerySet:
        queryset = self.model._default_manager.prefetch_related(
            *(f.name for f in self.many_to_many)
        ).order_by()
        relations = [f.name for f in self.fields if f.is_relation]
        return queryset.select_related(*relations) if relations else queryset

    def key_of(self, obj: models.Model) -> Key:
        return tuple(_key_part(getattr(obj, name)) for name in self.natural_key)

    def encode(self, obj: models.Model, related: dict[str, list[list[str]]] | None = None) -> Row:
        """The row for obj; `related` replaces its many-to-many values (not saved yet)."""
        row = {f.name: _encode(f, obj) for f in self.fields}
        for m2m in self.many_to_many:
            row[m2m.name] = (
                related[m2m.name]
                if related is not None
                else sorted(
                    [_text(part) for part in SECTION_BY_MODEL[m2m.related_model].key_of(other)]
                    for other in getattr(obj, m2m.name).all()
                )
            )
        return row

    def describe(self, key: Key | None, number: int) -> str:
        what = str(self.model._meta.verbose_name).capitalize()
        name = "/".join(_text(part) for part in key) if key else "?"
        return f"{what} '{name}' (row {number} of '{self.name}')"


SECTIONS: tuple[Section, ...] = (
    Section("tags", Tag, ("vocabulary", "slug")),
    Section("organisations", Organisation, ("slug",), alternate_keys=("name",)),
    Section("resources", Resource, ("slug",), derived=frozenset({"video_provider", "video_id"})),
    Section("partners", Partner, ("slug",)),
    Section("referral_counts", ReferralCount, ("partner", "day"), validate_in_database=False),
)
SECTION_BY_MODEL: dict[type[models.Model], Section] = {s.model: s for s in SECTIONS}


def seeded_tag_keys() -> set[Key]:
    """The vocabulary terms migration 0002 creates: public filter values clinics print."""
    seed = importlib.import_module("resources.migrations.0002_seed_vocabularies")
    return {
        (vocabulary, slug) for vocabulary, terms in seed.VOCABULARIES.items() for slug, *_ in terms
    }


def _key_part(value: Any) -> Any:
    if isinstance(value, models.Model):
        (part,) = SECTION_BY_MODEL[type(value)].key_of(value)
        return part
    return value


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _encode(f: models.Field, obj: models.Model) -> Any:
    if f.is_relation:
        related = getattr(obj, f.name)
        return None if related is None else _key_part(related)
    value = f.value_from_object(obj)
    if isinstance(f, models.FileField):
        return value.name or ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return f.value_to_string(obj)


# --- export -------------------------------------------------------------------------------


@contextmanager
def _consistent_snapshot() -> Iterator[None]:
    """Read every table as of one moment, even while editors keep working."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def export_document(now: datetime | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds"),
    }
    with _consistent_snapshot():
        for section in SECTIONS:
            # Sorted here, not in SQL, so that SQLite and PostgreSQL (with their different
            # collations) write byte-identical files for the same content.
            objects = sorted(section.queryset(), key=lambda o, s=section: _sort_key(s.key_of(o)))
            document[section.name] = [section.encode(obj) for obj in objects]
    return document


def _sort_key(key: Key) -> tuple[str, ...]:
    return tuple(_text(part) for part in key)


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# --- reading a file -----------------------------------------------------------------------


def loads(text: str, source: str) -> dict[str, Any]:
    """Parse and check the envelope of a content file; rows are checked on import."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise PortableError(
            f"{source} is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})."
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise PortableError(
            f"{source} is not a content export of this hub (its 'format' should be {FORMAT!r})."
        )
    version = document.get("version")
    if type(version) is not int or version != VERSION:
        raise PortableError(
            f"{source} is format version {version!r}; this hub reads version {VERSION} only. "
            "Import it with the hub release that wrote it, then export again."
        )
    expected = set(HEADER_KEYS) | {s.name for s in SECTIONS}
    unknown = sorted(set(document) - expected)
    if unknown:
        raise PortableError(f"{source} has unknown sections: {', '.join(unknown)}.")
    for section in SECTIONS:
        # A missing section is refused rather than read as empty: with --replace, that
        # would delete everything of its kind.
        rows = document.get(section.name)
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise PortableError(f"{source}: '{section.name}' must be a list of objects.")
    return document


# --- import -------------------------------------------------------------------------------


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    def __str__(self) -> str:
        return (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.deleted} deleted"
        )


@dataclass
class ImportReport:
    tallies: dict[str, Tally] = field(default_factory=lambda: {s.name: Tally() for s in SECTIONS})
    # Seeded vocabulary terms that --replace kept although the file lacks them.
    kept_seeded_tags: list[str] = field(default_factory=list)
    # Storage names the file refers to that have no file in media storage.
    missing_media: list[str] = field(default_factory=list)


def import_document(
    document: dict[str, Any], *, replace: bool = False, dry_run: bool = False
) -> ImportReport:
    """Create or update every row of the file by natural key, all or nothing.

    With `replace`, content that is not in the file is deleted, except the vocabulary terms
    seeded by migration 0002: the public filters and the links clinics print use them, and
    every new database has them, so a file without them (or one written before a term was
    seeded) must not remove them. A seeded term that *is* in the file takes the file's name,
    description and position.
    """
    with transaction.atomic():
        report = _Import(document, replace=replace).run()
        if dry_run:
            transaction.set_rollback(True)
    return report


class _Import:
    def __init__(self, document: dict[str, Any], *, replace: bool) -> None:
        self.document = document
        self.replace = replace
        self.report = ImportReport()
        self.seeded = seeded_tag_keys()
        # Every row the file keeps, by section and natural key.
        self.keys: dict[str, dict[Key, int]] = {}
        # Objects by natural key, filled section by section to resolve references.
        self.objects: dict[type[models.Model], dict[Key, models.Model]] = {}

    def run(self) -> ImportReport:
        for section in SECTIONS:
            self.keys[section.name] = self._check_rows(section)
        deferred = self.replace and self._delete_stale(retry=False)
        for section in SECTIONS:
            self._upsert(section)
        if deferred:
            self._delete_stale(retry=True)
        self._check_media()
        return self.report

    # Shape of every row, before anything is written.
    def _check_rows(self, section: Section) -> dict[Key, int]:
        keys: dict[Key, int] = {}
        allowed = section.row_keys
        for number, row in enumerate(self.document[section.name], start=1):
            key = self._natural_key(section, row, number)
            label = section.describe(key, number)
            unknown = sorted(set(row) - allowed)
            if unknown:
                raise PortableError(f"{label}: unknown fields {', '.join(unknown)}.")
            if key in keys:
                raise PortableError(f"{label} appears twice (also row {keys[key]}).")
            keys[key] = number
        return keys

    def _natural_key(self, section: Section, row: Row, number: int) -> Key:
        parts = []
        for name in section.natural_key:
            f = section.model._meta.get_field(name)
            value = row.get(name)
            if not isinstance(value, str) or not value:
                raise PortableError(
                    f"{section.describe(None, number)}: '{name}' is missing or not text."
                )
            if isinstance(f, models.DateField):
                value = _parse(date.fromisoformat, value, section.describe(None, number), name)
            parts.append(value)
        return tuple(parts)

    def _delete_stale(self, *, retry: bool) -> bool:
        """Delete what the file lacks, dependants first; True if some had to wait.

        A row still referenced by a protected foreign key (an organisation whose resources
        the file moves elsewhere) is deleted after the upserts have moved them.
        """
        waiting = False
        for section in reversed(SECTIONS):
            keep = self.keys[section.name]
            stale = []
            for obj in section.queryset():
                key = section.key_of(obj)
                if key in keep:
                    continue
                if section.model is Tag and key in self.seeded:
                    if not retry:
                        self.report.kept_seeded_tags.append("/".join(key))
                    continue
                stale.append(obj)
            tally = self.report.tallies[section.name]
            try:
                section.model._default_manager.filter(pk__in=[o.pk for o in stale]).delete()
                tally.deleted += len(stale)
                continue
            except ProtectedError as error:
                if retry:
                    users = sorted({str(obj) for obj in error.protected_objects})[:5]
                    raise PortableError(
                        f"Cannot delete {section.name} missing from the file: still used by "
                        f"{', '.join(users)}."
                    ) from None
            for obj in stale:
                try:
                    obj.delete()
                    tally.deleted += 1
                except ProtectedError:
                    waiting = True
        return waiting

    def _upsert(self, section: Section) -> None:
        existing = {section.key_of(obj): obj for obj in section.queryset()}
        self.objects[section.model] = existing
        kept = self.keys[section.name]
        # Rows the file does not keep, by each alternate key (see Section.alternate_keys).
        unclaimed = {
            name: {getattr(obj, name): old for old, obj in existing.items() if old not in kept}
            for name in section.alternate_keys
        }
        tally = self.report.tallies[section.name]
        # Links between rows of this section (translations) may point at a later row: they
        # are set once every row exists.
        links: list[tuple[models.Model, str, list[list[str]]]] = []
        for number, row in enumerate(self.document[section.name], start=1):
            key = self._natural_key(section, row, number)
            label = section.describe(key, number)
            obj = existing.get(key)
            for name in section.alternate_keys:
                value = row.get(name)
                if obj is None and isinstance(value, str) and value in unclaimed[name]:
                    obj = existing.pop(unclaimed[name].pop(value))
            before = section.encode(obj) if obj is not None else None
            if obj is None:
                obj = section.model()
            self._assign(section, obj, row, label)
            related = {
                m2m.name: self._related(m2m, row, label, kept=kept) for m2m in section.many_to_many
            }
            try:
                obj.full_clean(
                    validate_unique=section.validate_in_database,
                    validate_constraints=section.validate_in_database,
                )
            except ValidationError as error:
                raise PortableError(f"{label}: {describe(error)}") from None
            encoded_related = {name: sorted(pairs) for name, (pairs, _) in related.items()}
            if before is not None and section.encode(obj, encoded_related) == before:
                tally.unchanged += 1
                continue
            self._save(section, obj, row)
            for name, (pairs, targets) in related.items():
                if section.model._meta.get_field(name).related_model is section.model:
                    links.append((obj, name, pairs))
                else:
                    getattr(obj, name).set(targets)
            if before is None:
                tally.created += 1
            else:
                tally.updated += 1
            existing[key] = obj
        for obj, name, pairs in links:
            getattr(obj, name).set([existing[tuple(p)] for p in pairs])

    def _assign(self, section: Section, obj: models.Model, row: Row, label: str) -> None:
        for f in section.fields:
            if f.name in row:
                setattr(obj, f.name, self._decode(f, row[f.name], label))
            elif (original := getattr(f, "translated_field", None)) is not None:
                # A per-language column (django-modeltranslation) that a file written before
                # the field was translated lacks: its one value is the English text.
                english = f.language == settings.MODELTRANSLATION_DEFAULT_LANGUAGE
                value = row.get(original.name) if english else None
                setattr(obj, f.attname, self._decode(f, value, label))
            elif not (getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)):
                # The file is the truth: a field it lacks (an older file) takes the default.
                setattr(obj, f.attname, f.get_default())

    def _decode(self, f: models.Field, value: Any, label: str) -> Any:
        if value is None:
            return None  # full_clean() says so if the field cannot be empty
        if f.is_relation:
            target = self.objects[f.related_model].get((value,)) if isinstance(value, str) else None
            if target is None:
                what = f.related_model._meta.verbose_name
                raise PortableError(
                    f"{label}: {f.name}: there is no {what} '{value}' in the file or the database."
                )
            return target
        if isinstance(f, models.DateTimeField):
            moment = _parse(datetime.fromisoformat, value, label, f.name)
            if moment.tzinfo is None:
                raise PortableError(f"{label}: {f.name}: '{value}' lacks a time zone offset.")
            return moment
        if isinstance(f, models.DateField):
            return _parse(date.fromisoformat, value, label, f.name)
        if isinstance(value, float) and not isinstance(f, models.FloatField | models.DecimalField):
            # int() would quietly turn 15.5 minutes into 15.
            raise PortableError(f"{label}: {f.name}: expected a whole number, not {value!r}.")
        if not isinstance(value, str | int | float | bool):
            raise PortableError(f"{label}: {f.name}: expected a single value, not {value!r}.")
        return value

    def _related(
        self, m2m: models.ManyToManyField, row: Row, label: str, *, kept: dict[Key, int]
    ) -> tuple[list[list[str]], list[models.Model]]:
        pairs = row.get(m2m.name, [])
        size = len(SECTION_BY_MODEL[m2m.related_model].natural_key)
        if not isinstance(pairs, list) or not all(
            isinstance(p, list) and len(p) == size and all(isinstance(s, str) for s in p)
            for p in pairs
        ):
            raise PortableError(f"{label}: {m2m.name} must be a list of {size}-part keys.")
        known = self.objects[m2m.related_model]
        later = kept if m2m.related_model is m2m.model else {}  # rows of this section
        missing = [p for p in pairs if tuple(p) not in known and tuple(p) not in later]
        if missing:
            raise PortableError(
                f"{label}: {m2m.name}: unknown {', '.join('/'.join(p) for p in missing)}."
            )
        unique = sorted({tuple(p) for p in pairs})
        return [list(p) for p in unique], [known[p] for p in unique if p in known]

    def _save(self, section: Section, obj: models.Model, row: Row) -> None:
        # save() may set values of its own (auto_now timestamps, a default publication time
        # or next review date); the file's values win, written back without save().
        wanted = {f.attname: getattr(obj, f.attname) for f in section.fields if f.name in row}
        obj.save()
        drift = {name: value for name, value in wanted.items() if getattr(obj, name) != value}
        if drift:
            section.model._default_manager.filter(pk=obj.pk).update(**drift)
            for name, value in drift.items():
                setattr(obj, name, value)

    def _check_media(self) -> None:
        for section in SECTIONS:
            files = [f for f in section.fields if isinstance(f, models.FileField)]
            for f in files:
                for row in self.document[section.name]:
                    name = row.get(f.name)
                    if name and not f.storage.exists(str(name)):
                        self.report.missing_media.append(str(name))


def _parse(parser: Any, value: Any, label: str, name: str) -> Any:
    try:
        return parser(value)
    except (TypeError, ValueError):
        raise PortableError(f"{label}: {name}: {value!r} is not a valid date or time.") from None
