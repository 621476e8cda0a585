"""The advisory readability score editors see, with each language's own formula."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from resources.editorial import readability
from resources.models import Organisation, Resource
from tests.factories import ResourceFactory

# Per language: a clearly easy text (short sentences, short words) and a clearly hard one
# (one long sentence of long, technical words), each at least MIN_WORDS long.
TEXTS = {
    "en": (
        "Sit on a chair. Put your feet flat on the floor. Lift one knee a little. Then put it "
        "down. Do this five times. Now do the same with the other leg. Rest when you need to. "
        "Stop if it hurts. Drink some water. Well done.",
        "Individualised multicomponent exercise interventions, incorporating progressive "
        "resistance training and aerobic conditioning, demonstrate considerable efficacy "
        "regarding cancer-related fatigue amelioration, notwithstanding heterogeneous "
        "methodological characteristics and inconsistent adherence documentation across "
        "randomised controlled investigations involving metastatic populations.",
    ),
    "de": (
        "Setzen Sie sich auf einen Stuhl. Stellen Sie die Füße auf den Boden. Heben Sie ein "
        "Knie an. Dann senken Sie es. Tun Sie das fünf Mal. Dann das andere Bein. Ruhen Sie "
        "sich aus. Hören Sie auf, wenn es weh tut. Trinken Sie Wasser. Gut gemacht.",
        "Individualisierte multimodale Bewegungsinterventionen unter Einbeziehung progressiver "
        "Krafttrainingskomponenten demonstrieren hinsichtlich tumorassoziierter "
        "Erschöpfungssymptomatik beträchtliche Wirksamkeit, ungeachtet heterogener "
        "methodischer Charakteristika randomisierter kontrollierter Untersuchungen bezüglich "
        "metastasierter Patientenpopulationen mit ossärer Beteiligung und unterschiedlicher "
        "Therapieadhärenzdokumentation sowie divergierender Endpunktdefinitionen.",
    ),
    "nl": (
        "Ga op een stoel zitten. Zet je voeten op de grond. Til een knie op. Zet hem dan neer. "
        "Doe dit vijf keer. Dan het andere been. Rust als het moet. Stop als het pijn doet. "
        "Drink wat water. Goed zo.",
        "Geïndividualiseerde multimodale bewegingsinterventies, inclusief progressieve "
        "krachttrainingscomponenten, demonstreren aanzienlijke werkzaamheid betreffende "
        "vermoeidheidsklachten geassocieerd met oncologische aandoeningen, ongeacht "
        "heterogene methodologische karakteristieken van gerandomiseerde gecontroleerde "
        "onderzoeken betreffende gemetastaseerde patiëntenpopulaties met uiteenlopende "
        "therapietrouwregistraties en verschillende eindpuntdefinities.",
    ),
    "es": (
        "Siéntese en una silla. Ponga los pies en el suelo. Suba una rodilla. Luego bájela. "
        "Hágalo cinco veces. Luego la otra pierna. Descanse si lo necesita. Pare si le duele. "
        "Beba agua. Muy bien.",
        "Las intervenciones multicomponentes individualizadas de ejercicio terapéutico, "
        "incorporando entrenamiento progresivo de resistencia y acondicionamiento aeróbico, "
        "demuestran considerable eficacia respecto a la sintomatología de fatiga oncológica, "
        "independientemente de características metodológicas heterogéneas de investigaciones "
        "aleatorizadas controladas en poblaciones metastásicas.",
    ),
    "sv": (
        "Sätt dig på en stol. Sätt fötterna på golvet. Lyft ett knä. Sänk det sen. Gör så fem "
        "gånger. Sen det andra benet. Vila om du vill. Sluta om det gör ont. Drick lite vatten. "
        "Bra jobbat.",
        "Individualiserade multimodala träningsinterventioner, inkluderande progressiva "
        "styrketräningskomponenter, demonstrerar betydande effektivitet beträffande "
        "cancerrelaterad utmattningssymptomatologi, oberoende av heterogena metodologiska "
        "karakteristika hos randomiserade kontrollerade undersökningar gällande metastaserade "
        "patientpopulationer med varierande behandlingsföljsamhetsdokumentation och "
        "divergerande effektmåttsdefinitioner.",
    ),
    "pl": (
        "Usiądź na krześle. Postaw stopy na podłodze. Unieś jedno kolano. Potem je opuść. "
        "Zrób to pięć razy. Potem druga noga. Odpocznij, gdy chcesz. Przestań, gdy boli. "
        "Napij się wody. Dobrze.",
        "Zindywidualizowane wieloskładnikowe interwencje ćwiczeniowe, uwzględniające "
        "progresywne komponenty treningu oporowego, demonstrują znaczącą skuteczność odnośnie "
        "zmęczenia związanego z chorobą nowotworową, niezależnie od heterogenicznych "
        "charakterystyk metodologicznych randomizowanych kontrolowanych badań dotyczących "
        "populacji pacjentów z przerzutami.",
    ),
}


@pytest.fixture(autouse=True)
def _no_downloads(monkeypatch: pytest.MonkeyPatch) -> None:
    """textstat would download NLTK's CMUdict for "en": a page must never reach out."""
    import nltk

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("readability tried to download data")

    monkeypatch.setattr(nltk, "download", refuse)


@pytest.mark.parametrize("language", sorted(TEXTS))
def test_easy_text_scores_easy_and_hard_text_scores_hard(language: str):
    easy_text, hard_text = TEXTS[language]

    easy = readability.score(easy_text, language)
    hard = readability.score(hard_text, language)

    assert easy.words >= readability.MIN_WORDS and hard.words >= readability.MIN_WORDS
    assert easy.band.startswith("Very easy")
    assert hard.band.startswith("Very difficult")
    if easy.formula.higher_is_easier:
        assert easy.score > hard.score
    else:
        assert easy.score < hard.score


def test_each_language_gets_its_own_formula():
    names = {lang: str(readability.FORMULAS[lang].name) for lang in TEXTS}
    assert names == {
        "en": "Flesch reading ease",
        "de": "Flesch reading ease (Amstad, German)",
        "nl": "Flesch reading ease (Douma, Dutch)",
        "es": "Szigriszt-Pazos (INFLESZ)",
        "sv": "LIX",
        "pl": "LIX",
    }
    # The same English-shaped text scores differently under the German constants.
    text = TEXTS["en"][0]
    assert readability.score(text, "en").score != readability.score(text, "de").score


def test_list_items_and_headings_count_as_sentences():
    text = "## Warm up\n\n- Roll your shoulders\n- Turn your head\n- Breathe out slowly"
    assert readability.plain_text(text) == (
        "Warm up. Roll your shoulders. Turn your head. Breathe out slowly."
    )


def test_editor_text_explains_the_score_and_that_it_is_advisory():
    html = readability.for_editors(TEXTS["en"][1], "A summary.", "en")
    assert "Very difficult: reads like an academic paper." in html
    assert "<strong>0</strong>" in html  # below 0 on the scale: shown as 0
    assert "Flesch reading ease of the guide text as last saved" in html
    assert "higher is easier" in html
    assert "Advisory only, never required" in html


def test_polish_score_carries_a_caveat_and_short_texts_are_not_scored():
    assert "LIX was made for Swedish" in readability.for_editors(TEXTS["pl"][0], "", "pl")
    short = readability.for_editors("Sit down. Breathe.", "", "en")
    assert "Too short to score (3 words in the guide text; at least 30 needed)." in short
    assert "No readability formula" in readability.for_editors(TEXTS["en"][0], "", "fr")


def test_without_a_body_the_summary_is_scored():
    html = readability.for_editors("", TEXTS["sv"][0], "sv")
    assert "LIX of the summary" in html
    assert "lower is easier" in html


@pytest.mark.django_db
def test_change_form_shows_the_readability_to_editors(editor: Client):
    resource = ResourceFactory(body=TEXTS["de"][0], language="de")

    page = editor.get(reverse("admin:resources_resource_change", args=[resource.pk]))

    assert page.status_code == 200
    content = page.content.decode()
    assert "Readability" in content
    assert "Very easy: most 11-year-olds can read this." in content
    assert "Flesch reading ease (Amstad, German) of the guide text as last saved" in content
    # Read-only: there is no input to change or enforce it.
    assert 'name="readability"' not in content


@pytest.mark.django_db
def test_a_very_hard_text_is_saved_all_the_same(admin_client: Client):
    """Advisory means advisory: the admin saves a text that scores "very difficult"."""
    organisation = Organisation.objects.create(name="Move More Trust", slug="move-more-trust")
    response = admin_client.post(
        reverse("admin:resources_resource_add"),
        {
            "kind": "guide",
            "title": "Evidence summary",
            "slug": "evidence-summary",
            "summary": "What the trials found.",
            "organisation": organisation.pk,
            "language": "en",
            "body": TEXTS["en"][1],
            "bone_metastasis_safety": "not-reviewed",
            "status": "draft",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    assert Resource.objects.get(slug="evidence-summary").body == TEXTS["en"][1]
