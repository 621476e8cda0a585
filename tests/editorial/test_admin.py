"""The editors' admin: every page opens, lists stay cheap, publication cannot skip review."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib import admin, messages
from django.contrib.auth.models import Group, User
from django.db import connection
from django.db.models import Model
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from resources.models import (
    LinkCheck,
    Organisation,
    Partner,
    ProblemReport,
    ReferralCount,
    Resource,
    Status,
    Tag,
    Transition,
)

from ..factories import ResourceFactory
from ..programmes.factories import ProgrammeFactory

pytestmark = pytest.mark.django_db

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def _admin_url(model: type[Model], view: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def one_of_each(admin_user: User) -> None:
    """At least one row of every registered model, for its change page."""
    resource = ResourceFactory(tags={"level": ["gentle"], "type": ["balance"]})
    Transition.objects.create(resource=resource, to_status=Status.PUBLISHED, actor=admin_user)
    Group.objects.create(name="Clinical reviewers")
    partner = Partner.objects.create(name="St Elsewhere", slug="st-elsewhere")
    ReferralCount.objects.create(partner=partner, day=timezone.localdate(), visits=3)
    LinkCheck.objects.create(url="https://example.org/", status_code=404, consecutive_failures=2)
    ProblemReport.objects.create(resource=resource, message="The link is broken.")
    ProgrammeFactory(located=("Utrecht", "NL", None))


# Like djangoproject.com's guard test: a new admin that cannot even render is caught here.
@pytest.mark.parametrize(
    ("model", "model_admin"), REGISTERED, ids=[m._meta.label for m, _ in REGISTERED]
)
def test_every_admin_page_opens_for_a_superuser(
    admin_client: Client, admin_user: User, one_of_each, model, model_admin
):
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, f"add a {model._meta.label} to the one_of_each fixture"
    pages = [_admin_url(model, "changelist"), _admin_url(model, "change", obj.pk)]
    request = RequestFactory().get("/")
    request.user = admin_user
    if model_admin.has_add_permission(request):
        pages.append(_admin_url(model, "add"))
    for page in pages:
        assert admin_client.get(page).status_code == 200, page


def test_resource_changelist_makes_no_query_per_row(admin_client: Client):
    tags = {"level": ["gentle", "moderate"], "stage": ["metastatic"], "type": ["strength"]}
    ResourceFactory.create_batch(3, tags=tags)
    url = _admin_url(Resource, "changelist")
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    ResourceFactory.create_batch(27, tags=tags)
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(url)
    assert response.context["cl"].result_count == 30
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


# --- Adding a resource through the form ------------------------------------------------


@pytest.fixture
def organisation() -> Organisation:
    return Organisation.objects.create(
        name="Move More Trust", slug="move-more-trust", website="https://movemore.example.org/"
    )


def _tag_pk(vocabulary: str, slug: str) -> int:
    return Tag.objects.get(vocabulary=vocabulary, slug=slug).pk


def _add_form(organisation: Organisation, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "kind": "guide",
        "title": "Seated strength for beginners",
        "slug": "seated-strength-for-beginners",
        "summary": "Six movements from a chair, ten minutes in all.",
        "organisation": organisation.pk,
        "language": "en",
        "url": "",
        "body": "# Warm up\n\nRoll your shoulders slowly.",
        "duration_minutes": "10",
        "image_alt": "",
        "tags_level": [_tag_pk("level", "bed-or-chair"), _tag_pk("level", "gentle")],
        "tags_stage": [_tag_pk("stage", "metastatic")],
        "tags_type": [_tag_pk("type", "strength")],
        "bone_metastasis_safety": "not-reviewed",
        "reviewed_by": "",
        "reviewed_on": "",
        "next_review_due": "",
        "status": "published",
        "published_at_0": "",
        "published_at_1": "",
        "_save": "Save",
    }
    data.update(overrides)
    return data


def test_editor_cannot_publish_or_rate_a_new_resource_even_with_a_crafted_post(
    editor: Client, client: Client, organisation
):
    # Status and rating are not in the editor's form (roles, #4); a hand-made POST that
    # sends them anyway saves a plain, unrated draft.
    response = editor.post(
        _admin_url(Resource, "add"),
        _add_form(
            organisation,
            bone_metastasis_safety="suitable",
            reviewed_by="A. Jansen, physiotherapist",
            reviewed_on=(timezone.localdate() - timedelta(days=2)).isoformat(),
        ),
    )
    assert response.status_code == 302
    resource = Resource.objects.get(slug="seated-strength-for-beginners")
    assert resource.status == Status.DRAFT
    assert resource.bone_metastasis_safety == "not-reviewed"
    assert resource.reviewed_by == ""
    assert resource.reviewed_on is None
    assert {tag.slug for tag in resource.tags.all()} == {
        "bed-or-chair",
        "gentle",
        "metastatic",
        "strength",
    }
    assert client.get("/en/resources/seated-strength-for-beginners/").status_code == 404


def test_change_form_shows_the_current_tags_ticked(editor: Client):
    resource = ResourceFactory(tags={"level": ["gentle"], "type": ["balance"]})
    form = editor.get(_admin_url(Resource, "change", resource.pk)).context["adminform"].form
    assert set(form["tags_level"].initial) == {_tag_pk("level", "gentle")}
    assert set(form["tags_type"].initial) == {_tag_pk("type", "balance")}
    assert not form["tags_stage"].initial


# --- Bulk actions ---------------------------------------------------------------------


def _run_action(client: Client, action: str, *resources: Resource):
    return client.post(
        _admin_url(Resource, "changelist"),
        {"action": action, "_selected_action": [r.pk for r in resources]},
        follow=True,
    )


def test_approve_action_refuses_an_unreviewed_resource_and_names_it(reviewer: Client):
    unreviewed = ResourceFactory(
        unreviewed=True, status=Status.IN_REVIEW, title="Chair yoga, not yet checked"
    )
    reviewed = ResourceFactory(in_review=True, title="Supported balance")

    response = _run_action(reviewer, "approve_selected", unreviewed, reviewed)

    errors = [str(m) for m in response.context["messages"] if m.level == messages.ERROR]
    assert len(errors) == 1
    assert "Chair yoga, not yet checked" in errors[0]
    assert "clinical reviewer" in errors[0]
    unreviewed.refresh_from_db()
    assert unreviewed.status == Status.IN_REVIEW
    assert list(Resource.objects.published()) == [reviewed]


def test_unpublish_action_takes_a_resource_off_the_public_site(reviewer: Client, client: Client):
    resource = ResourceFactory()
    assert client.get(resource.get_absolute_url()).status_code == 200

    _run_action(reviewer, "unpublish_selected", resource)

    resource.refresh_from_db()
    assert resource.status != Status.PUBLISHED
    assert client.get(resource.get_absolute_url()).status_code == 404
