"""The referral letter to a supervised programme (#15 part 5): built from the handout's
parameters, printable, with blank lines for everything personal and no field to type it in."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve

from hub.cache import CACHED_VIEWS
from resources.models import BoneSafety

from ..factories import ResourceFactory

pytestmark = pytest.mark.django_db

FILTERS = "bone=suitable&lang=de&level=gentle"
PRESCRIPTION = "rx_days=2&rx_intensity=moderate&rx_minutes=20&rx_avoid=spinal-flexion"
LANGUAGES = ["en", "de", "nl", "es", "pl", "sv"]


@pytest.fixture(autouse=True)
def gentle_german() -> None:
    ResourceFactory(
        title="Sitzen und stärken",
        slug="sitzen",
        language="de",
        bone_metastasis_safety=BoneSafety.SUITABLE,
        tags={"level": ["gentle"]},
    )


def _letter_href(page: str) -> str:
    match = re.search(r'href="(/\w\w/for-clinics/letter/\?[^"]+)"', page)
    assert match, "no letter link"
    return unescape(match[1])


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_letter_is_a_plain_public_page_in_every_language(client, language):
    client.get("/en/safety/")  # the first request of all creates the page cache's version row
    with CaptureQueriesContext(connection) as queries:
        response = client.get(
            f"/{language}/for-clinics/letter/?{FILTERS}&clinic=Breast+Unit&{PRESCRIPTION}"
        )
    assert response.status_code == 200
    page = response.content.decode()
    assert f'<html lang="{language}">' in page
    assert len(re.findall(r"<h1[\s>]", page)) == 1
    assert not response.cookies
    assert "style=" not in page
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page) is None
    assert len(queries) <= 8, [query["sql"][:90] for query in queries]
    assert resolve(f"/{language}/for-clinics/letter/").view_name in CACHED_VIEWS


def test_the_letter_names_the_filters_prescription_and_address_and_leaves_blanks(client):
    page = client.get(f"/en/for-clinics/letter/?{FILTERS}&clinic=Breast+Unit&{PRESCRIPTION}")
    html = page.content.decode()
    assert "<h1>Referral to a supervised exercise programme</h1>" in html
    assert "Breast Unit" in html
    # The filters in words, as the builder's headings say them.
    assert "Fitness level: Gentle" in html
    # The prescription block, rendered by the handout's include.
    assert "Your exercise prescription" in html
    assert "2 days a week" in html
    assert "20 minutes each time" in html
    assert "Loaded spinal flexion (bending forward with weight)" in html
    # The handout's link and QR code (the filters only, never the prescription).
    url = "http://testserver/en/resources/?bone=suitable&amp;lang=de&amp;level=gentle"
    assert f'<a href="{url}">' in html
    (src,) = re.findall(r'src="(/en/for-clinics/qr\.svg\?[^"]*)"', html)
    assert "rx_" not in src
    # Everything personal is a blank line for the pen: no field to type it into the hub.
    for label in ("Patient's name", "Date of birth", "Signature"):
        assert f'{label}: <span class="letter-blank"></span>' in html
    assert "<form" not in html.split("<main", 1)[1]
    assert "<input" not in html and "<textarea" not in html
    assert "needs review by a clinician" in html


def test_a_letter_for_chosen_resources_lists_their_titles(client):
    html = client.get("/en/for-clinics/letter/?resource=sitzen").content.decode()
    assert '<li lang="de">Sitzen und stärken</li>' in html
    assert 'href="http://testserver/en/resources/sitzen/"' in html
    assert "Your exercise prescription" not in html


def test_the_letter_is_in_german_when_asked_in_german(client):
    html = client.get(f"/de/for-clinics/letter/?{FILTERS}&{PRESCRIPTION}").content.decode()
    assert "<h1>Überweisung zu einem betreuten Trainingsprogramm</h1>" in html
    assert "Unterschrift" in html
    assert "Geburtsdatum" in html


def test_the_handout_and_the_builder_link_to_the_letter_with_the_same_parameters(client):
    handout = client.get(f"/en/for-clinics/handout/?{FILTERS}&{PRESCRIPTION}").content.decode()
    letter = _letter_href(handout)
    assert letter.startswith("/en/for-clinics/letter/?")
    assert "level=gentle" in letter and "rx_days=2" in letter
    assert client.get(letter).status_code == 200
    builder = client.get(f"/en/for-clinics/?{FILTERS}&{PRESCRIPTION}").content.decode()
    assert _letter_href(builder) == letter


def test_the_letter_links_back_to_the_same_handout(client):
    html = client.get(f"/en/for-clinics/letter/?{FILTERS}&{PRESCRIPTION}").content.decode()
    match = re.search(r'href="(/en/for-clinics/handout/\?[^"]+)"', html)
    assert match
    assert "rx_minutes=20" in unescape(match[1])


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("level=no-such-level", "Select a valid choice"),
        ("rx_days=9", "Give between 1 and 7 days a week."),
    ],
)
def test_a_bad_letter_address_shows_what_is_wrong_with_status_400(client, query, message):
    response = client.get(f"/en/for-clinics/letter/?{query}")
    assert response.status_code == 400
    assert message in response.content.decode()


def test_control_characters_are_refused(client):
    assert client.get("/en/for-clinics/letter/?clinic=a%01b").status_code == 400
