"""Vocabulary names in the visitor's language (django-modeltranslation, migration 0006)."""

from __future__ import annotations

import importlib
import re
from xml.etree import ElementTree

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from resources.models import Tag

from ..factories import ResourceFactory

pytestmark = pytest.mark.django_db

SEED = importlib.import_module("resources.migrations.0002_seed_vocabularies")
TRANSLATE = importlib.import_module("resources.migrations.0006_translate_vocabularies")
LANGUAGES = [code for code, _name in settings.LANGUAGES]
LEVELS = {
    "en": [
        "Bed or chair based",
        "Gentle: seated and supported standing",
        "Moderate",
        "Structured training (supervised)",
    ],
    "pl": [
        "W łóżku lub na krześle",
        "Łagodny: na siedząco i na stojąco z podparciem",
        "Umiarkowany",
        "Trening według planu (pod nadzorem)",
    ],
}
BALANCE = {"en": "Balance", "de": "Gleichgewicht", "nl": "Evenwicht", "sv": "Balans"}


def filter_options(html: str, parameter: str) -> dict[str, str]:
    """The browse form's checkbox labels for one parameter, by value, as a visitor reads them."""
    options = {}
    for value, label in re.findall(
        rf'<input type="checkbox" name="{parameter}" value="([^"]+)"[^>]*>\s*'
        r"<label[^>]*>\s*([^<]+?)\s*<",
        html,
    ):
        options[value] = label
    return options


def card_tags(html: str) -> list[str]:
    """The tag names on the result cards: one line per card and vocabulary, "A, B"."""
    return re.findall(
        r"<dd>([^<]+)</dd>", "".join(re.findall(r'<dl class="card-tags">.*?</dl>', html, re.S))
    )


# --- the seeded terms, straight from the database ---------------------------------------------


def test_every_seeded_term_has_a_name_in_every_language():
    columns = [f"name_{language}" for language in LANGUAGES]
    rows = {(r[0], r[1]): r[2:] for r in Tag.objects.values_list("vocabulary", "slug", *columns)}
    seeded = {(v, slug) for v, terms in SEED.VOCABULARIES.items() for slug, *_ in terms}
    assert seeded <= rows.keys()
    for key in seeded:
        names = dict(zip(LANGUAGES, rows[key], strict=True))
        assert all(name and name.strip() for name in names.values()), (key, names)
        # Translated, not copied: no other language repeats the English name.
        assert all(names[code] != names["en"] for code in LANGUAGES if code != "en"), (key, names)


def test_every_seeded_description_is_translated_where_english_has_one():
    for vocabulary, terms in SEED.VOCABULARIES.items():
        for slug, name, description in terms:
            tag = Tag.objects.get(vocabulary=vocabulary, slug=slug)
            assert (tag.name_en, tag.description_en) == (name, description)
            for language in LANGUAGES:
                translated = getattr(tag, f"description_{language}")
                assert bool(translated) == bool(description), (slug, language, translated)


# --- pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "de", "nl", "sv"])
def test_browse_filter_and_card_name_balance_in_the_pages_language(client: Client, language):
    ResourceFactory(title="Standing steady", tags={"type": ["balance"]})
    html = client.get(f"/{language}/resources/").content.decode()
    assert filter_options(html, "type")["balance"] == BALANCE[language]
    assert BALANCE[language] in card_tags(html)


@pytest.mark.parametrize("language", ["en", "pl"])
def test_browse_lists_the_fitness_levels_in_the_pages_language(client: Client, language):
    ResourceFactory(title="Chair routine", tags={"level": ["bed-or-chair", "moderate"]})
    html = client.get(f"/{language}/resources/").content.decode()
    assert list(filter_options(html, "level").values()) == LEVELS[language]
    bed, _gentle, moderate, _structured = LEVELS[language]
    assert f"{bed}, {moderate}" in card_tags(html)


def test_detail_page_names_the_tags_in_the_pages_language(client: Client):
    resource = ResourceFactory(tags={"level": ["gentle"], "stage": ["metastatic"]})
    with translation.override("es"):
        url = resource.get_absolute_url()
    assert url.startswith("/es/")
    html = client.get(url).content.decode()
    assert "Suave: en posición sentada y de pie con apoyo" in html
    assert "Cáncer de mama metastásico (estadio IV)" in html
    assert "Gentle: seated and supported standing" not in html


def test_a_selected_filter_is_named_in_the_pages_language(client: Client):
    html = client.get("/de/resources/", {"type": "balance"}).content.decode()
    (chip,) = re.findall(r'<a href="\?[^"]*" class="chip">(.*?)</a>', html, re.S)
    assert "Gleichgewicht" in chip
    assert "Balance" not in chip


def test_clinics_link_builder_and_feed_speak_the_visitors_language(client: Client):
    ResourceFactory(title="Standing steady", tags={"type": ["balance"]})
    builder = client.get("/nl/for-clinics/").content.decode()
    assert filter_options(builder, "type")["balance"] == "Evenwicht"
    feed = ElementTree.fromstring(client.get("/de/feeds/rss/").content)
    assert "Gleichgewicht" in [c.text for c in feed.iter("category")]


def test_a_term_without_a_translation_falls_back_to_english(client: Client):
    Tag.objects.filter(vocabulary="type", slug="balance").update(name_de=None)
    Tag.objects.create(vocabulary="type", slug="dance", name_en="Dance", position=9)
    ResourceFactory(title="Steps", tags={"type": ["balance", "dance"]})
    html = client.get("/de/resources/").content.decode()
    assert filter_options(html, "type")["balance"] == "Balance"
    assert filter_options(html, "type")["dance"] == "Dance"
    assert filter_options(html, "type")["strength"] == "Kraft"
    assert "Balance, Dance" in card_tags(html)


@pytest.mark.parametrize("language", ["de", "pl"])
def test_translated_names_cost_no_extra_queries(client: Client, settings, language):
    settings.HUB_PAGE_SIZE = 50
    tags = {"level": ["gentle"], "type": ["balance"], "stage": ["metastatic"]}
    ResourceFactory.create_batch(12, tags=tags)
    with CaptureQueriesContext(connection) as english:
        client.get("/en/resources/")
    with CaptureQueriesContext(connection) as translated:
        client.get(f"/{language}/resources/")
    assert len(translated) == len(english) <= 8


# --- API --------------------------------------------------------------------------------------


def test_api_labels_follow_the_ui_language(client: Client):
    ResourceFactory(slug="steady", tags={"type": ["balance"], "level": ["gentle"]})
    german = client.get("/api/v1/vocabularies/", {"ui": "de"}).json()
    assert {v["slug"]: v["label"] for v in german["types"]["values"]}["balance"] == "Gleichgewicht"
    assert german["levels"]["values"][0]["label"] == "Im Bett oder auf dem Stuhl"
    english = client.get("/api/v1/vocabularies/").json()
    assert {v["slug"]: v["label"] for v in english["types"]["values"]}["balance"] == "Balance"
    results = client.get("/api/v1/resources/", {"ui": "pl"}).json()["results"]
    assert results[0]["exercise_types"] == [{"slug": "balance", "name": "Równowaga"}]
    detail = client.get("/api/v1/resources/steady/", {"ui": "es"}).json()
    assert detail["fitness_levels"] == [
        {"slug": "gentle", "name": "Suave: en posición sentada y de pie con apoyo"}
    ]


# --- admin ------------------------------------------------------------------------------------


def test_admin_resource_filter_names_terms_in_the_editors_language(admin_client: Client):
    html = admin_client.get(
        "/admin/resources/resource/", headers={"accept-language": "de"}
    ).content.decode()
    assert "Gleichgewicht" in html
    assert "Im Bett oder auf dem Stuhl" in html


def test_admin_tag_search_finds_a_term_by_any_languages_name(admin_client: Client):
    for words in ("Równowaga", "Gleichgewicht", "Balance", "balance"):
        html = admin_client.get("/admin/resources/tag/", {"q": words}).content.decode()
        assert "1 result" in html, words


def test_admin_tag_form_has_a_name_per_language_with_the_slug_from_english(admin_client):
    response = admin_client.get("/admin/resources/tag/add/")
    form = response.context["adminform"].form
    for language in LANGUAGES:
        assert f"name_{language}" in form.fields
        assert f"description_{language}" in form.fields
    assert "name" not in form.fields
    assert form.fields["name_en"].required
    assert not form.fields["name_de"].required
    assert admin.site.get_model_admin(Tag).prepopulated_fields == {"slug": ("name_en",)}
    response = admin_client.post(
        "/admin/resources/tag/add/",
        {
            "vocabulary": "type",
            "slug": "dance",
            "name_en": "Dance",
            "name_de": "Tanz",
            "position": 9,
        },
    )
    assert response.status_code == 302
    dance = Tag.objects.get(slug="dance")
    assert (dance.name_en, dance.name_de, dance.name_nl) == ("Dance", "Tanz", None)
    with translation.override("nl"):
        assert dance.name == "Dance"


# --- the data migration -----------------------------------------------------------------------


def test_translating_again_keeps_editors_wording_and_skips_deleted_terms():
    Tag.objects.filter(vocabulary="type", slug="balance").update(name_de="Standfestigkeit")
    Tag.objects.filter(vocabulary="type", slug="flexibility").delete()
    before = set(Tag.objects.values_list("slug", "name_en", "name_de", "name_pl"))
    TRANSLATE.translate(apps, None)
    TRANSLATE.translate(apps, None)
    assert set(Tag.objects.values_list("slug", "name_en", "name_de", "name_pl")) == before
    assert not Tag.objects.filter(slug="flexibility").exists()


def test_reversing_the_migration_empties_the_other_languages_and_keeps_english():
    TRANSLATE.untranslate(apps, None)
    with translation.override("de"):
        assert Tag.objects.get(vocabulary="type", slug="balance").name == "Balance"
    assert not Tag.objects.exclude(name_de=None).exists()
    assert not Tag.objects.exclude(description_sv=None).exists()
    TRANSLATE.translate(apps, None)
    with translation.override("de"):
        assert Tag.objects.get(vocabulary="type", slug="balance").name == "Gleichgewicht"
