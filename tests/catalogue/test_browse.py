"""The browse page: filters, facets, pagination and the visibility rule."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from resources.models import BoneSafety, Kind, Status

from ..factories import ResourceFactory

pytestmark = pytest.mark.django_db

BROWSE = "/en/resources/"


def titles(response) -> list[str]:
    """Result-card titles in page order, as a visitor reads them."""
    html = response.content.decode()
    return re.findall(r'<h3 class="card-title"[^>]*>\s*<a [^>]*>([^<]+)</a>', html)


def test_unpublished_resources_are_not_listed(client):
    ResourceFactory(title="Public walk")
    ResourceFactory(title="Draft walk", status=Status.DRAFT, published_at=None)
    ResourceFactory(title="In review walk", status=Status.IN_REVIEW, published_at=None)
    ResourceFactory(title="Archived walk", status=Status.ARCHIVED)
    response = client.get(BROWSE)
    assert response.status_code == 200
    assert titles(response) == ["Public walk"]
    assert "1 resource found" in response.content.decode()


def test_filters_or_within_a_parameter(client):
    ResourceFactory(title="Gentle one", tags={"level": ["gentle"]})
    ResourceFactory(title="Moderate one", tags={"level": ["moderate"]})
    ResourceFactory(title="Structured one", tags={"level": ["structured"]})
    response = client.get(BROWSE, {"level": ["gentle", "moderate"]})
    assert sorted(titles(response)) == ["Gentle one", "Moderate one"]


def test_filters_and_across_parameters(client):
    ResourceFactory(title="Gentle balance", tags={"level": ["gentle"], "type": ["balance"]})
    ResourceFactory(title="Gentle strength", tags={"level": ["gentle"], "type": ["strength"]})
    ResourceFactory(title="Moderate balance", tags={"level": ["moderate"], "type": ["balance"]})
    response = client.get(BROWSE, {"level": "gentle", "type": "balance"})
    assert titles(response) == ["Gentle balance"]


def test_a_resource_matching_two_chosen_values_is_listed_once(client):
    ResourceFactory(title="Both levels", tags={"level": ["gentle", "moderate"]})
    response = client.get(BROWSE, {"level": ["gentle", "moderate"]})
    assert titles(response) == ["Both levels"]
    assert "1 resource found" in response.content.decode()


def test_bone_safety_kind_and_language_filters(client):
    ResourceFactory(title="Suitable video", kind=Kind.VIDEO, url="https://youtu.be/vtA1R87lkv8")
    ResourceFactory(title="Modified guide", bone_metastasis_safety=BoneSafety.WITH_MODIFICATIONS)
    ResourceFactory(title="German guide", language="de")
    assert titles(client.get(BROWSE, {"kind": "video"})) == ["Suitable video"]
    assert titles(client.get(BROWSE, {"bone": "with-modifications"})) == ["Modified guide"]
    assert titles(client.get(BROWSE, {"lang": "de"})) == ["German guide"]


@pytest.mark.parametrize(
    "query",
    [
        {"level": "nope"},
        {"bone": "not-reviewed"},  # exists, but is never public
        {"kind": "podcast"},
        {"lang": "fr"},
        {"level": ["gentle", "<script>"]},
    ],
)
def test_unknown_filter_value_shows_an_error_and_no_results(client, query):
    ResourceFactory(title="Gentle one", tags={"level": ["gentle"]})
    response = client.get(BROWSE, query, follow=True)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Some filters could not be used" in html
    assert "is not an option here" in html
    assert titles(response) == []
    assert "<script>" not in html


def test_search_too_long_or_with_null_character_is_a_form_error(client):
    ResourceFactory(title="Walking")
    assert client.get(BROWSE, {"q": "x" * 201}).status_code == 400
    assert client.get(BROWSE, {"q": "walk\x00"}).status_code == 400


def test_unrelated_parameters_are_ignored(client):
    ResourceFactory(title="Walking")
    response = client.get(BROWSE, {"utm_source": "leaflet"}, follow=True)
    assert response.redirect_chain == [(BROWSE, 301)]
    assert titles(response) == ["Walking"]


def test_facet_counts_show_what_ticking_an_option_would_give(client):
    ResourceFactory(tags={"level": ["gentle"], "type": ["balance"]})
    ResourceFactory(tags={"level": ["gentle"], "type": ["strength"]})
    ResourceFactory(tags={"level": ["moderate"], "type": ["balance"]})
    html = client.get(BROWSE, {"level": "gentle"}).content.decode()

    def count(name: str, value: str) -> int:
        match = re.search(
            rf'name="{name}" value="{value}"[^>]*>\s*<label[^>]*>[^<]*<span class="count">\((\d+)',
            html,
        )
        assert match, f"no count for {name}={value}"
        return int(match.group(1))

    # Within "level" the other options count as if added (OR): moderate gives 1 more.
    assert count("level", "gentle") == 2
    assert count("level", "moderate") == 1
    # Across facets the current selection applies (AND): gentle AND balance = 1.
    assert count("type", "balance") == 1
    assert count("type", "strength") == 1
    assert count("type", "aerobic") == 0


def test_selected_filters_are_shown_as_removable_links(client):
    ResourceFactory(tags={"level": ["gentle"]}, bone_metastasis_safety=BoneSafety.SUITABLE)
    html = client.get(BROWSE, {"bone": "suitable", "level": "gentle"}).content.decode()
    assert "Filters in use" in html
    # Removing "gentle" keeps the safety filter and resets the page.
    assert 'href="?bone=suitable"' in html
    assert 'href="?level=gentle"' in html
    assert "Clear filters" in html


def test_pagination_keeps_the_filters(client, settings):
    settings.HUB_PAGE_SIZE = 2
    for number in range(5):
        ResourceFactory(title=f"Gentle {number}", tags={"level": ["gentle"]})
    ResourceFactory(title="Moderate", tags={"level": ["moderate"]})
    first = client.get(BROWSE, {"level": "gentle"})
    html = first.content.decode()
    assert "5 resources found" in html
    assert "Page 1 of 3" in html
    assert 'href="?level=gentle&amp;page=2"' in html
    second = client.get(BROWSE, {"level": "gentle", "page": 2})
    assert titles(second) == ["Gentle 2", "Gentle 3"]
    assert 'href="?level=gentle" rel="prev"' in second.content.decode()


@pytest.mark.parametrize("page", ["0", "99", "abc", "-1"])
def test_a_page_that_does_not_exist_is_not_found(client, page):
    ResourceFactory()
    assert client.get(BROWSE, {"page": page}).status_code == 404


def test_browse_query_count_does_not_grow_with_results_or_filters(client, settings):
    settings.HUB_PAGE_SIZE = 50
    ResourceFactory.create_batch(
        2, tags={"level": ["gentle"], "type": ["balance"], "stage": ["metastatic"]}
    )
    with CaptureQueriesContext(connection) as few:
        client.get(BROWSE)
    ResourceFactory.create_batch(
        30, tags={"level": ["gentle"], "type": ["balance"], "stage": ["metastatic"]}
    )
    with CaptureQueriesContext(connection) as many:
        response = client.get(BROWSE)
    assert len(titles(response)) == 32
    with CaptureQueriesContext(connection) as filtered:
        # Canonical order, so this measures the page and not a redirect.
        response = client.get(
            BROWSE,
            {
                "bone": "suitable",
                "kind": "guide",
                "lang": "en",
                "level": ["gentle", "moderate"],
                "q": "walk",
                "stage": "metastatic",
                "type": "balance",
            },
        )
        assert response.status_code == 200
    assert len(few) == len(many) <= 8
    assert len(filtered) <= 8


def test_browse_form_has_labelled_checkboxes_and_an_apply_button(client):
    html = client.get(BROWSE).content.decode()
    # The six facets, video accessibility, and where the cancer is in the bones.
    assert html.count("<fieldset") == 8
    assert html.count("<legend>") == 8
    assert ">Apply</button>" in html
    for input_id in re.findall(r'<input type="checkbox"[^>]* id="([^"]+)"', html):
        assert f'<label for="{input_id}">' in html


def test_every_facet_count_equals_the_results_of_ticking_that_option_alone():
    """The one-query facet counts agree with running the filter for real, for every option of
    every facet, under selections that mix tag facets, field facets and a draft."""
    import random

    from django.http import QueryDict

    from resources.catalogue.filters import ResourceFilter, browse

    pick = random.Random(7)
    levels, stages = ["gentle", "moderate", "structured"], ["early", "metastatic"]
    types = ["aerobic", "strength", "balance"]
    for number in range(14):
        ResourceFactory(
            title=f"Resource {number}",
            language=pick.choice(["en", "de", "nl"]),
            kind=pick.choice([Kind.GUIDE, Kind.LINK]),
            url="https://example.org/",
            bone_metastasis_safety=pick.choice([BoneSafety.SUITABLE, BoneSafety.NOT_RECOMMENDED]),
            tags={
                "level": pick.sample(levels, pick.randint(0, 2)),
                "stage": pick.sample(stages, pick.randint(0, 2)),
                "type": pick.sample(types, pick.randint(1, 2)),
            },
        )
    ResourceFactory(draft=True, tags={"level": ["gentle"], "type": ["balance"]})
    selections = [
        "",
        "level=gentle",
        "level=gentle&level=moderate&type=balance",
        "bone=suitable&lang=de&stage=metastatic",
        "q=resource&level=structured",
        "kind=link&lang=en&lang=nl&type=aerobic&type=strength",
    ]
    for selection in selections:
        filterset, _results = browse(QueryDict(selection), "en")
        counts = filterset.facet_counts()
        for name in ResourceFilter.FACETS:
            for value, _label in filterset.filters[name].field.choices:
                ticked = QueryDict(selection, mutable=True)
                ticked.setlist(name, [value])
                expected = browse(ticked, "en")[1].count()
                assert counts[name].get(str(value), 0) == expected, (selection, name, value)
