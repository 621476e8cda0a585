"""Resources that are translations of each other: "Also available in" on detail pages and in
the API, published translations only, and the editors' checks in the admin."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from resources.admin import ResourceAdminForm
from resources.models import Resource

from ..factories import ResourceFactory

pytestmark = pytest.mark.django_db


def also_available(html: str) -> list[tuple[str, str, str, str]]:
    """(href, hreflang, lang, text) of each link in the "Also available in" line."""
    line = re.search(r'<p class="translations">(.*?)</p>', html, re.S)
    if line is None:
        return []
    return re.findall(
        r'<a href="([^"]+)" hreflang="([^"]+)" lang="([^"]+)">([^<]+)</a>', line.group(1)
    )


@pytest.fixture
def chair() -> Resource:
    english = ResourceFactory(slug="chair-en", title="Chair exercises", language="en")
    german = ResourceFactory(slug="chair-de", title="Übungen im Sitzen", language="de")
    dutch = ResourceFactory(slug="chair-nl", title="Stoeloefeningen", language="nl")
    draft = ResourceFactory(slug="chair-es", title="Ejercicios en silla", language="es", draft=True)
    english.translations.add(german, dutch, draft)
    return english


def test_detail_page_lists_the_published_translations_in_their_own_names(client, chair):
    html = client.get("/en/resources/chair-en/").content.decode()
    assert "Also available in:" in html
    assert also_available(html) == [
        ("/en/resources/chair-de/", "de", "de", "Deutsch"),
        ("/en/resources/chair-nl/", "nl", "nl", "Nederlands"),
    ]


def test_a_draft_translation_is_never_shown_nor_linked(client, chair):
    html = client.get("/en/resources/chair-en/").content.decode()
    assert "chair-es" not in html
    assert "Español" not in html
    assert client.get("/en/resources/chair-es/").status_code == 404


def test_links_are_symmetrical_and_keep_the_interface_language(client, chair):
    # Linking English to Dutch links Dutch to English; links are not chained further.
    html = client.get("/de/resources/chair-nl/").content.decode()
    assert also_available(html) == [("/de/resources/chair-en/", "en", "en", "English")]


def test_a_resource_without_published_translations_has_no_line(client):
    lonely = ResourceFactory(slug="lonely")
    lonely.translations.add(ResourceFactory(language="de", draft=True))
    html = client.get("/en/resources/lonely/").content.decode()
    assert 'class="translations"' not in html


def test_detail_page_stays_within_eight_queries(client, chair):
    for code in ("es", "pl", "sv"):
        chair.translations.add(ResourceFactory(language=code))
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/en/resources/chair-en/")
    assert response.status_code == 200
    assert len(also_available(response.content.decode())) == 5
    assert len(queries) <= 8, [q["sql"] for q in queries]


def test_the_api_detail_lists_published_translations(client, chair):
    data = client.get("/api/v1/resources/chair-en/", {"ui": "de"}).json()
    assert data["translations"] == [
        {
            "language": "de",
            "slug": "chair-de",
            "html_url": "http://testserver/de/resources/chair-de/",
        },
        {
            "language": "nl",
            "slug": "chair-nl",
            "html_url": "http://testserver/de/resources/chair-nl/",
        },
    ]
    listing = client.get("/api/v1/resources/").json()
    assert all("translations" not in row for row in listing["results"])


# --- the admin form ----------------------------------------------------------------------------


def form_for(resource: Resource, translations: list[Resource]) -> ResourceAdminForm:
    data = {
        name: ("" if value is None else value)
        for name, value in model_to_dict(resource, fields=ResourceAdminForm._meta.fields).items()
    }
    data["organisation"] = resource.organisation_id
    data["translations"] = [other.pk for other in translations]
    return ResourceAdminForm(data=data, instance=resource)


def test_admin_links_resources_in_different_languages(chair):
    polish = ResourceFactory(language="pl")
    form = form_for(chair, [*chair.translations.all(), polish])
    assert form.is_valid(), form.errors
    form.save()
    assert polish.translations.get() == chair


def test_admin_refuses_to_link_a_resource_to_itself(chair):
    form = form_for(chair, [chair])
    assert not form.is_valid()
    assert form.errors["translations"] == [
        "A resource cannot be a translation of itself. Remove it."
    ]


def test_admin_refuses_a_translation_in_the_same_language(chair):
    other_english = ResourceFactory(title="Chair moves", language="en")
    form = form_for(chair, [other_english])
    assert not form.is_valid()
    assert "Chair moves" in form.errors["translations"][0]
    assert "different language" in form.errors["translations"][0]


def test_admin_refuses_two_translations_in_one_language(chair):
    another_german = ResourceFactory(title="Sitzgymnastik", language="de")
    form = form_for(chair, [Resource.objects.get(slug="chair-de"), another_german])
    assert not form.is_valid()
    assert "Sitzgymnastik" in form.errors["translations"][0]


def test_admin_change_page_has_the_languages_group_and_the_caption_fields(editor, chair):
    html = editor.get(f"/admin/resources/resource/{chair.pk}/change/").content.decode()
    assert "Languages" in html
    assert 'name="translations"' in html
    assert 'name="has_captions"' in html
    assert 'name="transcript"' in html
    assert 'name="transcript_url"' in html
