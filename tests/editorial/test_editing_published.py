"""Editing published content (#16, defects 2-4): what patients read never changes without a
clinician, every safety contributor is known, and a printed address keeps working.

The rule table is resources/editorial/workflow.py EDIT_RULES; these tests go through the admin
pages, the spreadsheet import and the restore view as editors and reviewers would.
"""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from resources.admin import ResourceAdminForm
from resources.editorial import workflow
from resources.editorial.review_due import CHANGED, INDEX_LISTS
from resources.editorial.workflow import Consequence, WorkflowError
from resources.models import (
    Organisation,
    Resource,
    SlugRedirect,
    Status,
    Transition,
    Vocabulary,
)

from ..factories import OrganisationFactory, ResourceFactory, publish
from .test_history import restore_url
from .test_import_export import CSV, confirm, dry_run, encode, row
from .test_workflow import change_form_data, change_url, step_url, steps, tag_pks

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:resources_resource_changelist")


def edit(client: Client, resource: Resource, **changes: object):
    response = client.post(
        change_url(resource), change_form_data(client, change_url(resource), **changes)
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    resource.refresh_from_db()
    return response


# --- Defect 2: one rule for every field a patient sees ---------------------------------


def test_every_field_of_the_change_form_and_every_vocabulary_has_a_rule():
    """A field added to the form later must be given a consequence on purpose."""
    form_fields = set(ResourceAdminForm._meta.fields)
    assert form_fields <= set(workflow.EDIT_RULES)
    editable = {f.name for f in Resource._meta.get_fields() if getattr(f, "editable", False)}
    assert editable - {"id", "tags"} <= set(workflow.EDIT_RULES)
    assert set(Vocabulary) <= set(workflow.VOCABULARY_RULES)
    for name in ("transcript", "transcript_url", "duration_minutes", "body", "url", "image"):
        assert workflow.EDIT_RULES[name] == Consequence.REVIEW, name
    assert {"transcript", "transcript_url"} <= set(workflow.SAFETY_FIELDS)
    assert workflow.EDIT_RULES["slug"] == Consequence.FIXED


@pytest.mark.parametrize(
    ("field", "value", "label"),
    [
        ("transcript", "Now lift the heaviest weight you can.", "transcript"),
        ("transcript_url", "https://elsewhere.example.net/transcript", "transcript address"),
        ("duration_minutes", 90, "duration (minutes)"),
    ],
)
def test_a_patient_visible_instruction_change_sends_a_published_resource_back_to_review(
    editor: Client, client: Client, editor_user: User, field: str, value: object, label: str
):
    resource = ResourceFactory(video=True)
    assert client.get(resource.get_absolute_url()).status_code == 200
    edit(editor, resource, **{field: value})
    assert resource.status == Status.IN_REVIEW
    assert steps(resource) == [
        ("published", "in-review", "editor", f"Safety-relevant fields changed: {label}")
    ]
    assert resource.safety_contributors.filter(pk=editor_user.pk).exists()
    assert client.get(resource.get_absolute_url()).status_code == 404


def test_a_title_change_stays_public_but_is_logged_and_listed_until_confirmed(
    editor: Client, reviewer: Client, client: Client
):
    resource = ResourceFactory(title="Chiar yoga", tags={"type": ["balance"]})
    edit(editor, resource, title="Chair yoga", tags_type=tag_pks("type", "balance", "strength"))
    assert resource.status == Status.PUBLISHED
    assert client.get(resource.get_absolute_url()).status_code == 200
    assert steps(resource) == [
        (
            "published",
            "published",
            "editor",
            "Changed since review (still public): Exercise type, title",
        )
    ]
    assert CHANGED in INDEX_LISTS
    index = reviewer.get("/admin/").content.decode()
    assert 'id="review-list-changed"' in index
    assert "Chair yoga" in index.split('id="review-list-changed"')[1].split("</div>")[0]
    changelist = reviewer.get(CHANGELIST, {"review": CHANGED})
    assert [r.pk for r in changelist.context["cl"].result_list] == [resource.pk]
    assert "Changed since review" in changelist.content.decode()

    # A reviewer confirms: off the list, still public, the step logged.
    assert step_url(resource, "confirm") in reviewer.get(change_url(resource)).content.decode()
    assert reviewer.post(step_url(resource, "confirm"), {"comment": ""}).status_code == 302
    resource.refresh_from_db()
    assert resource.changed_since_review is None
    assert resource.status == Status.PUBLISHED
    assert steps(resource)[-1][:3] == ("published", "published", "Anna Jansen")
    assert not reviewer.get(CHANGELIST, {"review": CHANGED}).context["cl"].result_list


def test_an_editor_cannot_change_the_public_name_of_an_organisation_with_published_resources(
    editor: Client, reviewer: Client, client: Client
):
    organisation = OrganisationFactory(name="Move Charity", website="https://move.example.org")
    resource = ResourceFactory(organisation=organisation)
    url = reverse("admin:resources_organisation_change", args=[organisation.pk])
    data = {
        "name": "Buy Our Supplements Ltd",
        "slug": organisation.slug,
        "website": "https://supplements.example.com",
        "country": "",
    }
    response = editor.post(url, data)
    assert response.status_code == 200
    assert "Ask a clinical reviewer" in response.content.decode()
    organisation.refresh_from_db()
    assert organisation.name == "Move Charity"

    assert reviewer.post(url, data).status_code == 302
    organisation.refresh_from_db()
    assert organisation.website == "https://supplements.example.com"
    resource.refresh_from_db()
    assert resource.changed_since_review is not None
    assert steps(resource) == [
        (
            "published",
            "published",
            "Anna Jansen",  # the reviewer's public name
            "Organisation changed since review (still public): name, website",
        )
    ]
    # An organisation without published resources is the editors' own business.
    quiet = OrganisationFactory(name="Draft Org")
    ResourceFactory(organisation=quiet, draft=True)
    quiet_url = reverse("admin:resources_organisation_change", args=[quiet.pk])
    data = {"name": "Draft Org Renamed", "slug": quiet.slug, "website": "", "country": ""}
    assert editor.post(quiet_url, data).status_code == 302
    assert Organisation.objects.filter(name="Draft Org Renamed").exists()


# --- Defect 3: every contributor since the last approval -------------------------------


def test_a_reviewers_spreadsheet_import_counts_as_their_own_change(
    reviewer: Client, reviewer_user: User
):
    organisation = OrganisationFactory(name="Move Charity", slug="move-charity")
    resource = ResourceFactory(
        draft=True, slug="seated-stretch", organisation=organisation, safety_edited_by=None
    )
    content, name = encode(
        [row(slug="seated-stretch", kind="guide", url="", body="Jump as high as you can.")], CSV
    )
    preview = dry_run(reviewer, content, name, CSV)
    assert confirm(reviewer, preview).status_code == 302
    resource.refresh_from_db()
    assert resource.body == "Jump as high as you can."
    assert resource.safety_edited_by == reviewer_user
    assert list(resource.safety_contributors.all()) == [reviewer_user]

    workflow.submit(resource, reviewer_user)
    with pytest.raises(WorkflowError, match="another clinical reviewer must approve"):
        workflow.approve(resource, reviewer_user)
    resource.refresh_from_db()
    assert resource.status == Status.IN_REVIEW


def test_a_reviewer_who_set_the_rating_cannot_approve_after_a_colleagues_edit(
    reviewer: Client,
    editor: Client,
    reviewer_user: User,
    editor_user: User,
    second_reviewer_user: User,
):
    resource = ResourceFactory(unreviewed=True)
    edit(reviewer, resource, bone_metastasis_safety="suitable")
    edit(editor, resource, body="Ten slow sit-to-stands.")
    assert resource.safety_edited_by == editor_user  # the last one only…
    assert set(resource.safety_contributors.all()) == {reviewer_user, editor_user}  # …and all
    workflow.submit(resource, editor_user)
    with pytest.raises(WorkflowError, match="another clinical reviewer must approve"):
        workflow.approve(resource, reviewer_user)

    # A clinician who changed nothing approves; the next round starts with no contributors.
    workflow.approve(resource, second_reviewer_user)
    resource.refresh_from_db()
    assert resource.status == Status.PUBLISHED
    assert not resource.safety_contributors.exists()
    assert resource.safety_edited_by is None


def test_the_migration_keeps_the_last_safety_editor_as_a_contributor(editor_user: User):
    pending = ResourceFactory(in_review=True, safety_edited_by=editor_user)
    approved = ResourceFactory(safety_edited_by=editor_user)
    module = importlib.import_module("resources.migrations.0012_editing_published_content")
    module.copy_last_safety_editor(apps, None)
    assert list(pending.safety_contributors.all()) == [editor_user]
    # A published resource was approved after that edit: nothing left to approve.
    assert not approved.safety_contributors.exists()


# --- Defect 4: the slug of a resource that was ever public is fixed ---------------------


def test_the_slug_of_a_published_resource_is_read_only_and_a_crafted_post_is_ignored(
    editor: Client, reviewer: Client, client: Client
):
    resource = ResourceFactory(slug="chair-yoga")
    for user_client in (editor, reviewer):
        form = user_client.get(change_url(resource)).context["adminform"].form
        assert "slug" not in form.fields
        data = change_form_data(user_client, change_url(resource), slug="something-else")
        assert user_client.post(change_url(resource), data).status_code == 302
        resource.refresh_from_db()
        assert resource.slug == "chair-yoga"
    assert client.get("/en/resources/chair-yoga/").status_code == 200


def test_an_unpublished_resource_keeps_the_slug_it_once_had_in_public(editor: Client):
    resource = ResourceFactory(slug="walk-tall")
    workflow.unpublish(resource, User.objects.create_superuser("boss", password="x" * 20))
    resource.refresh_from_db()
    data = change_form_data(editor, change_url(resource), slug="walk-taller")
    editor.post(change_url(resource), data)
    resource.refresh_from_db()
    assert resource.slug == "walk-tall"
    # Never public: the slug is still the editor's to choose.
    draft = ResourceFactory(draft=True, slug="first-idea")
    edit(editor, draft, slug="better-idea")
    assert draft.slug == "better-idea"


def test_restoring_an_old_version_does_not_bring_back_an_old_slug(reviewer: Client):
    resource = ResourceFactory(draft=True, slug="first-idea")
    first = resource.history.earliest()
    resource.slug = "chair-yoga"
    resource.save()
    publish(resource)
    data = change_form_data(reviewer, restore_url(resource, first.history_id))
    data["slug"] = "first-idea"  # crafted: the restore form has no slug input
    assert reviewer.post(restore_url(resource, first.history_id), data).status_code == 302
    resource.refresh_from_db()
    assert resource.slug == "chair-yoga"


def test_an_import_cannot_take_over_an_old_address(editor: Client):
    moved = ResourceFactory(slug="chair-yoga-2")
    SlugRedirect.objects.create(old_slug="chair-yoga", resource=moved)
    OrganisationFactory(name="Move Charity")
    content, name = encode([row(slug="chair-yoga")], CSV)
    preview = dry_run(editor, content, name, CSV)
    assert "printed links still lead there" in preview.content.decode()
    assert not Resource.objects.filter(slug="chair-yoga").exists()
    # Nor a published one's own slug (its row is refused as a whole).
    content, name = encode([row(slug="chair-yoga-2", title="Hijacked")], CSV)
    assert "is published" in dry_run(editor, content, name, CSV).content.decode()


def test_a_site_admins_slug_change_leaves_a_permanent_redirect(site_admin: Client, client: Client):
    resource = ResourceFactory(slug="chair-yoga")
    form = site_admin.get(change_url(resource)).context["adminform"].form
    assert "slug" in form.fields
    edit(site_admin, resource, slug="seated-yoga")
    assert resource.slug == "seated-yoga"
    assert resource.status == Status.PUBLISHED
    old = client.get("/en/resources/chair-yoga/?ref=clinic")
    assert old.status_code == 301
    assert old["Location"] == "/en/resources/seated-yoga/?ref=clinic"
    assert client.get("/en/resources/seated-yoga/").status_code == 200
    assert Transition.objects.get(resource=resource).comment == (
        "Changed since review (still public): slug"
    )
    # Renamed again: the first address follows; back to an old one: no loop.
    edit(site_admin, resource, slug="yoga-on-a-chair")
    assert client.get("/en/resources/chair-yoga/")["Location"] == "/en/resources/yoga-on-a-chair/"
    edit(site_admin, resource, slug="chair-yoga")
    assert client.get("/en/resources/chair-yoga/").status_code == 200
    assert client.get("/en/resources/yoga-on-a-chair/")["Location"] == "/en/resources/chair-yoga/"
    # An old address of a resource that is no longer public is simply gone.
    workflow.unpublish(resource, User.objects.get(username="siteadmin"))
    assert client.get("/en/resources/seated-yoga/").status_code == 404
    assert client.get("/en/resources/no-such-thing/").status_code == 404
