"""Part 5 of #13: the HSDS read API validates against the Open Referral schemas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from resources.models import ProgrammeLocation
from resources.programmes.hsds import hsds_id

from .factories import UTRECHT, ProgrammeFactory

pytestmark = pytest.mark.django_db

SCHEMAS = Path(__file__).resolve().parents[2] / "resources" / "programmes" / "hsds_schema"


def validator(name: str) -> Draft202012Validator:
    registry = Registry().with_resources(
        (
            path.name,
            Resource.from_contents(json.loads(path.read_text()), default_specification=DRAFT202012),
        )
        for path in SCHEMAS.glob("*.json")
    )
    schema = json.loads((SCHEMAS / name).read_text())
    return Draft202012Validator(schema, registry=registry, format_checker=FormatChecker())


def assert_valid(name: str, data: dict) -> None:
    errors = sorted(validator(name).iter_errors(data), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


@pytest.fixture
def listing():
    programme = ProgrammeFactory(
        name="Sterk Samen Utrecht",
        located=("Utrecht", "NL", UTRECHT),
        languages="nl,en",
        phone="030 123 4567",
        email="info@sterksamen.example",
        service_area="Utrecht region",
    )
    ProgrammeLocation.objects.filter(programme=programme).update(
        address="Domplein 1", postal_code="3512 JC"
    )
    ProgrammeFactory(name="Hidden draft", draft=True)
    return programme


def test_the_services_list_is_an_hsds_page_of_valid_services(client, listing):
    response = client.get("/api/hsds/services")
    assert response.status_code == 200
    page = response.json()
    assert page["total_items"] == 1 and page["first_page"] and page["last_page"]
    assert [s["name"] for s in page["contents"]] == ["Sterk Samen Utrecht"]
    for service in page["contents"]:
        assert_valid("service.json", service)
    assert not response.cookies


def test_a_service_validates_with_its_locations_languages_and_phone(client, listing):
    response = client.get(f"/api/hsds/services/{hsds_id('service', listing.pk)}")
    assert response.status_code == 200
    service = response.json()
    assert_valid("service.json", service)
    address = service["service_at_locations"][0]["location"]["addresses"][0]
    assert (address["city"], address["postal_code"], address["country"]) == (
        "Utrecht",
        "3512 JC",
        "NL",
    )
    assert [language["code"] for language in service["languages"]] == ["nl", "en"]
    assert service["phones"][0]["number"] == "030 123 4567"


def test_organizations_validate_and_list_published_services_only(client, listing):
    page = client.get("/api/hsds/organizations").json()
    assert page["total_items"] == 1
    for organization in page["contents"]:
        assert_valid("organization.json", organization)
    detail = client.get(
        f"/api/hsds/organizations/{hsds_id('organization', listing.organisation_id)}"
    ).json()
    assert_valid("organization.json", detail)
    assert [s["name"] for s in detail["services"]] == ["Sterk Samen Utrecht"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/hsds/services/not-a-uuid",
        "/api/hsds/services/00000002-0000-4000-8000-000000000001",  # an organisation id
        "/api/hsds/services?page=9",
    ],
)
def test_unknown_ids_and_pages_are_404(client, listing, path):
    assert client.get(path).status_code == 404


def test_drafts_never_appear(client, listing):
    draft = ProgrammeFactory(draft=True)
    assert client.get(f"/api/hsds/services/{hsds_id('service', draft.pk)}").status_code == 404


def test_the_validator_refuses_what_hsds_refuses():
    with pytest.raises(AssertionError, match="status"):
        assert_valid("service.json", {"id": hsds_id("service", 1), "name": "No status"})
    with pytest.raises(AssertionError, match="uuid"):
        assert_valid("service.json", {"id": "7", "name": "Bad id", "status": "active"})
