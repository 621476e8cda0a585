"""Canonical browse addresses: one address per filter set, everything else moves there (301)."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from django.http import QueryDict
from hypothesis import given, settings
from hypothesis import strategies as st

from resources.catalogue.filters import BROWSE_PARAMETERS, canonical_query

from ..factories import ResourceFactory

BROWSE = "/en/resources/"


def titles(response) -> list[str]:
    html = response.content.decode()
    return re.findall(r'<h3 class="card-title"[^>]*>\s*<a [^>]*>([^<]+)</a>', html)


@pytest.mark.parametrize(
    ("query", "canonical"),
    [
        ("lang=de&bone=suitable&level=gentle", "bone=suitable&lang=de&level=gentle"),
        ("level=moderate&level=gentle", "level=gentle&level=moderate"),
        ("level=gentle&level=gentle&level=+gentle+", "level=gentle"),
        ("level=&bone=suitable&q=&type=", "bone=suitable"),
        ("ref=st-example&level=gentle", "level=gentle"),
        ("utm_source=leaflet&kind=video", "kind=video"),
        ("page=2&level=gentle", "level=gentle&page=2"),
        ("q=chair&page=2&bone=suitable", "bone=suitable&q=chair&page=2"),
        ("level=gentle&page=1", "level=gentle"),
        ("q=++chair+++yoga+", "q=chair+yoga"),
        ("level=nope&level=gentle", "level=gentle&level=nope"),  # unknown values stay
        ("ref=st-example", ""),
        ("", ""),
    ],
)
def test_canonical_query_sorts_deduplicates_and_drops_empty_and_unknown(query, canonical):
    assert canonical_query(QueryDict(query)) == canonical


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "location"),
    [
        ("lang=de&bone=suitable&level=gentle", "/en/resources/?bone=suitable&lang=de&level=gentle"),
        ("level=moderate&level=gentle", "/en/resources/?level=gentle&level=moderate"),
        ("level=gentle&level=gentle", "/en/resources/?level=gentle"),
        ("q=&level=gentle&type=", "/en/resources/?level=gentle"),
        ("ref=st-example&level=gentle", "/en/resources/?level=gentle"),
        ("ref=st-example", "/en/resources/"),
        ("page=1", "/en/resources/"),
        ("level=", "/en/resources/"),
        ("level=nope&level=gentle", "/en/resources/?level=gentle&level=nope"),
    ],
)
def test_a_non_canonical_browse_address_moves_permanently_to_the_canonical_one(
    client, query, location
):
    response = client.get(f"{BROWSE}?{query}")
    assert response.status_code == 301
    assert response["Location"] == location
    # One hop, then the page itself: never a loop.
    followed = client.get(location)
    assert followed.status_code in {200, 400}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "",
        "bone=suitable&lang=de&level=gentle",
        "level=gentle&level=moderate&page=2",
        "bone=suitable&q=chair+yoga",
        "level=gentle&level=nope",
    ],
)
def test_a_canonical_browse_address_is_answered_directly(client, query):
    ResourceFactory.create_batch(25, tags={"level": ["gentle", "moderate"]})
    response = client.get(f"{BROWSE}?{query}" if query else BROWSE)
    assert response.status_code in {200, 400}


@pytest.mark.django_db
def test_an_invalid_value_survives_the_redirect_and_is_shown_as_an_error(client):
    response = client.get(f"{BROWSE}?level=nope&ref=x&level=gentle", follow=True)
    assert response.redirect_chain == [("/en/resources/?level=gentle&level=nope", 301)]
    assert response.status_code == 400
    assert "is not an option here" in response.content.decode()


@pytest.mark.django_db
def test_ref_never_changes_which_resources_are_shown(client):
    ResourceFactory(title="Gentle walk", tags={"level": ["gentle"]})
    ResourceFactory(title="Hard run", tags={"level": ["structured"]})
    plain = client.get(BROWSE, {"level": "gentle"})
    referred = client.get(f"{BROWSE}?ref=st-example&level=gentle", follow=True)
    assert titles(referred) == titles(plain) == ["Gentle walk"]
    everything = client.get(BROWSE, {"ref": "st-example"}, follow=True)
    assert sorted(titles(everything)) == ["Gentle walk", "Hard run"]


@pytest.mark.django_db
def test_the_same_filters_from_the_browse_form_land_on_one_address(client):
    """The browse form sends every field, empty ones too, in the form's order."""
    submitted = "q=&level=moderate&level=gentle&bone=suitable&lang=de"
    other_order = "lang=de&bone=suitable&level=gentle&level=moderate"
    first = client.get(f"{BROWSE}?{submitted}")
    second = client.get(f"{BROWSE}?{other_order}")
    assert first["Location"] == second["Location"]


@pytest.mark.django_db
def test_a_filtered_address_in_another_language_keeps_its_language(client):
    response = client.get("/de/resources/?level=moderate&level=gentle")
    assert response["Location"] == "/de/resources/?level=gentle&level=moderate"


names = st.sampled_from([*BROWSE_PARAMETERS, "page", "ref", "utm_source"])
values = st.text(max_size=12) | st.sampled_from(["gentle", "moderate", "", " ", "1", "2"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(names, values), max_size=8))
def test_canonical_query_is_stable(pairs):
    """Reading the canonical query back gives itself: the 301 can never loop."""
    once = canonical_query(QueryDict(urlencode(pairs)))
    assert canonical_query(QueryDict(once)) == once
    assert "ref=" not in once
