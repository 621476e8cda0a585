"""Personal bone-metastasis warnings: the lesion sites in the address choose the warnings."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from resources.catalogue.personal import CONFLICTS, conflicting_flags

from ..factories import ResourceFactory

pytestmark = pytest.mark.django_db

BROWSE = "/en/resources/"
SPINE = "This resource includes loaded twisting or bending of the spine."
HIP = "This resource includes loaded hip movements."
SHOULDER = "This resource includes loaded shoulder movements."
IMPACT = "This resource includes impact, jumping or running."


def titles(response) -> list[str]:
    html = response.content.decode()
    return re.findall(r'<h3 class="card-title"[^>]*>\s*<a [^>]*>([^<]+)</a>', html)


def test_site_map_follows_the_adaptation_table():
    assert conflicting_flags(["spine"]) >= {"loaded-spine"}
    assert conflicting_flags(["ribs"]) >= {"loaded-spine", "loaded-shoulder"}
    assert conflicting_flags(["pelvis-hip"]) >= {"loaded-hip"}
    assert conflicting_flags(["thigh"]) >= {"loaded-hip"}
    assert conflicting_flags(["upper-arm"]) >= {"loaded-shoulder"}
    for site in CONFLICTS:
        assert {"impact", "heavy-load", "fall-risk", "end-range-stretch"} <= conflicting_flags(
            [site]
        )
    assert "loaded-hip" not in conflicting_flags(["spine", "upper-arm"])
    assert conflicting_flags([]) == set()


def test_flags_are_seeded_in_every_language():
    from resources.models import Tag, Vocabulary

    flags = Tag.objects.filter(vocabulary=Vocabulary.MOVEMENT_FLAG)
    assert sorted(flags.values_list("slug", flat=True)) == sorted(
        [
            "loaded-spine",
            "loaded-hip",
            "loaded-shoulder",
            "impact",
            "heavy-load",
            "fall-risk",
            "end-range-stretch",
        ]
    )
    for language in ("en", "de", "nl", "es", "pl", "sv"):
        assert not flags.filter(**{f"name_{language}__isnull": True}).exists()
        assert not flags.filter(**{f"name_{language}": ""}).exists()
        assert not flags.filter(**{f"description_{language}": ""}).exists()


def test_cards_warn_only_about_flags_that_conflict_with_the_chosen_sites(client):
    ResourceFactory(title="Twisting", tags={"flag": ["loaded-spine", "loaded-hip"]})
    html = client.get(BROWSE, {"site": "spine"}).content.decode()
    assert SPINE in html
    assert HIP not in html
    assert "Skip that part or ask your team first." in html
    assert 'data-flag="loaded-spine"' in html
    assert 'href="/static/' in html or "<svg" in html  # the warning icon, not colour alone


def test_no_warnings_without_sites(client):
    ResourceFactory(title="Twisting", tags={"flag": ["loaded-spine", "impact"]})
    html = client.get(BROWSE).content.decode()
    assert SPINE not in html
    assert IMPACT not in html
    assert "personal-warnings" not in html


def test_any_site_warns_about_impact(client):
    ResourceFactory(title="Jumping", tags={"flag": ["impact"]})
    html = client.get(BROWSE, {"site": "upper-arm"}).content.decode()
    assert IMPACT in html


def test_resource_without_conflicting_flags_has_no_warning(client):
    ResourceFactory(title="Shoulder press", tags={"flag": ["loaded-shoulder"]})
    html = client.get(BROWSE, {"site": "thigh"}).content.decode()
    assert "personal-warnings" not in html


def test_card_links_carry_the_sites_to_the_detail_page(client):
    resource = ResourceFactory(title="Twisting", tags={"flag": ["loaded-spine"]})
    html = client.get(f"{BROWSE}?site=ribs&site=spine").content.decode()
    link = f'href="{resource.get_absolute_url()}?site=ribs&amp;site=spine"'
    assert link in html
    detail = client.get(resource.get_absolute_url(), {"site": ["ribs", "spine"]})
    assert detail.status_code == 200
    assert SPINE in detail.content.decode()


def test_detail_page_warns_only_with_sites(client):
    resource = ResourceFactory(title="Twisting", tags={"flag": ["loaded-hip"]})
    assert HIP not in client.get(resource.get_absolute_url()).content.decode()
    assert HIP in client.get(resource.get_absolute_url(), {"site": "pelvis-hip"}).content.decode()
    assert HIP not in client.get(resource.get_absolute_url(), {"site": "ribs"}).content.decode()


def test_hide_conflicts_hides_exactly_the_conflicting_resources(client):
    ResourceFactory(title="Twisting", tags={"flag": ["loaded-spine"]})
    ResourceFactory(title="Jumping", tags={"flag": ["impact"]})
    ResourceFactory(title="Shoulder press", tags={"flag": ["loaded-shoulder"]})
    ResourceFactory(title="Breathing")
    response = client.get(BROWSE, {"hide_conflicts": "1", "site": "spine"})
    assert response.status_code == 200
    assert sorted(titles(response)) == ["Breathing", "Shoulder press"]
    assert "2 resources found" in response.content.decode()
    # Without sites, nothing is hidden; sites alone hide nothing either.
    assert len(titles(client.get(BROWSE, {"hide_conflicts": "1"}))) == 4
    assert len(titles(client.get(BROWSE, {"site": "spine"}))) == 4


def test_facet_counts_agree_with_hidden_results(client):
    ResourceFactory(title="Twisting", tags={"flag": ["loaded-spine"], "level": ["gentle"]})
    ResourceFactory(title="Breathing", tags={"level": ["gentle"]})
    html = client.get(BROWSE, {"hide_conflicts": "1", "site": "spine"}).content.decode()
    gentle = re.search(r'value="gentle"[^>]*>\s*<label[^>]*>[^<]*<span class="count">\((\d+)', html)
    assert gentle and gentle.group(1) == "1"


@pytest.mark.parametrize("query", ["site=knee", "hide_conflicts=yes&site=spine"])
def test_invalid_site_values_are_a_form_error(client, query):
    response = client.get(f"{BROWSE}?{query}")
    assert response.status_code == 400
    assert titles(response) == []


def test_sites_stay_in_the_canonical_address(client):
    response = client.get(BROWSE, {"site": ["thigh", "spine"], "hide_conflicts": "1", "ref": "x"})
    assert response.status_code == 301
    assert response["Location"] == f"{BROWSE}?hide_conflicts=1&site=spine&site=thigh"


def test_browse_form_offers_the_sites_fieldset(client):
    html = client.get(BROWSE, {"site": "ribs"}).content.decode()
    assert "Where is the cancer in your bones?" in html
    assert re.search(r'name="site" value="ribs" id="[^"]+" checked', html)
    assert 'name="hide_conflicts" value="1"' in html
    assert html.count("<h1") == 1


def test_browse_with_sites_stays_within_eight_queries(client):
    for number in range(30):
        ResourceFactory(
            title=f"Resource {number}",
            tags={"flag": ["loaded-spine", "impact"], "level": ["gentle"]},
        )
    with CaptureQueriesContext(connection) as queries:
        response = client.get(BROWSE, {"site": ["ribs", "spine"]})
    assert response.status_code == 200
    assert len(queries) <= 8
    with CaptureQueriesContext(connection) as queries:
        response = client.get(BROWSE, {"hide_conflicts": "1", "site": "thigh"})
    assert len(queries) <= 8
