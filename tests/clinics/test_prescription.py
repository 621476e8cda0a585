"""The exercise prescription on the printed handout (#15 part 1): optional FITT fields in the
link builder, carried in the handout's address only, checked, printed in the page's language."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from resources.models import BoneSafety

from ..factories import ResourceFactory

pytestmark = pytest.mark.django_db

FILTERS = "bone=suitable&lang=de&level=gentle"
PRESCRIPTION = (
    "rx_days=2&rx_intensity=moderate&rx_borg=4&rx_minutes=20&rx_type=strength&rx_type=aerobic"
    "&rx_avoid=spinal-flexion&rx_site=spine&rx_cleared=home&rx_note=Start+with+10+minutes."
)


@pytest.fixture
def gentle_german() -> None:
    ResourceFactory(
        title="Sitzen und stärken",
        language="de",
        bone_metastasis_safety=BoneSafety.SUITABLE,
        tags={"level": ["gentle"]},
    )


def _handout_href(page: str) -> str:
    match = re.search(r'href="(/\w\w/for-clinics/handout/\?[^"]+)"', page)
    assert match, "no handout link"
    return unescape(match[1])


def _qr_sources(page: str) -> list[str]:
    return [unescape(src) for src in re.findall(r'src="(/\w\w/for-clinics/qr\.svg\?[^"]*)"', page)]


@pytest.mark.usefixtures("gentle_german")
def test_the_builder_carries_the_prescription_to_the_handout_but_not_to_the_qr_code(client):
    page = client.get(f"/en/for-clinics/?{FILTERS}&{PRESCRIPTION}").content.decode()

    handout = parse_qs(urlsplit(_handout_href(page)).query)
    assert handout["rx_days"] == ["2"]
    assert handout["rx_intensity"] == ["moderate"]
    assert handout["rx_minutes"] == ["20"]
    assert handout["rx_avoid"] == ["spinal-flexion"]
    # Carried in the vocabulary's order, whatever order the address gave.
    assert handout["rx_type"] == ["aerobic", "strength"]
    for src in _qr_sources(page):
        assert "rx_" not in src


@pytest.mark.usefixtures("gentle_german")
def test_the_handout_prints_the_prescription_in_english(client):
    page = client.get(f"/en/for-clinics/handout/?{FILTERS}&{PRESCRIPTION}").content.decode()

    assert "Your exercise prescription" in page
    assert "2 days a week" in page
    assert "Moderate: you can talk, but not sing" in page
    assert "about 4 on a scale from 0 (rest) to 10 (hardest) — Borg CR10" in page
    assert "20 minutes each time" in page
    assert "Aerobic: walking, cycling, swimming; Strength: bands, light weights" in page
    assert "Loaded spinal flexion (bending forward with weight)" in page
    assert "Exercise at home with resources from the hub" in page
    assert "Start with 10 minutes." in page
    # The QR code on the paper opens the filters only.
    for src in _qr_sources(page):
        assert "rx_" not in src


@pytest.mark.usefixtures("gentle_german")
def test_the_handout_prints_the_prescription_in_german(client):
    page = client.get(f"/de/for-clinics/handout/?{FILTERS}&{PRESCRIPTION}").content.decode()

    assert "Ihr Bewegungsrezept" in page
    assert "2 Tage pro Woche" in page
    assert "20 Minuten pro Einheit" in page
    assert "Belastete Beugung der Wirbelsäule" in page


@pytest.mark.usefixtures("gentle_german")
def test_without_a_prescription_the_handout_has_no_prescription_block(client):
    page = client.get(f"/en/for-clinics/handout/?{FILTERS}").content.decode()
    assert "Your exercise prescription" not in page


@pytest.mark.usefixtures("gentle_german")
def test_change_the_handout_reopens_the_builder_with_the_prescription(client):
    page = client.get(f"/en/for-clinics/handout/?{FILTERS}&rx_days=3").content.decode()
    change = re.search(r'href="(/en/for-clinics/\?[^"]+)"', page)
    assert change and "rx_days=3" in unescape(change[1])
    builder = client.get(unescape(change[1])).content.decode()
    assert 'name="rx_days" id="id_rx_days" value="3"' in builder


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("rx_days=9", "Give between 1 and 7 days a week."),
        ("rx_days=0", "Give between 1 and 7 days a week."),
        ("rx_days=two", "Give the number of days a week as a whole number, 1 to 7."),
        ("rx_borg=11", "Give a number from 0 to 10."),
        ("rx_minutes=2", "Give between 5 and 180 minutes."),
        ("rx_minutes=600", "Give between 5 and 180 minutes."),
        ("rx_intensity=extreme", "Select a valid choice."),
        ("rx_avoid=cartwheels", "Select a valid choice."),
        ("rx_note=" + "x" * 301, "Ensure this value has at most 300 characters"),
        # C1 controls (here NEL) pass the middleware's C0 check (hub/security.py): the form
        # refuses them itself.
        ("rx_note=Stop%C2%85now", "Remove the invisible control characters from this text."),
    ],
)
def test_bad_prescription_values_are_a_400_with_the_field_named(client, query, message):
    for url in (f"/en/for-clinics/?{query}", f"/en/for-clinics/handout/?level=gentle&{query}"):
        response = client.get(url)
        assert response.status_code == 400, url
        page = unescape(response.content.decode())
        assert message in page
        assert "The link could not be built" in page


@pytest.mark.parametrize("character", ["%00", "%07", "%0A"])
def test_a_note_with_a_c0_control_character_is_a_400(client, character):
    response = client.get(f"/en/for-clinics/handout/?level=gentle&rx_note=Stop{character}now")
    assert response.status_code == 400


def test_nothing_is_stored_and_the_handout_stays_within_the_query_budget(client):
    for number in range(12):
        ResourceFactory(slug=f"r-{number}", tags={"level": ["gentle"]})
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/en/for-clinics/handout/?level=gentle&{PRESCRIPTION}")
    assert response.status_code == 200
    assert len(queries) <= 8, [query["sql"] for query in queries]
    assert all(query["sql"].lstrip().upper().startswith("SELECT") for query in queries)
    assert not response.cookies


@pytest.mark.usefixtures("gentle_german")
def test_builder_and_handout_with_a_prescription_have_no_inline_code(client):
    for url in (
        f"/de/for-clinics/?{FILTERS}&{PRESCRIPTION}",
        f"/de/for-clinics/handout/?{FILTERS}&{PRESCRIPTION}",
    ):
        page = client.get(url).content.decode()
        assert len(re.findall(r"<h1[\s>]", page)) == 1
        assert "style=" not in page
        assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page) is None


def test_with_a_prescription_the_handout_says_how_many_instead_of_listing_titles(client):
    for number in range(3):
        ResourceFactory(title=f"Walk {number}", tags={"level": ["gentle"]})
    page = client.get(f"/en/for-clinics/handout/?level=gentle&{PRESCRIPTION}").content.decode()
    assert "3 resources at the address above." in page
    assert "Walk 0" not in page


def test_with_a_prescription_at_most_two_resources_fit_on_the_handout(client):
    slugs = [ResourceFactory().slug for _ in range(3)]
    query = "&".join(f"resource={slug}" for slug in slugs)

    response = client.get(f"/en/for-clinics/handout/?{query}&rx_days=2")
    assert response.status_code == 400
    assert "With a prescription, choose at most 2 resources" in unescape(response.content.decode())
    assert client.get(f"/en/for-clinics/handout/?{query}").status_code == 200
    two = "&".join(f"resource={slug}" for slug in slugs[:2])
    assert client.get(f"/en/for-clinics/handout/?{two}&rx_days=2").status_code == 200
