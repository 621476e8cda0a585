"""The editorial workflow (#4): draft → in review → published → archived, each step logged,
approval by a second clinician, and safety-relevant edits taking a resource off the site."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.admin.widgets import AdminSplitDateTime
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from resources.editorial import workflow
from resources.editorial.workflow import WorkflowError
from resources.models import Resource, Status, Tag, Transition

from ..factories import ResourceFactory

pytestmark = pytest.mark.django_db


def change_url(resource: Resource) -> str:
    return reverse("admin:resources_resource_change", args=[resource.pk])


def step_url(resource: Resource, step: str) -> str:
    return reverse("admin:resources_resource_workflow", args=[resource.pk, step])


def change_form_data(client: Client, url: str, **overrides: Any) -> dict[str, Any]:
    """What a browser would send back unchanged from this change (or restore) form, plus
    the overrides: the form the user actually sees, so read-only fields are left out."""
    form = client.get(url).context["adminform"].form
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(field.widget, AdminSplitDateTime):
            data[f"{name}_0"] = value.date().isoformat() if value else ""
            data[f"{name}_1"] = value.time().isoformat() if value else ""
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, list | tuple):
            data[name] = list(value)
        elif name != "image":
            data[name] = "" if value is None else value
    data["_save"] = "Save"
    data.update(overrides)
    return data


def tag_pks(vocabulary: str, *slugs: str) -> list[int]:
    return list(
        Tag.objects.filter(vocabulary=vocabulary, slug__in=slugs).values_list("pk", flat=True)
    )


def steps(resource: Resource) -> list[tuple[str, str, str, str]]:
    """The resource's log, oldest first: (from, to, by, comment)."""
    return [
        (t.from_status, t.to_status, t.actor_name, t.comment)
        for t in Transition.objects.filter(resource=resource).order_by("created_at", "pk")
    ]


# --- The whole journey through the admin ------------------------------------------------


def test_editor_submits_a_second_clinician_approves_and_the_public_sees_it(
    editor: Client,
    reviewer: Client,
    second_reviewer: Client,
    client: Client,
    reviewer_user: User,
):
    draft = ResourceFactory(unreviewed=True, title="Standing balance, supported")

    assert editor.post(step_url(draft, "submit"), {"comment": "Ready"}).status_code == 302
    draft.refresh_from_db()
    assert draft.status == Status.IN_REVIEW

    # The first reviewer rates it in the change form ...
    data = change_form_data(
        reviewer,
        change_url(draft),
        bone_metastasis_safety="with-modifications",
        tags_flag=tag_pks("flag", "loaded-spine"),
    )
    assert reviewer.post(change_url(draft), data).status_code == 302
    draft.refresh_from_db()
    assert draft.bone_metastasis_safety == "with-modifications"
    assert draft.safety_edited_by == reviewer_user

    # ... so cannot approve that rating alone.
    refused = reviewer.post(step_url(draft, "approve"), {"comment": ""})
    assert refused.status_code == 200
    assert "another clinical reviewer must approve it" in refused.content.decode()
    draft.refresh_from_db()
    assert draft.status == Status.IN_REVIEW

    due = timezone.localdate() + timedelta(days=400)
    response = second_reviewer.post(
        step_url(draft, "approve"), {"comment": "Checked", "next_review_due": due.isoformat()}
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Status.PUBLISHED
    assert draft.reviewed_by == "Ben Okafor"
    assert draft.reviewed_on == timezone.localdate()
    assert draft.next_review_due == due
    assert steps(draft) == [
        ("draft", "in-review", "editor", "Ready"),
        ("in-review", "published", "Ben Okafor", "Checked"),
    ]
    assert client.get(draft.get_absolute_url()).status_code == 200

    # The log is on the change form: who, from → to, comment.
    page = editor.get(change_url(draft)).content.decode()
    assert "Workflow steps" in page
    assert "Ben Okafor" in page
    assert "Checked" in page


def test_approval_defaults_the_next_review_to_the_review_cycle(settings, reviewer: Client):
    settings.HUB_REVIEW_CYCLE_DAYS = 100
    resource = ResourceFactory(in_review=True)

    form = reviewer.get(step_url(resource, "approve")).context["form"]
    assert form["next_review_due"].initial == timezone.localdate() + timedelta(days=100)
    assert reviewer.post(step_url(resource, "approve"), {"comment": ""}).status_code == 302

    resource.refresh_from_db()
    assert resource.next_review_due == timezone.localdate() + timedelta(days=100)


def test_reviewed_by_falls_back_to_the_username(editor_user: User):
    reviewer = User.objects.create_user("physio7", is_staff=True, is_superuser=True)
    resource = ResourceFactory(in_review=True, safety_edited_by=editor_user)
    workflow.approve(resource, reviewer)
    resource.refresh_from_db()
    assert resource.reviewed_by == "physio7"


def test_an_approval_date_in_the_past_is_a_form_error_not_a_500(reviewer: Client):
    resource = ResourceFactory(in_review=True)
    response = reviewer.post(
        step_url(resource, "approve"), {"comment": "", "next_review_due": "2001-01-01"}
    )
    assert response.status_code == 200
    assert "The next review must be after today." in response.content.decode()
    resource.refresh_from_db()
    assert resource.status == Status.IN_REVIEW


def test_send_back_needs_a_comment_and_returns_the_resource_to_draft(reviewer: Client):
    resource = ResourceFactory(in_review=True)

    empty = reviewer.post(step_url(resource, "send-back"), {"comment": "  "})
    assert empty.status_code == 200
    assert "Say what the editor should change." in empty.content.decode()
    resource.refresh_from_db()
    assert resource.status == Status.IN_REVIEW

    reviewer.post(step_url(resource, "send-back"), {"comment": "Add a warm-up."})
    resource.refresh_from_db()
    assert resource.status == Status.DRAFT
    assert steps(resource) == [("in-review", "draft", "Anna Jansen", "Add a warm-up.")]


def test_editor_cannot_approve_through_the_button_url(editor: Client, client: Client):
    resource = ResourceFactory(in_review=True)
    response = editor.post(step_url(resource, "approve"), {"comment": "Looks fine"})
    assert response.status_code == 403
    assert "Only a clinical reviewer can approve and publish." in response.content.decode()
    resource.refresh_from_db()
    assert resource.status == Status.IN_REVIEW
    assert not Transition.objects.exists()
    assert client.get(resource.get_absolute_url()).status_code == 404


def test_change_form_offers_only_the_steps_the_user_may_take(editor: Client, reviewer: Client):
    resource = ResourceFactory(in_review=True)
    editor_page = editor.get(change_url(resource)).content.decode()
    reviewer_page = reviewer.get(change_url(resource)).content.decode()
    assert step_url(resource, "approve") not in editor_page
    assert step_url(resource, "send-back") not in editor_page
    assert step_url(resource, "approve") in reviewer_page
    assert step_url(resource, "send-back") in reviewer_page


def test_an_unknown_step_is_a_404(reviewer: Client):
    resource = ResourceFactory()
    assert reviewer.get(step_url(resource, "teleport")).status_code == 404


# --- Safety-relevant edits of a published resource ---------------------------------------


def test_editing_the_body_of_a_published_resource_sends_it_back_to_review(
    editor: Client, client: Client, editor_user: User
):
    resource = ResourceFactory()
    data = change_form_data(editor, change_url(resource), body="Now with jumping jacks.")
    response = editor.post(change_url(resource), data, follow=True)

    page = response.content.decode()
    assert "back in review until a clinical reviewer approves it" in page
    resource.refresh_from_db()
    assert resource.status == Status.IN_REVIEW
    assert resource.safety_edited_by == editor_user
    assert steps(resource) == [
        ("published", "in-review", "editor", "Safety-relevant fields changed: body")
    ]
    assert client.get(resource.get_absolute_url()).status_code == 404


def test_changing_a_fitness_level_of_a_published_resource_sends_it_back_to_review(
    editor: Client,
):
    resource = ResourceFactory(tags={"level": ["gentle"]})
    data = change_form_data(
        editor, change_url(resource), tags_level=tag_pks("level", "gentle", "moderate")
    )
    editor.post(change_url(resource), data)
    resource.refresh_from_db()
    assert resource.status == Status.IN_REVIEW
    assert steps(resource)[0][3] == "Safety-relevant fields changed: Fitness level"


def test_a_typo_fix_in_the_title_keeps_the_resource_published(editor: Client, client: Client):
    resource = ResourceFactory(title="Chiar yoga")
    data = change_form_data(editor, change_url(resource), title="Chair yoga")
    # Browsers send text areas with CRLF line ends: that is not a change of the body.
    data["body"] = data["body"].replace("\n", "\r\n")
    assert editor.post(change_url(resource), data).status_code == 302
    resource.refresh_from_db()
    assert resource.title == "Chair yoga"
    assert resource.status == Status.PUBLISHED
    # Not a safety change, but a recorded one: the reviewers see it (#16, workflow.EDIT_RULES).
    assert steps(resource) == [
        ("published", "published", "editor", "Changed since review (still public): title")
    ]
    assert resource.changed_since_review is not None
    assert client.get(resource.get_absolute_url()).status_code == 200


# --- The service functions refuse with one exception and a plain message -----------------


def test_each_step_checks_the_users_permission(editor_user: User, reviewer_user: User):
    published = ResourceFactory()
    for step in (workflow.unpublish, workflow.archive):
        with pytest.raises(WorkflowError, match="Only a clinical reviewer"):
            step(published, editor_user)
    with pytest.raises(WorkflowError, match="Only a clinical reviewer can send"):
        workflow.send_back(ResourceFactory(in_review=True), editor_user, "Fix it")
    published.refresh_from_db()
    assert published.status == Status.PUBLISHED


def test_a_step_from_the_wrong_status_is_refused(reviewer_user: User):
    with pytest.raises(WorkflowError, match="Submit it for review first"):
        workflow.approve(ResourceFactory(draft=True), reviewer_user)
    with pytest.raises(WorkflowError, match="not published"):
        workflow.unpublish(ResourceFactory(draft=True), reviewer_user)


def test_archive_and_restore_to_draft(reviewer_user: User, editor_user: User):
    resource = ResourceFactory()
    workflow.archive(resource, reviewer_user, "Replaced by a newer video")
    resource.refresh_from_db()
    assert resource.status == Status.ARCHIVED
    assert not Resource.objects.published().filter(pk=resource.pk).exists()

    workflow.restore_to_draft(resource, editor_user)
    resource.refresh_from_db()
    assert resource.status == Status.DRAFT
    assert [s[:2] for s in steps(resource)] == [
        ("published", "archived"),
        ("archived", "draft"),
    ]


def test_a_site_admin_may_approve_their_own_safety_edit(site_admin_user: User):
    resource = ResourceFactory(in_review=True, safety_edited_by=site_admin_user)
    workflow.approve(resource, site_admin_user)
    resource.refresh_from_db()
    assert resource.status == Status.PUBLISHED


def test_the_step_page_has_one_heading_and_a_labelled_comment(reviewer: Client):
    resource = ResourceFactory(in_review=True, title="Seated march")
    page = reviewer.get(step_url(resource, "approve")).content.decode()
    assert page.count("<h1") == 1
    assert "Approve and publish: Seated march" in page
    assert '<label for="id_comment">' in page
    assert '<label for="id_next_review_due">' in page


def test_editors_see_the_latest_steps_of_all_resources_read_only(
    editor: Client, reviewer_user: User
):
    resource = ResourceFactory(in_review=True, title="Tai chi for beginners")
    workflow.send_back(resource, reviewer_user, "Name the instructor.")
    changelist = reverse("admin:resources_transition_changelist")
    page = editor.get(changelist).content.decode()
    assert "Tai chi for beginners" in page
    assert "Name the instructor." in page
    transition = Transition.objects.get()
    change = reverse("admin:resources_transition_change", args=[transition.pk])
    assert 'name="comment"' not in editor.get(change).content.decode()
    assert editor.get(reverse("admin:resources_transition_add")).status_code == 403
