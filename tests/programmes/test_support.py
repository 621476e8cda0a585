"""Part 3 of #13: "which support suits me" and the printable questions sheet."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from resources.models import BoneAcceptance, Delivery
from tests.factories import ResourceFactory

from .factories import ProgrammeFactory

pytestmark = pytest.mark.django_db

SUPPORT = "/en/find/support/"
SHEET = "/en/find/support/questions/"
ALL_NO = {
    "unstable": "no",
    "daily": "no",
    "falls": "no",
    "symptoms": "no",
    "metastases": "no",
    "treatment": "no",
    "new_to_exercise": "no",
}


def test_the_questions_open_without_answers(client):
    response = client.get(SUPPORT)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("<h1") == 1
    assert "Covington" in page
    assert not response.cookies


@pytest.mark.parametrize(
    ("changed", "level"),
    [
        ({}, "self-guided"),
        ({"metastases": "yes"}, "community"),
        ({"new_to_exercise": "yes"}, "community"),
        ({"metastases": "yes", "unstable": "yes"}, "clinical"),
        ({"falls": "yes"}, "clinical"),
    ],
)
def test_answers_route_to_a_level(client, changed, level):
    response = client.get(SUPPORT, {**ALL_NO, **changed})
    assert response.status_code == 200
    assert response.context["level"].key == level


def test_missing_or_unknown_answers_are_a_visible_error(client):
    response = client.get(SUPPORT, {**ALL_NO, "falls": "maybe", "daily": ""})
    assert response.status_code == 400
    assert "Please answer the questions marked below." in response.content.decode()


def test_the_suggestion_matches_programmes_that_accept_bone_metastases(client):
    ProgrammeFactory(name="Accepting group", bone_metastases=BoneAcceptance.ACCEPTED)
    ProgrammeFactory(name="Refusing group", bone_metastases=BoneAcceptance.NOT_ACCEPTED)
    ProgrammeFactory(name="Online only", delivery=Delivery.ONLINE)
    ProgrammeFactory(name="Hidden draft", draft=True)
    ResourceFactory(title="Seated strength")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(SUPPORT, {**ALL_NO, "metastases": "yes", "unstable": "yes"})
    assert len(queries) <= 8
    names = [p.name for p in response.context["programmes"]]
    assert names == ["Accepting group"]  # clinic level: not online-only, never the draft
    response = client.get(SUPPORT, {**ALL_NO, "metastases": "yes"})
    assert [p.name for p in response.context["programmes"]] == ["Accepting group", "Online only"]
    assert "Seated strength" in response.content.decode()


def test_the_sheet_carries_the_suggestion_and_stores_nothing(client):
    answers = {**ALL_NO, "metastases": "yes"}
    result = client.get(SUPPORT, answers)
    sheet_url = result.context["sheet_url"]
    assert sheet_url.startswith(SHEET)
    sheet = client.get(sheet_url)
    assert sheet.status_code == 200
    text = sheet.content.decode()
    assert "Questions for my care team" in text
    assert "A supervised programme in the community" in text
    assert "bone metastases at risk of breaking" in text
    assert "<script>" not in text and "style=" not in text
    assert not sheet.cookies


def test_the_sheet_without_answers_asks_every_question(client):
    text = client.get(SHEET).content.decode()
    assert "bone metastases at risk of breaking" in text
