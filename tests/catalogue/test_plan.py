"""The "My plan" page: renders the slugs in its address, published ones only, in order."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from resources.catalogue.plan import PLAN_LIMIT
from resources.models import BoneSafety

from ..factories import ResourceFactory

pytestmark = pytest.mark.django_db

PLAN = "/en/my-plan/"


def titles(response) -> list[str]:
    html = response.content.decode()
    return re.findall(r'<h2 class="plan-title"[^>]*>\s*<a [^>]*>([^<]+)</a>', html)


def test_the_plan_lists_the_given_resources_in_the_saved_order(client):
    first = ResourceFactory(title="Seated march")
    second = ResourceFactory(title="Balance at the counter")
    ResourceFactory(title="Not saved")
    response = client.get(PLAN, {"r": [second.slug, first.slug]})
    assert response.status_code == 200
    assert titles(response) == ["Balance at the counter", "Seated march"]
    assert "no longer available" not in response.content.decode()


def test_each_item_shows_duration_safety_in_words_callout_and_full_address(client):
    resource = ResourceFactory(
        title="Wall press", duration_minutes=20, bone_metastasis_safety=BoneSafety.CLEARANCE_NEEDED
    )
    html = client.get(PLAN, {"r": resource.slug}).content.decode()
    assert "20 minutes" in html
    assert resource.get_bone_metastasis_safety_display() in html
    assert "only after your team says it is safe" in html
    assert f"http://testserver/en/resources/{resource.slug}/" in html


def test_unpublished_and_unknown_slugs_are_skipped_with_a_note(client):
    public = ResourceFactory(title="Public walk")
    draft = ResourceFactory(title="Draft walk", draft=True)
    response = client.get(PLAN, {"r": [draft.slug, public.slug, "no-such-thing"]})
    assert titles(response) == ["Public walk"]
    html = response.content.decode()
    assert "Draft walk" not in html
    assert "2 saved items are no longer available." in html


def test_the_plan_shows_at_most_thirty_items(client):
    resources = [ResourceFactory() for _ in range(PLAN_LIMIT + 5)]
    response = client.get(PLAN, {"r": [r.slug for r in resources]})
    assert titles(response) == [r.title for r in resources[:PLAN_LIMIT]]


def test_repeated_slugs_are_listed_once(client):
    resource = ResourceFactory(title="Only once")
    response = client.get(PLAN, {"r": [resource.slug, resource.slug]})
    assert titles(response) == ["Only once"]


def test_a_full_plan_takes_at_most_eight_queries(client):
    resources = [
        ResourceFactory(tags={"level": ["gentle"], "type": ["balance"]}) for _ in range(PLAN_LIMIT)
    ]
    with CaptureQueriesContext(connection) as queries:
        response = client.get(PLAN, {"r": [r.slug for r in resources]})
    assert response.status_code == 200
    assert len(titles(response)) == PLAN_LIMIT
    assert len(queries) <= 8


def test_the_plan_page_sets_no_cookie_has_one_h1_and_no_inline_script(client):
    resource = ResourceFactory()
    response = client.get(PLAN, {"r": resource.slug})
    html = response.content.decode()
    assert response.cookies == {}
    assert html.count("<h1") == 1
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert not re.search(r"\son[a-z]+=", html)
    assert "js/plan" in html


def test_without_a_plan_the_page_explains_that_saving_needs_javascript(client):
    html = client.get(PLAN).content.decode()
    assert "Saving resources to your plan needs JavaScript" in html
    assert 'href="/en/resources/"' in html


def test_hostile_input_is_shown_as_harmless_text(client):
    response = client.get(PLAN, {"r": ["<script>alert(1)</script>", "a" * 5000, "' OR 1=1"]})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert" not in html
    assert "3 saved items are no longer available." in html


def test_cards_and_detail_pages_carry_a_slot_for_the_save_button_but_no_button(client):
    resource = ResourceFactory(title="Slot test")
    for path in ("/en/resources/", resource.get_absolute_url()):
        html = client.get(path).content.decode()
        assert f'data-plan-slug="{resource.slug}"' in html
        assert "Save to my plan" in html  # the translated label, for plan.js
        assert "<button" not in html.split('class="plan-slot"')[1].split("</div>")[0]


def test_the_header_links_to_my_plan_in_the_visitors_language(client):
    html = client.get("/de/").content.decode()
    assert 'href="/de/my-plan/"' in html
