"""load_starter_content: the real starter file, idempotence, review state, bad files."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from resources.management.commands.load_starter_content import DEFAULT_FILE
from resources.models import BoneSafety, Kind, Organisation, Resource, Status

from ..factories import OrganisationFactory, ResourceFactory

pytestmark = pytest.mark.django_db

STARTER = json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))
HUB_LANGUAGES = ["de", "nl", "es", "pl", "sv"]
# The organisation the starter file uses for guides the hub wrote itself.
HUB_ORGANISATION = "hub"


def load(*args: str) -> str:
    out = StringIO()
    call_command("load_starter_content", *args, stdout=out)
    return out.getvalue()


def _write(tmp_path: Path, data: dict[str, Any]) -> str:
    path = tmp_path / "starter.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def _resource_entry(slug: str, **overrides: Any) -> dict[str, Any]:
    entry = {
        "slug": slug,
        "title": f"Guide {slug}",
        "kind": "guide",
        "summary": "A short guide.",
        "body": "Sit tall and breathe out slowly.",
        "url": "",
        "duration_minutes": 5,
        "language": "en",
        "organisation": "test-charity",
        "fitness_levels": ["gentle"],
        "cancer_stages": ["metastatic"],
        "exercise_types": ["breathing"],
        "bone_metastasis_safety": "suitable",
        "rating_rationale": "Seated breathing only.",
    }
    entry.update(overrides)
    return entry


TEST_ORGANISATION = {
    "slug": "test-charity",
    "name": "Test Charity",
    "website": "https://charity.example.org/",
    "country": "GB",
}


def test_loads_every_organisation_and_resource_in_the_file():
    output = load()
    assert Organisation.objects.count() == len(STARTER["organisations"])
    assert Resource.objects.count() == len(STARTER["resources"])
    assert f"created {len(STARTER['resources'])}, unchanged 0" in output


def test_loading_twice_creates_nothing_the_second_time():
    load()
    counts = (Organisation.objects.count(), Resource.objects.count())
    output = load()
    assert (Organisation.objects.count(), Resource.objects.count()) == counts
    assert f"Resources: created 0, unchanged {len(STARTER['resources'])}" in output
    assert "Organisations: created 0" in output


def test_default_load_leaves_everything_in_review_and_off_the_public_site(client: Client):
    load()
    assert set(Resource.objects.values_list("status", flat=True)) == {Status.IN_REVIEW}
    assert not Resource.objects.published().exists()
    page = client.get("/en/resources/").content.decode()
    for entry in STARTER["resources"]:
        assert entry["title"] not in page


def test_default_load_keeps_the_proposed_rating_marked_provisional():
    load()
    for entry in STARTER["resources"]:
        resource = Resource.objects.get(slug=entry["slug"])
        assert resource.bone_metastasis_safety == entry["bone_metastasis_safety"]
        assert resource.rating_is_provisional
        assert resource.reviewed_by == ""


def test_demo_load_publishes_everything_as_not_yet_clinically_reviewed(client: Client):
    load("--publish-demo")
    published = Resource.objects.published()
    assert published.count() == len(STARTER["resources"])
    assert all(r.rating_is_provisional and r.reviewed_by == "" for r in published)
    assert not published.filter(bone_metastasis_safety=BoneSafety.NOT_REVIEWED).exists()
    first = STARTER["resources"][0]
    assert client.get(f"/en/resources/{first['slug']}/").status_code == 200


def test_tags_from_the_file_are_attached():
    load()
    for entry in STARTER["resources"]:
        resource = Resource.objects.get(slug=entry["slug"])
        assert {t.slug for t in resource.fitness_levels} == set(entry["fitness_levels"])
        assert {t.slug for t in resource.cancer_stages} == set(entry["cancer_stages"])
        assert {t.slug for t in resource.exercise_types} == set(entry["exercise_types"])


@pytest.mark.parametrize("language", HUB_LANGUAGES)
def test_the_hub_offers_its_own_guides_in_each_trial_language(language):
    load()
    hub_guides = Resource.objects.filter(
        organisation__slug=HUB_ORGANISATION, kind=Kind.GUIDE, language=language
    )
    assert hub_guides.exists(), f"no guide written by the hub in {language}"
    assert all(guide.body.strip() and guide.rating_is_provisional for guide in hub_guides)


def test_loading_makes_a_few_queries_per_resource_not_more():
    with CaptureQueriesContext(connection) as queries:
        load()
    per_item = len(queries) / (len(STARTER["resources"]) + len(STARTER["organisations"]))
    assert per_item <= 6, f"{len(queries)} queries"


def test_demo_load_never_overwrites_what_an_editor_changed():
    entry = STARTER["resources"][0]
    edited = ResourceFactory(
        slug=entry["slug"], title="Renamed by an editor", reviewed_by="B. Smit, oncologist"
    )
    load("--publish-demo")
    edited.refresh_from_db()
    assert edited.title == "Renamed by an editor"
    assert edited.reviewed_by == "B. Smit, oncologist"
    assert not edited.rating_is_provisional


def test_an_existing_organisation_is_reused_not_duplicated(tmp_path: Path):
    existing = OrganisationFactory(name="Test Charity", slug="renamed-by-editor")
    path = _write(
        tmp_path, {"organisations": [TEST_ORGANISATION], "resources": [_resource_entry("one")]}
    )
    load("--file", path)
    assert Organisation.objects.get() == existing
    assert Resource.objects.get().organisation == existing


def test_unknown_tag_slug_loads_nothing_and_names_the_resource_and_value(tmp_path: Path):
    data = {
        "organisations": [TEST_ORGANISATION],
        "resources": [
            _resource_entry("fine-guide"),
            _resource_entry("broken-guide", fitness_levels=["gentle", "very-fit"]),
        ],
    }
    with pytest.raises(CommandError) as error:
        load("--file", _write(tmp_path, data))
    assert "broken-guide" in str(error.value)
    assert "very-fit" in str(error.value)
    assert not Resource.objects.exists()
    assert not Organisation.objects.exists()


def test_invalid_resource_is_refused_with_the_editors_message(tmp_path: Path):
    data = {
        "organisations": [TEST_ORGANISATION],
        "resources": [_resource_entry("insecure", kind="link", url="http://charity.example.org/")],
    }
    with pytest.raises(CommandError) as error:
        load("--file", _write(tmp_path, data))
    assert "insecure" in str(error.value)
    assert "https://" in str(error.value)
    assert not Resource.objects.exists()


def test_demo_load_refuses_to_publish_a_resource_without_a_proposed_rating(tmp_path: Path):
    data = {
        "organisations": [TEST_ORGANISATION],
        "resources": [_resource_entry("unrated", bone_metastasis_safety="not-reviewed")],
    }
    with pytest.raises(CommandError) as error:
        load("--publish-demo", "--file", _write(tmp_path, data))
    assert "unrated" in str(error.value)
    assert "safety rating" in str(error.value)
    assert not Resource.objects.exists()


def test_unknown_organisation_is_reported(tmp_path: Path):
    data = {"organisations": [], "resources": [_resource_entry("orphan")]}
    with pytest.raises(CommandError, match=r"orphan.*unknown organisation 'test-charity'"):
        load("--file", _write(tmp_path, data))


def test_missing_file_is_reported(tmp_path: Path):
    with pytest.raises(CommandError, match="not found"):
        load("--file", str(tmp_path / "nowhere.json"))


def test_broken_json_is_reported_with_its_line(tmp_path: Path):
    path = tmp_path / "broken.json"
    path.write_text('{"organisations": [],\n "resources": [,]}', encoding="utf-8")
    with pytest.raises(CommandError, match=r"not valid JSON.*line 2"):
        load("--file", str(path))
