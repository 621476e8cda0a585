"""The three roles of #4 (Editor, Clinical reviewer, Site admin): exact permissions from a
data migration, and each role's limits enforced by the server, not only hidden."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from resources.editorial import roles
from resources.models import BoneSafety, Resource, Status, Transition

from ..factories import ResourceFactory
from .test_workflow import change_form_data, change_url, tag_pks

pytestmark = pytest.mark.django_db

migration = importlib.import_module("resources.migrations.0010_roles")


def _permissions(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


def test_the_migration_creates_each_role_with_exactly_its_permissions():
    assert _permissions(roles.EDITOR) == set(roles.EDITOR_PERMISSIONS)
    assert _permissions(roles.CLINICAL_REVIEWER) == set(roles.CLINICAL_REVIEWER_PERMISSIONS)
    site_admin = _permissions(roles.SITE_ADMIN)
    assert {"auth.add_user", "auth.change_group", "resources.publish_resource"} <= site_admin
    assert {p.split(".")[0] for p in site_admin} == set(roles.SITE_ADMIN_APPS)


def test_editors_cannot_rate_publish_or_manage_users():
    editor = _permissions(roles.EDITOR)
    assert "resources.review_resource" not in editor
    assert "resources.publish_resource" not in editor
    assert "resources.delete_resource" not in editor
    assert not any(p.startswith("auth.") for p in editor | _permissions(roles.CLINICAL_REVIEWER))


def test_the_migrations_frozen_lists_match_roles_py():
    assert migration.EDITOR_PERMISSIONS == roles.EDITOR_PERMISSIONS
    assert migration.CLINICAL_REVIEWER_PERMISSIONS == roles.CLINICAL_REVIEWER_PERMISSIONS
    assert migration.SITE_ADMIN_APPS == roles.SITE_ADMIN_APPS


def test_the_migration_reverses_and_runs_again():
    migration.delete_roles(django_apps, None)
    assert not Group.objects.filter(name__in=[roles.EDITOR, roles.SITE_ADMIN]).exists()
    migration.create_roles(django_apps, None)
    assert _permissions(roles.EDITOR) == set(roles.EDITOR_PERMISSIONS)


# --- Editors ---------------------------------------------------------------------------


def test_editor_sees_the_safety_fields_and_status_read_only(editor: Client):
    resource = ResourceFactory(in_review=True, tags={"flag": ["loaded-spine"]})
    response = editor.get(change_url(resource))
    form = response.context["adminform"].form
    for name in ["bone_metastasis_safety", "reviewed_by", "next_review_due", "status", "tags_flag"]:
        assert name not in form.fields
    page = response.content.decode()
    assert 'name="bone_metastasis_safety"' not in page
    assert 'name="status"' not in page
    assert "Generally suitable" in page  # shown, as text
    assert "Loaded bending or twisting of the spine" in page


def test_a_crafted_post_cannot_change_what_an_editor_may_not(editor: Client, client: Client):
    resource = ResourceFactory(unreviewed=True, title="Gentle walking")
    data = change_form_data(
        editor,
        change_url(resource),
        title="Gentle walking outdoors",
        bone_metastasis_safety="suitable",
        rating_is_provisional="on",
        reviewed_by="Dr Nobody",
        reviewed_on="2026-01-01",
        status="published",
        published_at_0="2026-01-01",
        published_at_1="10:00",
        tags_flag=tag_pks("flag", "loaded-spine"),
    )
    assert editor.post(change_url(resource), data).status_code == 302

    resource.refresh_from_db()
    assert resource.title == "Gentle walking outdoors"  # what editors may change, changed
    assert resource.bone_metastasis_safety == BoneSafety.NOT_REVIEWED
    assert resource.rating_is_provisional is False
    assert resource.reviewed_by == ""
    assert resource.reviewed_on is None
    assert resource.status == Status.DRAFT
    assert resource.published_at is None
    assert not resource.flags
    assert client.get(resource.get_absolute_url()).status_code == 404


def test_editor_keeps_the_movement_flags_a_reviewer_set(editor: Client):
    resource = ResourceFactory(draft=True, tags={"flag": ["loaded-spine"], "level": ["gentle"]})
    data = change_form_data(editor, change_url(resource), tags_level=tag_pks("level", "moderate"))
    editor.post(change_url(resource), data)
    assert {(t.vocabulary, t.slug) for t in resource.tags.all()} == {
        ("flag", "loaded-spine"),
        ("level", "moderate"),
    }


def test_editor_is_not_offered_and_cannot_run_reviewer_actions(editor: Client):
    resource = ResourceFactory(in_review=True)
    changelist = reverse("admin:resources_resource_changelist")
    choices = {c for c, _ in editor.get(changelist).context["action_form"].fields["action"].choices}
    assert {"submit_selected", "add_tags_selected"} <= choices
    assert not {"approve_selected", "unpublish_selected", "archive_selected"} & choices

    editor.post(changelist, {"action": "approve_selected", "_selected_action": [resource.pk]})
    resource.refresh_from_db()
    assert resource.status == Status.IN_REVIEW
    assert not Transition.objects.exists()


def test_only_site_admins_manage_users(editor: Client, reviewer: Client, site_admin: Client):
    users = reverse("admin:auth_user_changelist")
    assert editor.get(users).status_code == 403
    assert reviewer.get(users).status_code == 403
    assert site_admin.get(users).status_code == 200
    assert site_admin.get(reverse("admin:auth_group_changelist")).status_code == 200


# --- Reviewers and site admins ----------------------------------------------------------


def test_reviewer_rates_a_resource_and_is_recorded_as_its_safety_editor(
    reviewer: Client, reviewer_user: User
):
    resource = ResourceFactory(unreviewed=True, status=Status.IN_REVIEW)
    data = change_form_data(reviewer, change_url(resource), bone_metastasis_safety="suitable")
    assert "status" not in data  # reviewers change status through the workflow only
    reviewer.post(change_url(resource), data)
    resource.refresh_from_db()
    assert resource.bone_metastasis_safety == BoneSafety.SUITABLE
    assert resource.safety_edited_by == reviewer_user
    assert resource.status == Status.IN_REVIEW


def test_a_site_admin_has_a_free_status_select(site_admin: Client):
    resource = ResourceFactory(in_review=True)
    form = site_admin.get(change_url(resource)).context["adminform"].form
    assert "status" in form.fields
    assert "bone_metastasis_safety" in form.fields


def test_role_helpers_treat_superusers_and_site_admin_members_alike(
    admin_user: User, site_admin_user: User, reviewer_user: User, editor_user: User
):
    assert roles.is_site_admin(admin_user)
    assert roles.is_site_admin(site_admin_user)
    assert not roles.is_site_admin(reviewer_user)
    assert roles.can_publish(reviewer_user) and not roles.can_publish(editor_user)
    assert roles.can_review(site_admin_user)


def test_an_editor_cannot_publish_and_a_reviewer_can(editor: Client, reviewer: Client):
    """The issue's "done" line, through real requests."""
    resource = ResourceFactory(in_review=True)
    editor.post(reverse("admin:resources_resource_workflow", args=[resource.pk, "approve"]), {})
    resource.refresh_from_db()
    assert resource.status == Status.IN_REVIEW
    reviewer.post(reverse("admin:resources_resource_workflow", args=[resource.pk, "approve"]), {})
    resource.refresh_from_db()
    assert resource.status == Status.PUBLISHED
    assert Resource.objects.published().filter(pk=resource.pk).exists()


def test_a_site_admins_status_change_in_the_form_is_logged(site_admin: Client):
    resource = ResourceFactory(in_review=True)
    data = change_form_data(site_admin, change_url(resource), status="draft")
    assert site_admin.post(change_url(resource), data).status_code == 302
    resource.refresh_from_db()
    assert resource.status == Status.DRAFT
    transition = Transition.objects.get(resource=resource)
    assert (transition.from_status, transition.to_status) == ("in-review", "draft")
    assert transition.actor_name == "siteadmin"


def test_every_role_opens_the_add_and_change_forms(
    editor: Client, reviewer: Client, site_admin: Client
):
    resource = ResourceFactory()
    for client in (editor, reviewer, site_admin):
        assert client.get(reverse("admin:resources_resource_add")).status_code == 200
        page = client.get(change_url(resource)).content.decode()
        assert page.count("<h1") == 1
        # The preview link of the change form's tools (its URL is another part of #4).
        assert reverse("resources:preview", args=[resource.pk]) in page
