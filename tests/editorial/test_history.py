"""Every change to a resource is a version (django-simple-history, #4): who made it, a
readable diff, and restoring an old version under the same role rules as editing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from resources.models import BoneSafety, Resource, Status, Transition

from ..factories import ResourceFactory, tags_for
from .test_workflow import change_form_data, change_url, tag_pks

pytestmark = pytest.mark.django_db


def history_url(resource: Resource) -> str:
    return reverse("admin:resources_resource_history", args=[resource.pk])


def restore_url(resource: Resource, version: int) -> str:
    return reverse("admin:resources_resource_simple_history", args=[resource.pk, version])


def _edit(client: Client, resource: Resource, **changes: object) -> None:
    response = client.post(
        change_url(resource), change_form_data(client, change_url(resource), **changes)
    )
    assert response.status_code == 302, response.context["adminform"].form.errors


def test_each_admin_change_is_a_version_naming_who_made_it(editor: Client, editor_user: User):
    resource = ResourceFactory(draft=True, title="Walking, part one")
    _edit(editor, resource, title="Walking, part 1")

    latest = resource.history.first()
    assert latest.title == "Walking, part 1"
    assert latest.history_user == editor_user
    assert resource.history.count() >= 2


def test_the_history_page_shows_a_readable_diff_of_fields_and_tags(editor: Client):
    resource = ResourceFactory(draft=True, title="Old title", tags={"level": ["gentle"]})
    _edit(
        editor,
        resource,
        title="New title",
        tags_level=tag_pks("level", "moderate"),
    )
    response = editor.get(history_url(resource))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Title:</strong> Old title → New title" in page
    assert "<td>Draft</td>" in page  # the status of each version, in words
    # Tags: what was removed and what was added, by name, not two long lists of ids.
    gentle = "Fitness level: Gentle: seated and supported standing"
    assert f"Tags (removed → added):</strong> {gentle} → -" in page
    assert "Tags (removed → added):</strong> - → Fitness level: Moderate" in page
    assert 'style="' not in page  # the CSP refuses inline styles


def test_an_editor_restores_an_old_title_but_not_an_old_safety_rating(
    editor: Client, reviewer_user: User
):
    resource = ResourceFactory(
        draft=True, title="First title", bone_metastasis_safety=BoneSafety.NOT_RECOMMENDED
    )
    first = resource.history.earliest()
    resource.title = "Second title"
    resource.bone_metastasis_safety = BoneSafety.SUITABLE
    resource._history_user = reviewer_user
    resource.save()

    page = editor.get(restore_url(resource, first.history_id))
    assert page.status_code == 200
    assert 'name="bone_metastasis_safety"' not in page.content.decode()
    data = change_form_data(editor, restore_url(resource, first.history_id))
    # Even with the old rating forced into the POST, it does not come back.
    data["bone_metastasis_safety"] = BoneSafety.NOT_RECOMMENDED
    assert editor.post(restore_url(resource, first.history_id), data).status_code == 302

    resource.refresh_from_db()
    assert resource.title == "First title"
    assert resource.bone_metastasis_safety == BoneSafety.SUITABLE


def test_restoring_a_published_resources_old_rating_sends_it_back_to_review(
    reviewer: Client, reviewer_user: User, client: Client
):
    resource = ResourceFactory(bone_metastasis_safety=BoneSafety.CLEARANCE_NEEDED)
    first = resource.history.earliest()
    resource.bone_metastasis_safety = BoneSafety.SUITABLE
    resource.save()

    data = change_form_data(reviewer, restore_url(resource, first.history_id))
    assert reviewer.post(restore_url(resource, first.history_id), data).status_code == 302

    resource.refresh_from_db()
    assert resource.bone_metastasis_safety == BoneSafety.CLEARANCE_NEEDED
    assert resource.status == Status.IN_REVIEW
    assert resource.safety_edited_by == reviewer_user
    transition = Transition.objects.get(resource=resource)
    assert transition.comment == "Safety-relevant fields changed: bone-metastasis safety"
    assert client.get(resource.get_absolute_url()).status_code == 404


def test_restoring_brings_back_the_old_versions_tags(reviewer: Client):
    resource = ResourceFactory(draft=True, tags={"type": ["balance"]})
    first = resource.history.first()  # the latest version: the tags are set after creation
    resource.tags.set(tags_for({"type": ["strength"]}))
    # The restore form starts from the old version's tags, not today's.
    data = change_form_data(reviewer, restore_url(resource, first.history_id))
    assert data["tags_type"] == tag_pks("type", "balance")
    reviewer.post(restore_url(resource, first.history_id), data)
    assert [t.slug for t in resource.tags.all()] == ["balance"]


def test_workflow_steps_are_versions_named_after_the_step(reviewer: Client):
    resource = ResourceFactory(in_review=True)
    reviewer.post(reverse("admin:resources_resource_workflow", args=[resource.pk, "approve"]), {})
    latest = resource.history.first()
    assert latest.status == Status.PUBLISHED
    assert latest.history_change_reason == "Approved and published"
    assert latest.history_user.username == "reviewer"


def test_an_unknown_version_is_a_404(editor: Client):
    resource = ResourceFactory()
    assert editor.get(restore_url(resource, 999999)).status_code == 404


def test_starter_content_gets_one_first_version_each_with_its_tags():
    from django.core.management import call_command

    call_command("load_starter_content", verbosity=0)
    resource = Resource.objects.filter(tags__isnull=False).first()
    [version] = resource.history.all()
    assert version.history_change_reason == "Starter content"
    assert {row.tag for row in version.tags.all()} == set(resource.tags.all())
    assert not Resource.history.exclude(history_change_reason="Starter content").exists()
