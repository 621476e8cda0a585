"""Free-text search: the plain path on SQLite, full-text and trigram search on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client

from resources.catalogue.search import search
from resources.models import Resource

from ..factories import ResourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def postgresql(db) -> None:
    """Skip unless the tests run on PostgreSQL (the vendor is known only once settings load)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL full-text search: run with DATABASE_URL=postgres://…")


def found(text: str) -> list[str]:
    return [r.title for r in search(Resource.objects.published(), text)]


def browse(client: Client, text: str) -> str:
    response = client.get("/en/resources/", {"q": text})
    assert response.status_code == 200
    return response.content.decode()


def browse_status(client: Client, text: str) -> int:
    # follow=True: a non-canonical query (e.g. extra spaces in q) first answers 301.
    return client.get("/en/resources/", {"q": text}, follow=True).status_code


# --- Both databases -------------------------------------------------------------------


def test_a_word_from_the_summary_finds_the_resource(client: Client):
    ResourceFactory(title="Seated strength", summary="Use a resistance band tied to a chair.")
    ResourceFactory(title="Walking outdoors", summary="Short walks on even ground.")
    assert found("resistance") == ["Seated strength"]
    assert "Seated strength" in browse(client, "resistance")


def test_search_ignores_case(client: Client):
    ResourceFactory(title="Supported Balance at the Counter")
    assert found("supported balance") == ["Supported Balance at the Counter"]


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_an_empty_search_leaves_the_list_unchanged(text):
    ResourceFactory.create_batch(3)
    queryset = Resource.objects.published()
    result = search(queryset, text)
    assert str(result.query) == str(queryset.query)
    assert list(result) == list(queryset)


def test_search_never_returns_a_draft():
    ResourceFactory(title="Chair yoga for beginners")
    ResourceFactory(title="Chair yoga, unfinished", draft=True)
    ResourceFactory(title="Chair yoga, not yet rated", unreviewed=True)
    assert found("chair yoga") == ["Chair yoga for beginners"]


@pytest.mark.parametrize(
    "text",
    [
        "' OR 1=1 --",
        "%_",
        "a & | ! b",
        '"unbalanced',
        "<script>alert(1)</script>",
        "\\",
        ":*",
        "x" * 300,
        "Übung " * 50,
    ],
)
def test_odd_input_neither_fails_nor_matches_everything(client: Client, text):
    ResourceFactory(title="Seated strength routine")
    ResourceFactory(title="Gentle walking")
    assert found(text) == []
    # Over 200 characters the browse form refuses the search (400) instead of running it.
    assert browse_status(client, text) == (200 if len(text) <= 200 else 400)


# --- PostgreSQL: language-aware full-text search, ranking, typos ----------------------


def test_german_search_finds_other_forms_of_the_word(postgresql, client: Client):
    ResourceFactory(title="Übungen im Sitzen", language="de", summary="Kraft für Arme und Beine.")
    assert found("Übung") == ["Übungen im Sitzen"]
    assert "Übungen im Sitzen" in browse(client, "Übung")


def test_german_plural_finds_the_singular(postgresql):
    ResourceFactory(title="Eine Übung für das Gleichgewicht", language="de")
    assert found("Übungen") == ["Eine Übung für das Gleichgewicht"]


def test_polish_word_matches_exactly_and_without_accents(postgresql, client: Client):
    ResourceFactory(title="Równowaga na co dzień", language="pl", summary="Ćwiczenia z podparciem.")
    assert found("równowaga") == ["Równowaga na co dzień"]
    assert found("rownowaga") == ["Równowaga na co dzień"]
    assert found("cwiczenia") == ["Równowaga na co dzień"]
    assert "Równowaga na co dzień" in browse(client, "rownowaga")


def test_a_misspelt_title_is_still_found(postgresql, client: Client):
    ResourceFactory(title="Seated strength routine")
    ResourceFactory(title="Breathing and relaxation")
    assert found("Seated strenght routine") == ["Seated strength routine"]
    assert "Seated strength routine" in browse(client, "Seated strenght routine")


def test_a_title_match_ranks_before_a_body_only_match(postgresql):
    # Alphabetically the body-only match would come first.
    ResourceFactory(title="A calm morning routine", body="End with ten minutes of walking.")
    ResourceFactory(title="Walking on good days", body="Go at a pace where you can talk.")
    assert found("walking") == ["Walking on good days", "A calm morning routine"]


def test_postgresql_search_never_returns_a_draft(postgresql):
    ResourceFactory(title="Übungen im Stehen", language="de")
    ResourceFactory(title="Übungen im Liegen", language="de", draft=True)
    ResourceFactory(title="Übungen im Sitzen", language="de", in_review=True)
    assert found("Übung") == ["Übungen im Stehen"]
    assert "Übungen im Sitzen" not in found("Übungen im Sitzen")
    assert "Übungen im Liegen" not in found("Liegen")
