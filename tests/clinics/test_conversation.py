"""The conversation guide for clinicians (#15 part 2): three lengths, sources, marked as
needing clinical review, six languages, printable, cached, linked from the for-clinics page."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve
from django.utils import translation

from hub.cache import CACHED_VIEWS

pytestmark = pytest.mark.django_db

LANGUAGES = ["en", "de", "nl", "es", "pl", "sv"]
HEADINGS = {
    "en": ["In one minute", "In three minutes", "In a longer appointment"],
    "de": ["In einer Minute", "In drei Minuten", "In einem längeren Termin"],
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_guide_is_a_plain_public_page_in_every_language(client, language):
    client.get("/en/safety/")  # the first request of all creates the page cache's version row
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/{language}/for-clinics/conversation/")
    assert response.status_code == 200
    page = response.content.decode()
    assert f'<html lang="{language}">' in page
    assert len(re.findall(r"<h1[\s>]", page)) == 1
    assert 'class="skip-link" href="#main"' in page
    assert "<main" in page and "<nav" in page
    assert not response.cookies
    assert "style=" not in page
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page) is None
    assert len(queries) <= 8, [query["sql"][:90] for query in queries]
    # Every version refers to its sources, which are listed with their addresses.
    assert page.count("<cite>[1]</cite>") >= 3
    for source in (
        "https://pmc.ncbi.nlm.nih.gov/articles/PMC11485212",
        "https://doi.org/10.1200/OP.21.00454",
        "https://pmc.ncbi.nlm.nih.gov/articles/PMC8576825",
    ):
        assert f'href="{source}"' in page
    assert 'class="draft-note"' in page  # needs clinical review, and says so


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_guide_has_one_three_and_longer_versions_and_the_warning_signs(client, language):
    page = client.get(f"/{language}/for-clinics/conversation/").content.decode()
    for heading in HEADINGS[language]:
        assert f">{heading}</h2>" in page
    assert 'class="callout callout-urgent"' in page


def test_the_draft_note_is_translated(client):
    german = client.get("/de/for-clinics/conversation/").content.decode()
    assert "Entwurf: Dieser Leitfaden wurde für den Hub geschrieben" in german
    assert "needs review by a clinician" not in german


def test_the_for_clinics_page_links_to_the_guide(client):
    page = client.get("/de/for-clinics/").content.decode()
    assert 'href="/de/for-clinics/conversation/"' in page


def test_the_guide_is_cached_like_the_other_public_pages():
    with translation.override("en"):  # the address prefix is resolved in the active language
        assert resolve("/en/for-clinics/conversation/").view_name in CACHED_VIEWS
