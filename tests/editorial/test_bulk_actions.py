"""Bulk work in the admin (#4): the workflow steps on many resources at once, with the same
role checks and each refusal named, and adding fitness levels / exercise types."""

from __future__ import annotations

import pytest
from django.contrib import messages
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from resources.models import Resource, Status, Transition

from ..factories import ResourceFactory
from .test_workflow import tag_pks

pytestmark = pytest.mark.django_db


def run_action(client: Client, action: str, *resources: Resource, **extra: object):
    data = {"action": action, "_selected_action": [r.pk for r in resources], **extra}
    return client.post(reverse("admin:resources_resource_changelist"), data, follow=True)


def shown(response, level: int) -> list[str]:
    return [str(m) for m in response.context["messages"] if m.level == level]


def statuses(*resources: Resource) -> list[str]:
    return [Resource.objects.get(pk=r.pk).status for r in resources]


def test_editor_submits_drafts_and_is_told_which_were_not(editor: Client):
    drafts = ResourceFactory.create_batch(2, draft=True)
    published = ResourceFactory(title="Already live")

    response = run_action(editor, "submit_selected", *drafts, published)

    assert shown(response, messages.SUCCESS) == ["Submitted 2 resources for review."]
    [error] = shown(response, messages.ERROR)
    assert "Already live" in error and "Only a draft can be submitted" in error
    assert statuses(*drafts, published) == ["in-review", "in-review", "published"]
    assert Transition.objects.filter(to_status=Status.IN_REVIEW, actor_name="editor").count() == 2


def test_bulk_approval_refuses_the_reviewers_own_safety_edits_and_names_them(
    reviewer: Client, reviewer_user: User, editor_user: User
):
    own = ResourceFactory(in_review=True, title="Rated by me", safety_edited_by=reviewer_user)
    others = ResourceFactory(
        in_review=True, title="Rated by a colleague", safety_edited_by=editor_user
    )

    response = run_action(reviewer, "approve_selected", own, others)

    assert shown(response, messages.SUCCESS) == ["Approved and published 1 resource."]
    [error] = shown(response, messages.ERROR)
    assert "Rated by me" in error and "another clinical reviewer must approve it" in error
    assert statuses(own, others) == ["in-review", "published"]
    assert Resource.objects.get(pk=others.pk).reviewed_by == "Anna Jansen"


def test_reviewer_unpublishes_and_archives_in_bulk(reviewer: Client, client: Client):
    live = ResourceFactory.create_batch(2)
    run_action(reviewer, "unpublish_selected", *live)
    assert statuses(*live) == ["draft", "draft"]
    assert all(client.get(r.get_absolute_url()).status_code == 404 for r in live)

    run_action(reviewer, "archive_selected", *live)
    assert statuses(*live) == ["archived", "archived"]
    assert Transition.objects.filter(to_status=Status.ARCHIVED).count() == 2


def test_editor_cannot_archive_with_a_crafted_post(editor: Client):
    resource = ResourceFactory()
    run_action(editor, "archive_selected", resource)
    assert statuses(resource) == ["published"]
    assert not Transition.objects.exists()


# --- Adding fitness levels / exercise types ----------------------------------------------


def test_add_tags_asks_first_on_a_page_with_labelled_checkboxes(editor: Client):
    resources = ResourceFactory.create_batch(2, draft=True)
    response = run_action(editor, "add_tags_selected", *resources)
    page = response.content.decode()
    assert response.templates[0].name == "admin/resources/resource/add_tags.html"
    assert page.count("<h1") == 1
    assert "<legend>Fitness level</legend>" in page
    assert "<legend>Exercise type</legend>" in page
    assert all(not r.tags.exists() for r in resources)


def test_add_tags_without_a_choice_is_a_form_error(editor: Client):
    resource = ResourceFactory(draft=True)
    response = run_action(editor, "add_tags_selected", resource, apply="Add these tags")
    assert "Choose at least one fitness level or exercise type." in response.content.decode()
    assert not resource.tags.exists()


def test_added_fitness_level_sends_published_resources_back_to_review(
    editor: Client, client: Client
):
    draft = ResourceFactory(draft=True, tags={"type": ["balance"]})
    live = ResourceFactory(title="Live one")

    response = run_action(
        editor,
        "add_tags_selected",
        draft,
        live,
        apply="Add these tags",
        levels=tag_pks("level", "gentle"),
        types=tag_pks("type", "strength"),
    )

    for resource in (draft, live):
        assert {t.slug for t in resource.tags.all()} >= {"gentle", "strength"}
    assert {t.slug for t in draft.tags.all()} == {"balance", "gentle", "strength"}
    assert statuses(draft, live) == ["draft", "in-review"]
    [warning] = shown(response, messages.WARNING)
    assert "Live one" in warning
    assert Transition.objects.get(resource=live).comment == (
        "Safety-relevant fields changed: Fitness level"
    )
    assert client.get(live.get_absolute_url()).status_code == 404


def test_added_exercise_type_keeps_a_published_resource_public(editor: Client, client: Client):
    live = ResourceFactory()
    run_action(
        editor, "add_tags_selected", live, apply="Add these tags", types=tag_pks("type", "balance")
    )
    assert [t.slug for t in live.tags.all()] == ["balance"]
    assert statuses(live) == ["published"]
    assert client.get(live.get_absolute_url()).status_code == 200
