"""Part 2 of #13: the programme finder and listing pages."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from resources.models import BoneAcceptance, Cost

from .factories import AMSTERDAM, BERLIN, UTRECHT, ProgrammeFactory

pytestmark = pytest.mark.django_db

FINDER = "/en/programmes/"


def names(response) -> list[str]:
    return [
        p.name for p in (response.context["place_results"] + response.context["online_results"])
    ]


@pytest.fixture
def listings():
    return {
        "utrecht": ProgrammeFactory(
            name="Utrecht strength group", located=("Utrecht", "NL", UTRECHT), languages="nl"
        ),
        "amsterdam": ProgrammeFactory(
            name="Amsterdam gym", located=("Amsterdam", "NL", AMSTERDAM), cost=Cost.PAID
        ),
        "berlin": ProgrammeFactory(
            name="Berlin OnkoSport",
            located=("Berlin", "DE", BERLIN),
            bone_metastases=BoneAcceptance.NOT_ACCEPTED,
            languages="de",
        ),
        "online": ProgrammeFactory(name="Online circuit class", online=True),
        "draft": ProgrammeFactory(
            name="Draft group", draft=True, located=("Utrecht", "NL", UTRECHT)
        ),
    }


def test_the_finder_lists_published_programmes_only(client, listings):
    response = client.get(FINDER)
    assert response.status_code == 200
    assert "Draft group" not in names(response)
    assert set(names(response)) == {
        "Utrecht strength group",
        "Amsterdam gym",
        "Berlin OnkoSport",
        "Online circuit class",
    }
    assert not response.cookies


def test_a_place_search_keeps_the_online_programmes(client, listings):
    response = client.get(FINDER, {"q": "utrecht"})
    assert names(response) == ["Utrecht strength group", "Online circuit class"]
    assert "Programmes you go to" in response.content.decode()


def test_a_postcode_finds_its_programme(client, listings):
    ProgrammeFactory(
        name="Postcode group", located=("Zeist", "NL", None), located__postal_code="3701 AB"
    )
    response = client.get(FINDER, {"q": "3701AB"})
    assert "Postcode group" in names(response)


def test_filters_combine_and_count(client, listings):
    response = client.get(FINDER, {"bone": "accepted", "country": "NL"})
    assert names(response) == ["Amsterdam gym", "Utrecht strength group", "Online circuit class"]
    facets = {facet.name: facet for facet in response.context["facets"]}
    country = {option.value: option.count for option in facets["country"].options}
    # Germany's only listing does not accept bone metastases; the online class counts anywhere.
    assert country == {"DE": 1, "NL": 3}
    cost = {option.value: option.count for option in facets["cost"].options}
    assert cost == {"free": 2}


def test_language_and_free_filters(client, listings):
    assert names(client.get(FINDER, {"lang": "nl"})) == ["Utrecht strength group"]
    assert "Amsterdam gym" not in names(client.get(FINDER, {"cost": "free"}))
    assert names(client.get(FINDER, {"delivery": "online"})) == ["Online circuit class"]


def test_near_sorts_by_distance_and_is_never_cached(client, listings):
    response = client.get(FINDER, {"near": "52.37,4.90"})  # Amsterdam
    assert names(response)[:3] == ["Amsterdam gym", "Utrecht strength group", "Berlin OnkoSport"]
    assert names(response)[-1] == "Online circuit class"
    amsterdam = response.context["place_results"][0]
    assert amsterdam.distance_km < 1
    utrecht = response.context["place_results"][1]
    assert 30 < utrecht.distance_km < 40  # about 35 km
    control = response["Cache-Control"]
    assert "no-store" in control and "private" in control
    # The next anonymous visitor at that address is not served a stored copy either.
    assert "Age" not in client.get(FINDER, {"near": "52.37,4.90"})


def test_the_request_log_never_holds_the_position(client, listings, caplog):
    with caplog.at_level(logging.INFO):
        client.get(FINDER, {"near": "52.09,5.12"})
    assert caplog.records, "the request was logged"
    assert not any("52.09" in record.getMessage() for record in caplog.records)
    assert not any("52.09" in str(record.__dict__) for record in caplog.records)


@pytest.mark.parametrize(
    "query",
    [{"bone": "maybe"}, {"country": "XX"}, {"lang": "tlh"}, {"near": "here"}, {"near": "95,5"}],
)
def test_unknown_values_are_a_visible_error_and_a_400(client, listings, query):
    response = client.get(FINDER, query)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Some filters could not be used" in page
    assert names(response) == []


def test_the_finder_and_detail_stay_within_the_query_budget(client, listings):
    ProgrammeFactory.create_batch(15, located=("Utrecht", "NL", UTRECHT))
    with CaptureQueriesContext(connection) as queries:
        assert (
            client.get(
                FINDER, {"bone": "accepted", "q": "Utrecht", "near": "52.09,5.12"}
            ).status_code
            == 200
        )
    assert len(queries) <= 8, [q["sql"] for q in queries.captured_queries]
    with CaptureQueriesContext(connection) as queries:
        assert client.get(listings["utrecht"].get_absolute_url()).status_code == 200
    assert len(queries) <= 8


def test_the_detail_page_shows_what_a_patient_needs(client, listings):
    programme = listings["utrecht"]
    page = client.get(programme.get_absolute_url())
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count("<h1") == 1
    assert "Accepts people with bone metastases" in text
    assert "Utrecht" in text
    assert "Details last checked on" in text
    assert not page.cookies


def test_drafts_have_no_detail_page(client, listings):
    assert client.get(listings["draft"].get_absolute_url()).status_code == 404


def test_a_stale_listing_says_not_checked_recently(client):
    from datetime import timedelta

    from django.utils import timezone

    programme = ProgrammeFactory(assured_date=timezone.localdate() - timedelta(days=400))
    assert "Not checked recently" in client.get(programme.get_absolute_url()).content.decode()
    assert "Not checked recently" in client.get(FINDER).content.decode()


def test_public_pages_have_no_inline_script_or_style(client, listings):
    for url in (FINDER, listings["utrecht"].get_absolute_url()):
        text = client.get(url).content.decode()
        assert "<script>" not in text and "style=" not in text
        assert "/static/js/near-me." in text or url != FINDER


def test_the_finder_pages_are_in_the_page_cache():
    from hub.cache import CACHED_VIEWS

    assert {"resources:programmes", "resources:programme-detail"} <= CACHED_VIEWS
    assert reverse("resources:programmes") == FINDER


def test_only_the_finder_may_ask_for_the_position(client, listings):
    finder = client.get(FINDER)["Permissions-Policy"]
    assert "geolocation=(self)" in finder
    assert "camera=()" in finder
    detail = client.get(listings["utrecht"].get_absolute_url())["Permissions-Policy"]
    assert "geolocation=()" in detail
    # Answered again from the page cache, the finder keeps its own policy.
    assert client.get(FINDER)["Permissions-Policy"] == finder
