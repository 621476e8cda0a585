"""Load the hub's starter organisations and resources from a JSON file.

Safe to run again and again (`make run` does on every start): it only creates what is
missing and never touches an organisation or resource that already exists, because an
editor may have changed it since.

By default the resources arrive "in review" with the proposed safety rating, marked as
provisional, for a clinical reviewer to check. `--publish-demo` publishes the newly created
ones at once for a demo site; they stay marked as not yet clinically reviewed, and the
public pages say so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone

from hub.cache import content_changed
from resources.editorial.content_import import describe, tags_by_key, unknown_slugs
from resources.models import (
    Organisation,
    Programme,
    ProgrammeLocation,
    Resource,
    Status,
    Tag,
    Vocabulary,
)

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "data" / "starter_content.json"

# File key -> tag vocabulary it holds slugs of.
TAG_KEYS: dict[str, Vocabulary] = {
    "fitness_levels": Vocabulary.FITNESS_LEVEL,
    "cancer_stages": Vocabulary.CANCER_STAGE,
    "exercise_types": Vocabulary.EXERCISE_TYPE,
}
ORGANISATION_KEYS = {"slug", "name"}
RESOURCE_KEYS = {"slug", "title", "kind", "summary", "organisation"}
# Copied onto the model as they are; `rating_rationale` goes to the reviewer's notes.
RESOURCE_FIELDS = (
    "title",
    "kind",
    "summary",
    "body",
    "url",
    "duration_minutes",
    "language",
    "bone_metastasis_safety",
    "author",
    "licence",
    "licence_url",
    "source_url",
)
# Provenance a resource loaded before it existed gets on the next load, if still blank.
PROVENANCE_FIELDS = ("author", "licence", "licence_url", "source_url", "evidence")


@dataclass
class Counts:
    created: int = 0
    unchanged: int = 0
    provenance_added: int = 0

    def __str__(self) -> str:
        added = f", provenance added to {self.provenance_added}" if self.provenance_added else ""
        return f"created {self.created}, unchanged {self.unchanged}{added}"


def _provenance(entry: dict[str, Any]) -> dict[str, str]:
    """The provenance fields of a file entry; `evidence` is a list of "Title https://…"."""
    values = {name: str(entry.get(name) or "") for name in PROVENANCE_FIELDS if name != "evidence"}
    evidence = entry.get("evidence") or []
    if not isinstance(evidence, list):
        raise CommandError(f"Resource '{entry['slug']}': 'evidence' must be a list of lines.")
    values["evidence"] = "\n".join(str(line) for line in evidence)
    return values


class Command(BaseCommand):
    help = (
        "Create the starter organisations and resources that do not exist yet. Resources "
        "arrive in review with a provisional safety rating; --publish-demo publishes them "
        "as demo content marked 'not yet clinically reviewed'."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--file",
            type=Path,
            default=DEFAULT_FILE,
            help=f"JSON file to load (default: {DEFAULT_FILE}).",
        )
        parser.add_argument(
            "--publish-demo",
            action="store_true",
            help="Publish newly created resources at once, as unreviewed demo content.",
        )

    def handle(self, *args: Any, file: Path, publish_demo: bool, **options: Any) -> None:
        data = self._read(file)
        # One transaction: a mistake anywhere in the file loads nothing at all.
        with transaction.atomic():
            organisations, organisation_counts = self._load_organisations(data["organisations"])
            resource_counts = self._load_resources(
                data["resources"], organisations, publish_demo=publish_demo
            )
            programme_counts = self._load_programmes(
                data.get("programmes", []), organisations, publish_demo=publish_demo
            )
        state = (
            "published as demo content, not yet clinically reviewed"
            if publish_demo
            else "in review, with a provisional safety rating"
        )
        self.stdout.write(f"Organisations: {organisation_counts}.")
        self.stdout.write(f"Resources: {resource_counts}.")
        self.stdout.write(f"Programme listings: {programme_counts}.")
        if resource_counts.created:
            self.stdout.write(f"New resources are {state}.")

    def _read(self, file: Path) -> dict[str, list[dict[str, Any]]]:
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CommandError(f"Starter content file not found: {file}") from None
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise CommandError(
                f"{file} is not valid JSON: {error.msg} "
                f"(line {error.lineno}, column {error.colno})."
            ) from None
        if not isinstance(data, dict):
            raise CommandError(f"{file} must hold an object with 'organisations' and 'resources'.")
        for key in ("organisations", "resources", "programmes"):
            entries = data.get(key, [])
            if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                raise CommandError(f"{file}: '{key}' must be a list of objects.")
            data[key] = entries
        return data

    def _load_programmes(
        self,
        entries: list[dict[str, Any]],
        organisations: dict[str, Organisation],
        *,
        publish_demo: bool,
    ) -> Counts:
        """Starter listings (national finders and networks): marked as starter listings, in
        review; with `--publish-demo`, published and dated today, still labelled as unchecked."""
        counts = Counts()
        existing = set(Programme.objects.values_list("slug", flat=True))
        for entry in entries:
            slug = str(entry["slug"])
            if slug in existing:
                counts.unchanged += 1
                continue
            organisation = organisations.get(str(entry["organisation"]))
            if organisation is None:
                raise CommandError(f"Programme '{slug}': unknown organisation.")
            fields = {
                key: entry[key]
                for key in (
                    "name",
                    "description",
                    "url",
                    "referral",
                    "application_process",
                    "languages",
                    "delivery",
                    "service_area",
                    "cost",
                    "fees_description",
                    "source_url",
                    "review_notes",
                )
                if key in entry
            }
            programme = Programme(slug=slug, organisation=organisation, is_demo=True, **fields)
            if publish_demo:
                programme.status = Status.PUBLISHED
                programme.assured_date = timezone.localdate()
                programme.assurer = "Hub team (starter listing, details not yet confirmed)"
            else:
                programme.status = Status.IN_REVIEW
            self._save(programme, f"Programme '{slug}'")
            for location in entry.get("locations", []):
                self._save(
                    ProgrammeLocation(programme=programme, **location), f"Programme '{slug}'"
                )
            counts.created += 1
        return counts

    def _load_organisations(
        self, entries: list[dict[str, Any]]
    ) -> tuple[dict[str, Organisation], Counts]:
        """Every organisation the file mentions, by its slug in the file."""
        counts = Counts()
        existing = list(Organisation.objects.all())
        by_slug = {org.slug: org for org in existing}
        by_name = {org.name: org for org in existing}
        found: dict[str, Organisation] = {}
        for number, entry in enumerate(entries, start=1):
            missing = ORGANISATION_KEYS - entry.keys()
            if missing:
                raise CommandError(
                    f"Organisation number {number} lacks {', '.join(sorted(missing))}."
                )
            slug = str(entry["slug"])
            if slug in found:
                raise CommandError(f"Organisation '{slug}' appears twice in the file.")
            # An organisation renamed or re-slugged by an editor is still the same one.
            org = by_slug.get(slug) or by_name.get(entry["name"])
            if org is not None:
                counts.unchanged += 1
            else:
                org = Organisation(
                    slug=slug,
                    name=entry["name"],
                    website=entry.get("website") or "",
                    country=entry.get("country") or "",
                )
                self._save(org, f"Organisation '{slug}'")
                counts.created += 1
            found[slug] = org
        # Resources may also name an organisation that exists only in the database.
        return {**by_slug, **found}, counts

    def _load_resources(
        self,
        entries: list[dict[str, Any]],
        organisations: dict[str, Organisation],
        *,
        publish_demo: bool,
    ) -> Counts:
        counts = Counts()
        created: list[tuple[Resource, list[Tag]]] = []
        # Slug -> whether its provenance is still wholly blank (loaded before it existed).
        existing = {
            slug: not (author or licence)
            for slug, author, licence in Resource.objects.values_list("slug", "author", "licence")
        }
        tags = tags_by_key()
        now = timezone.now()
        seen: set[str] = set()
        for number, entry in enumerate(entries, start=1):
            missing = RESOURCE_KEYS - entry.keys()
            if missing:
                name = entry.get("slug") or f"number {number}"
                raise CommandError(f"Resource {name} lacks {', '.join(sorted(missing))}.")
            slug = str(entry["slug"])
            label = f"Resource '{slug}'"
            if slug in seen:
                raise CommandError(f"{label} appears twice in the file.")
            seen.add(slug)
            if slug in existing:
                counts.unchanged += 1
                if existing[slug] and (entry.get("author") or entry.get("licence")):
                    # Only what is still blank, so never an editor's own entry; no new
                    # version in the history, as for the rest of the starter load.
                    Resource.objects.filter(slug=slug, author="", licence="").update(
                        **_provenance(entry)
                    )
                    counts.provenance_added += 1
                continue

            organisation = organisations.get(entry["organisation"])
            if organisation is None:
                raise CommandError(
                    f"{label}: unknown organisation '{entry['organisation']}'. "
                    "Add it to 'organisations' in the file."
                )
            resource_tags = self._tags(entry, tags, label)
            resource = Resource(
                slug=slug,
                organisation=organisation,
                **{
                    field: entry[field] for field in RESOURCE_FIELDS if entry.get(field) is not None
                },
                evidence=_provenance(entry)["evidence"],
                review_notes=entry.get("rating_rationale") or "",
                rating_is_provisional=True,
                reviewed_by="",
            )
            if publish_demo:
                resource.status = Status.PUBLISHED
                resource.published_at = now
                resource.reviewed_on = timezone.localdate(now)
            else:
                resource.status = Status.IN_REVIEW
            # History is written for the whole file at once below (_record_history).
            resource.skip_history_when_saving = True
            self._save(resource, label)
            resource.tags.add(*resource_tags)
            del resource.skip_history_when_saving
            created.append((resource, resource_tags))
            counts.created += 1
        self._record_history(created)
        if counts.provenance_added:
            content_changed()  # update() sends no signal: public pages show provenance
        return counts

    @staticmethod
    def _record_history(created: list[tuple[Resource, list[Tag]]]) -> None:
        """One first version per loaded resource, tags included, in three queries in all.

        Saved one by one, history costs three more queries per resource (the version, then
        a version per tag change with its tag rows); editors still see where content came from.
        """
        if not created:
            return
        versions = Resource.history.bulk_history_create(
            [resource for resource, _ in created], default_change_reason="Starter content"
        )
        version_of = {version.id: version for version in versions}
        tag_versions = apps.get_model("resources", "HistoricalResource_tags")
        tag_versions.objects.bulk_create(
            tag_versions(
                id=row.id,
                history=version_of[row.resource_id],
                resource_id=row.resource_id,
                tag_id=row.tag_id,
            )
            for row in Resource.tags.through.objects.filter(resource__in=list(version_of))
        )

    def _tags(
        self, entry: dict[str, Any], tags: dict[tuple[str, str], Tag], label: str
    ) -> list[Tag]:
        chosen: list[Tag] = []
        for key, vocabulary in TAG_KEYS.items():
            values = entry.get(key) or []
            if not isinstance(values, list):
                raise CommandError(f"{label}: '{key}' must be a list of slugs.")
            unknown, known = unknown_slugs(tags, vocabulary.value, values)
            if unknown:
                raise CommandError(
                    f"{label}: unknown {vocabulary.label.lower()} '{unknown[0]}' in {key} "
                    f"(known: {', '.join(known)})."
                )
            chosen += [tags[vocabulary.value, value] for value in values]
        return chosen

    def _save(self, obj: Model, label: str) -> None:
        try:
            # clean() words every database constraint for the editor already; checking the
            # constraints again costs three queries each per row, and the database still
            # enforces them on save.
            obj.full_clean(validate_constraints=False)
        except ValidationError as error:
            raise CommandError(f"{label}: {describe(error)}") from None
        try:
            obj.save()
        except IntegrityError as error:
            raise CommandError(f"{label}: refused by the database ({error}).") from None
