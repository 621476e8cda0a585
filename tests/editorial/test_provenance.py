"""Provenance and licence (#15 part 3): who made a resource and its picture, under which
licence the hub may show them, and the evidence behind them; required before approval for
anything the hub hosts, shown on the public page and in the API."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from resources.editorial import workflow
from resources.editorial.workflow import WorkflowError
from resources.management.commands.load_starter_content import DEFAULT_FILE
from resources.models import Licence, Resource, Status

from ..factories import OrganisationFactory, ResourceFactory
from .test_images import _add_form, _errors, picture

pytestmark = pytest.mark.django_db

TRIAL = "https://pmc.ncbi.nlm.nih.gov/articles/PMC11485212"


def _detail(client: Client, resource: Resource) -> str:
    response = client.get(resource.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


# --- images: no upload without author and licence ---------------------------------------------


def test_an_image_cannot_be_uploaded_without_its_author_and_licence(admin_client: Client):
    organisation = OrganisationFactory()
    form = _add_form(organisation, image=picture("walk.png"), image_author="", image_licence="")

    response = admin_client.post(reverse("admin:resources_resource_add"), form)

    assert response.status_code == 200
    errors = _errors(response)
    assert errors["image_author"] == ["Say who made the image before it can be uploaded."]
    assert errors["image_licence"] == ["Choose the image's licence before it can be uploaded."]
    assert not Resource.objects.exists()


def test_an_uploaded_image_cannot_be_linked_only(admin_client: Client):
    organisation = OrganisationFactory()
    form = _add_form(organisation, image=picture("walk.png"), image_licence="linked-only")

    response = admin_client.post(reverse("admin:resources_resource_add"), form)

    assert "cannot be 'linked only'" in _errors(response)["image_licence"][0]
    assert not Resource.objects.exists()


def test_an_image_with_author_and_licence_is_stored_with_them(admin_client: Client):
    organisation = OrganisationFactory()
    form = _add_form(organisation, image=picture("walk.png"), image_source_url="")

    response = admin_client.post(reverse("admin:resources_resource_add"), form)

    assert response.status_code == 302, _errors(response)
    resource = Resource.objects.get()
    assert (resource.image_author, resource.image_licence) == ("Photo: A. Jansen", "cc-by")


# --- evidence links ------------------------------------------------------------------------


def test_evidence_lines_are_read_as_title_and_address():
    resource = ResourceFactory.build(evidence=f"PREFERABLE-EFFECT trial {TRIAL}\n\n")
    assert [(link.title, link.url) for link in resource.evidence_links] == [
        ("PREFERABLE-EFFECT trial", TRIAL)
    ]


@pytest.mark.parametrize(
    "line", ["just a title", "http://insecure.example.org/trial x", "https://no-title.example.org"]
)
def test_an_evidence_line_without_title_or_secure_address_is_refused_in_words(line: str):
    resource = ResourceFactory.build(organisation=OrganisationFactory(), evidence=line)
    with pytest.raises(ValidationError) as error:
        resource.full_clean()
    message = " ".join(error.value.message_dict["evidence"])
    assert "a title, a space and an address starting with https://" in message
    assert line in message


# --- approval ------------------------------------------------------------------------------


@pytest.fixture
def approver(db) -> User:
    return User.objects.create_superuser("approver", "approver@example.org", "x")


def test_approve_refuses_a_hosted_guide_without_author_or_licence(approver: User):
    guide = ResourceFactory(in_review=True, author="", licence="")

    with pytest.raises(WorkflowError) as error:
        workflow.approve(guide, approver)

    assert error.value.message == (
        "The hub shows a copy of this resource, so its provenance must be recorded before "
        "approval. Add: who wrote the guide (author or producer); a licence for the guide "
        "that lets the hub show it."
    )
    guide.refresh_from_db()
    assert guide.status == Status.IN_REVIEW


def test_approve_refuses_a_hosted_guide_that_is_only_linked(approver: User):
    guide = ResourceFactory(in_review=True, licence=Licence.LINKED_ONLY)

    with pytest.raises(WorkflowError, match="a licence for the guide that lets the hub show it"):
        workflow.approve(guide, approver)


def test_approve_refuses_an_image_without_its_credit(approver: User):
    resource = ResourceFactory(
        in_review=True, image="resources/2026/walk-40x20.png", image_alt="A walk.", image_author=""
    )
    with pytest.raises(WorkflowError, match="who made the image"):
        workflow.approve(resource, approver)


def test_approve_accepts_a_link_without_provenance_and_a_guide_with_it(approver: User):
    link = ResourceFactory(in_review=True, link=True, author="", licence="")
    guide = ResourceFactory(in_review=True, author="Hub team", licence=Licence.CC_BY_SA)

    workflow.approve(link, approver)
    workflow.approve(guide, approver)

    assert Resource.objects.published().count() == 2


def test_the_approve_button_shows_the_plain_message(admin_client: Client):
    guide = ResourceFactory(in_review=True, author="", licence="")
    url = reverse("admin:resources_resource_workflow", args=[guide.pk, "approve"])

    response = admin_client.post(url, {"comment": ""}, follow=True)

    assert "its provenance must be recorded before approval" in response.content.decode()
    guide.refresh_from_db()
    assert guide.status == Status.IN_REVIEW


# --- the public page and the API ---------------------------------------------------------------


def test_detail_page_shows_author_licence_source_and_evidence(client: Client):
    guide = ResourceFactory(
        author="Hub editorial team",
        licence=Licence.CC_BY_SA,
        evidence=f"PREFERABLE-EFFECT trial {TRIAL}",
    )
    html = _detail(client, guide)

    assert "Source and licence" in html
    assert "Hub editorial team" in html
    assert '<a href="https://creativecommons.org/licenses/by-sa/4.0/" rel="license' in html
    assert "Written for this hub" in html
    assert (
        f'<a href="{TRIAL}" rel="noopener noreferrer external">PREFERABLE-EFFECT trial</a>' in html
    )


def test_a_linked_page_without_a_recorded_licence_says_linked_only(client: Client):
    link = ResourceFactory(link=True, author="", licence="")
    html = _detail(client, link)

    assert "All rights reserved — linked only" in html
    assert f'<a href="{link.url}" rel="noopener noreferrer external">{link.url}</a>' in html
    assert link.organisation.name in html  # made by: the organisation when no author is given


def test_the_image_credit_is_shown_with_its_licence(client: Client):
    resource = ResourceFactory(
        image="resources/2026/walk-40x20.png", image_alt="A walk.", image_licence=Licence.CC0
    )
    html = _detail(client, resource)

    assert "Photo: A. Jansen" in html
    assert '<a href="https://creativecommons.org/publicdomain/zero/1.0/"' in html


def test_the_api_gives_the_provenance(client: Client):
    guide = ResourceFactory(
        author="Hub editorial team",
        licence=Licence.CC_BY,
        licence_url="https://creativecommons.org/licenses/by/3.0/",
        source_url="https://charity.example.org/original",
        evidence=f"PREFERABLE-EFFECT trial {TRIAL}",
    )
    data = client.get(f"/api/v1/resources/{guide.slug}/").json()

    assert data["provenance"] == {
        "author": "Hub editorial team",
        "licence": {
            "slug": "cc-by",
            "label": "CC BY",
            "url": "https://creativecommons.org/licenses/by/3.0/",
        },
        "source_url": "https://charity.example.org/original",
        "evidence": [{"title": "PREFERABLE-EFFECT trial", "url": TRIAL}],
        "image": None,
    }


# --- the starter content ----------------------------------------------------------------------


def test_every_starter_resource_has_an_author_and_a_licence():
    starter = json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))
    for entry in starter["resources"]:
        assert entry["author"], entry["slug"]
        hosted = bool(entry.get("body"))
        assert entry["licence"] in (Licence.hostable() if hosted else [Licence.LINKED_ONLY])


def test_every_published_starter_page_shows_its_licence_and_source(client: Client):
    call_command("load_starter_content", "--publish-demo", stdout=StringIO())

    for resource in Resource.objects.published():
        html = _detail(client, resource)
        assert resource.licence_label in html, resource.slug
        assert (resource.source_link or "Written for this hub") in html, resource.slug
        assert "Not recorded yet" not in html


def test_loading_again_adds_provenance_to_starter_resources_loaded_before_it_existed():
    call_command("load_starter_content", stdout=StringIO())
    Resource.objects.filter(slug="a-seated-strength-routine").update(
        author="", licence="", evidence=""
    )
    Resource.objects.filter(slug="getting-started-safely").update(author="An editor", licence="")

    out = StringIO()
    call_command("load_starter_content", stdout=out)

    assert "provenance added to 1" in out.getvalue()
    filled = Resource.objects.get(slug="a-seated-strength-routine")
    assert filled.licence == Licence.CC_BY_SA
    assert filled.evidence_links
    assert Resource.objects.get(slug="getting-started-safely").author == "An editor"
