"""Part 1 of #13: programme listings, their visibility rule, checking and the editors' admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from resources.editorial.workflow import WorkflowError
from resources.models import (
    BoneAcceptance,
    ProblemReport,
    Programme,
    Status,
    languages_condition,
)
from resources.programmes import workflow

from .factories import ProgrammeFactory

pytestmark = pytest.mark.django_db


def test_published_is_the_only_visibility_rule():
    shown = ProgrammeFactory()
    ProgrammeFactory(draft=True)
    ProgrammeFactory(in_review=True)
    ProgrammeFactory(status=Status.ARCHIVED)
    ProgrammeFactory(published_at=timezone.now() + timedelta(days=3))
    assert list(Programme.objects.published()) == [shown]


def test_a_listing_nobody_checked_cannot_be_published():
    programme = ProgrammeFactory(draft=True, assured_date=None)
    programme.status = Status.PUBLISHED
    with pytest.raises(ValidationError) as error:
        programme.full_clean()
    assert "assured_date" in error.value.message_dict
    with transaction.atomic(), pytest.raises(IntegrityError):
        programme.save()


def test_a_listing_needs_a_way_to_reach_it():
    programme = ProgrammeFactory.build(url="", email="", phone="")
    programme.organisation.save()
    programme.organisation_id = programme.organisation.pk
    with pytest.raises(ValidationError) as error:
        programme.full_clean()
    assert "url" in error.value.message_dict


def test_languages_are_normalised_and_matched_exactly():
    programme = ProgrammeFactory(languages="NL, en ,nl")
    assert programme.languages == "nl,en"
    ProgrammeFactory(languages="ent")  # a made-up code that contains "en"
    assert list(Programme.objects.filter(languages_condition("en"))) == [programme]
    assert list(Programme.objects.filter(languages_condition("nl"))) == [programme]


def test_a_listing_not_checked_for_12_months_says_so():
    recent = ProgrammeFactory()
    old = ProgrammeFactory(assured_date=timezone.localdate() - timedelta(days=400))
    assert not recent.not_checked_recently
    assert old.not_checked_recently
    assert list(Programme.objects.not_checked_since()) == [old]


def test_editors_submit_reviewers_approve(editor_user, reviewer_user):
    programme = ProgrammeFactory(draft=True)
    with pytest.raises(WorkflowError):
        workflow.approve(programme, editor_user)
    workflow.submit(programme, editor_user)
    with pytest.raises(WorkflowError):
        workflow.approve(programme, editor_user)
    workflow.approve(programme, reviewer_user)
    programme.refresh_from_db()
    assert programme.status == Status.PUBLISHED
    latest = programme.history.first()
    assert latest.history_change_reason == "Approved and published"
    assert latest.history_user == reviewer_user


def test_approving_an_unchecked_listing_is_refused_in_words(reviewer_user):
    programme = ProgrammeFactory(in_review=True, assured_date=None)
    with pytest.raises(WorkflowError) as error:
        workflow.approve(programme, reviewer_user)
    assert "checked" in error.value.message
    programme.refresh_from_db()
    assert programme.status == Status.IN_REVIEW


def test_mark_checked_records_who_and_when(editor_user):
    programme = ProgrammeFactory(assured_date=timezone.localdate() - timedelta(days=400))
    workflow.mark_checked(programme, editor_user)
    programme.refresh_from_db()
    assert programme.assured_date == timezone.localdate()
    assert programme.assurer == "editor"
    assert not programme.not_checked_recently


def test_editor_changing_eligibility_sends_a_published_listing_back_to_review(editor):
    programme = ProgrammeFactory()
    url = reverse("admin:resources_programme_change", args=[programme.pk])
    page = editor.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {
        key: value
        for key, value in form.initial.items()
        if key in form.fields and value is not None and key != "stages"
    }
    data.update(
        {
            "organisation": programme.organisation_id,
            "bone_metastases": BoneAcceptance.NOT_ACCEPTED,
            "locations-TOTAL_FORMS": "0",
            "locations-INITIAL_FORMS": "0",
        }
    )
    response = editor.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    programme.refresh_from_db()
    assert programme.bone_metastases == BoneAcceptance.NOT_ACCEPTED
    assert programme.status == Status.IN_REVIEW
    assert not Programme.objects.published().exists()


def test_admin_index_lists_stale_listings_and_open_reports(editor):
    stale = ProgrammeFactory(
        name="Old walking group", assured_date=timezone.localdate() - timedelta(days=400)
    )
    ProgrammeFactory(name="Fresh group")
    ProblemReport.objects.create(programme=stale, message="The phone number is wrong.")
    page = editor.get(reverse("admin:index")).content.decode()
    assert "Listings not checked for 12 months" in page
    assert "Old walking group" in page
    assert "Fresh group" not in page
    assert "The phone number is wrong." in page


def test_people_without_resource_rights_see_no_programme_admin(db, client):
    from django.contrib.auth.models import User

    staff = User.objects.create_user("plain", "p@example.org", "a long plain pw", is_staff=True)
    client.force_login(staff)
    assert client.get(reverse("admin:resources_programme_changelist")).status_code == 403
