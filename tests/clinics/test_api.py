"""The JSON API (/api/v1/): what a clinic's website or app receives, and what it never does."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from resources.models import BoneSafety, Kind

from ..factories import YOUTUBE_URL, ResourceFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/resources/"
VOCABULARIES = "/api/v1/vocabularies/"


def detail(slug: str) -> str:
    return f"/api/v1/resources/{slug}/"


def browse_page_slugs(client, language: str, query: dict) -> list[str]:
    """The slugs of the result cards on the browse page, in the order a visitor reads them."""
    response = client.get(f"/{language}/resources/", query, follow=True)  # to the canonical URL
    html = response.content.decode()
    return re.findall(
        rf'<h3 class="card-title"[^>]*>\s*<a href="/{language}/resources/([^/"]+)/">', html
    )


def api_slugs(response) -> list[str]:
    return [result["slug"] for result in response.json()["results"]]


@pytest.fixture
def catalogue():
    """A small catalogue with something for every filter, in two languages."""
    ResourceFactory(
        title="Seated breathing",
        tags={"level": ["bed-or-chair"], "type": ["breathing"], "stage": ["metastatic"]},
    )
    ResourceFactory(
        title="Gentle balance",
        tags={"level": ["gentle"], "type": ["balance"], "stage": ["metastatic"]},
    )
    ResourceFactory(
        title="Sanftes Gleichgewicht",
        language="de",
        tags={"level": ["gentle"], "type": ["balance"], "stage": ["metastatic"]},
    )
    ResourceFactory(
        title="Ausdauer im Sitzen",
        language="de",
        kind=Kind.VIDEO,
        url=YOUTUBE_URL,
        body="",
        tags={"level": ["gentle", "moderate"], "type": ["aerobic"]},
    )
    ResourceFactory(
        title="Moderate walking",
        bone_metastasis_safety=BoneSafety.WITH_MODIFICATIONS,
        tags={"level": ["moderate"], "type": ["aerobic"], "stage": ["early"]},
    )
    ResourceFactory(
        title="Strength with a band",
        bone_metastasis_safety=BoneSafety.CLEARANCE_NEEDED,
        tags={"level": ["structured"], "type": ["strength"]},
    )
    ResourceFactory(title="Draft walking plan", draft=True, tags={"level": ["gentle"]})


BROWSE_QUERIES = [
    {},
    {"level": ["gentle", "moderate"]},
    {"level": "gentle", "type": "balance"},
    {"level": "gentle", "bone": "suitable", "lang": "de"},
    {"bone": ["with-modifications", "clearance-needed"]},
    {"kind": "video"},
    {"stage": "metastatic", "utm_source": "leaflet"},
    {"q": "walking"},
    {"q": "balance", "lang": ["de", "en"]},
]


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("query", BROWSE_QUERIES)
def test_list_gives_the_browse_pages_resources_in_the_same_order(
    client, catalogue, query, language
):
    expected = browse_page_slugs(client, language, query)
    response = client.get(LIST, {**query, "ui": language})
    assert response.status_code == 200
    assert api_slugs(response) == expected
    assert response.json()["count"] == len(expected)


def test_gentle_suitable_german_is_what_the_german_browse_page_lists(client, catalogue):
    query = {"level": "gentle", "bone": "suitable", "lang": "de", "ui": "de"}
    data = client.get(LIST, query).json()
    assert [result["title"] for result in data["results"]] == [
        "Ausdauer im Sitzen",
        "Sanftes Gleichgewicht",
    ]
    assert api_slugs(client.get(LIST, query)) == browse_page_slugs(client, "de", query)


def test_the_ui_language_puts_its_resources_first_as_on_that_browse_page(client, catalogue):
    english_first = [r["language"] for r in client.get(LIST).json()["results"]]
    german_first = [r["language"] for r in client.get(LIST, {"ui": "de"}).json()["results"]]
    assert english_first == ["en"] * 4 + ["de"] * 2
    assert german_first == ["de"] * 2 + ["en"] * 4


def test_a_result_carries_what_the_detail_page_shows(client):
    resource = ResourceFactory(
        title="Chair yoga",
        kind=Kind.VIDEO,
        url=YOUTUBE_URL,
        body="",
        duration_minutes=12,
        organisation__name="Move Charity",
        organisation__website="https://move.example.org/",
        organisation__country="NL",
        bone_metastasis_safety=BoneSafety.WITH_MODIFICATIONS,
        reviewed_by="A. Jansen, physiotherapist",
        tags={"level": ["gentle"], "stage": ["metastatic"], "type": ["flexibility"]},
    )
    [result] = client.get(LIST).json()["results"]
    # The detail adds only the links to translations (editorial/test_resource_translations.py).
    assert {**result, "translations": []} == client.get(detail(resource.slug)).json()
    assert result["slug"] == resource.slug
    assert result["title"] == "Chair yoga"
    assert result["kind"] == "video"
    assert result["url"] == YOUTUBE_URL
    assert result["html_url"] == f"http://testserver/en/resources/{resource.slug}/"
    assert result["language"] == "en"
    assert result["duration_minutes"] == 12
    assert result["organisation"] == {
        "name": "Move Charity",
        "website": "https://move.example.org/",
        "country": "NL",
    }
    assert result["fitness_levels"] == [
        {"slug": "gentle", "name": "Gentle: seated and supported standing"}
    ]
    assert [tag["slug"] for tag in result["cancer_stages"]] == ["metastatic"]
    assert [tag["slug"] for tag in result["exercise_types"]] == ["flexibility"]
    assert result["bone_metastasis_safety"] == {
        "slug": "with-modifications",
        "label": "Suitable with modifications",
    }
    assert result["rating_is_provisional"] is False
    assert result["reviewed_by"] == "A. Jansen, physiotherapist"
    assert result["reviewed_on"] == resource.reviewed_on.isoformat()
    assert result["next_review_due"] == resource.next_review_due.isoformat()
    assert result["published_at"].startswith(resource.published_at.date().isoformat())
    assert result["video"] == {
        "provider": "youtube",
        "id": "vtA1R87lkv8",
        "embed_url": "https://www.youtube-nocookie.com/embed/vtA1R87lkv8?autoplay=1&rel=0",
    }


def test_a_guide_has_no_video_and_no_external_url(client):
    resource = ResourceFactory(organisation__website="", organisation__country="")
    data = client.get(detail(resource.slug)).json()
    assert data["video"] is None
    assert data["url"] is None
    assert data["organisation"]["website"] is None
    assert data["organisation"]["country"] is None


def test_html_url_and_labels_follow_the_ui_language(client):
    resource = ResourceFactory()
    data = client.get(detail(resource.slug), {"ui": "de"}).json()
    assert data["html_url"] == f"http://testserver/de/resources/{resource.slug}/"


def test_a_provisional_rating_names_no_reviewer_and_no_review_dates(client):
    resource = ResourceFactory(provisional=True)
    data = client.get(detail(resource.slug)).json()
    assert data["rating_is_provisional"] is True
    assert data["reviewed_by"] is None
    assert data["reviewed_on"] is None
    assert data["next_review_due"] is None


def test_internal_fields_are_never_exposed(client):
    resource = ResourceFactory(review_notes="Secret: check the evidence again.")
    body = client.get(detail(resource.slug)).content.decode()
    listing = client.get(LIST).content.decode()
    for text in (body, listing):
        assert "Secret" not in text
        assert "review_notes" not in text
        assert '"status"' not in text
        assert "published" not in text.replace("published_at", "")


UNPUBLISHED = {
    "draft": {"draft": True},
    "in review": {"in_review": True},
    "archived": {"archived": True},
    "scheduled for next week": {"scheduled": True},
    "not reviewed": {"unreviewed": True},
}


@pytest.mark.parametrize("traits", UNPUBLISHED.values(), ids=UNPUBLISHED.keys())
def test_unpublished_resources_are_absent_from_list_search_and_detail(client, traits):
    ResourceFactory(title="Public walking", tags={"level": ["gentle"]})
    hidden = ResourceFactory(title="Hidden walking", tags={"level": ["gentle"]}, **traits)
    for query in ({}, {"q": "walking"}, {"level": "gentle"}, {"q": "Hidden"}):
        response = client.get(LIST, query)
        assert response.status_code == 200
        assert hidden.slug not in api_slugs(response)
        assert "Hidden" not in response.content.decode()
    assert api_slugs(client.get(LIST))  # the public one is there
    response = client.get(detail(hidden.slug))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert "Hidden" not in response.content.decode()


def test_a_missing_resource_is_a_json_404(client):
    for slug in ("no-such-resource", "%C3%A4%00", "x" * 300):
        response = client.get(detail(slug))
        assert response.status_code == 404
        assert set(response.json()) == {"detail"}


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"level": "nope"}, "level"),
        ({"stage": "stage-5"}, "stage"),
        ({"bone": "not-reviewed"}, "bone"),  # exists, but is never public
        ({"type": "yoga"}, "type"),
        ({"kind": "podcast"}, "kind"),
        ({"lang": "fr"}, "lang"),
        ({"level": ["gentle", "<script>"]}, "level"),
        ({"q": "walk\x00"}, "q"),
        ({"q": "x" * 201}, "q"),
        ({"page": "abc"}, "page"),
        ({"page": "0"}, "page"),
        ({"ui": "fr"}, "ui"),
    ],
)
def test_an_unknown_value_is_a_400_naming_the_parameter(client, query, parameter):
    ResourceFactory(tags={"level": ["gentle"]})
    response = client.get(LIST, query)
    assert response.status_code == 400
    data = response.json()
    assert data["detail"]
    assert list(data["errors"]) == [parameter]
    assert all(isinstance(message, str) and message for message in data["errors"][parameter])
    assert "results" not in data


def test_the_400_explains_the_unknown_filter_value(client):
    data = client.get(LIST, {"level": ["gentle", "nope"], "kind": "guide"}).json()
    assert data["errors"] == {
        "level": ["Select a valid choice. nope is not one of the available choices."]
    }
    assert "/api/v1/vocabularies/" in data["detail"]


def test_an_unknown_ui_language_is_a_400_on_every_endpoint(client):
    resource = ResourceFactory()
    for url in (LIST, detail(resource.slug), VOCABULARIES):
        response = client.get(url, {"ui": "xx"})
        assert response.status_code == 400, url
        assert list(response.json()["errors"]) == ["ui"]


def test_pagination_keeps_the_filters_and_links_the_neighbouring_pages(client, settings):
    settings.HUB_PAGE_SIZE = 2
    for number in range(5):
        ResourceFactory(title=f"Gentle {number}", tags={"level": ["gentle"]})
    ResourceFactory(title="Moderate", tags={"level": ["moderate"]})

    first = client.get(LIST, {"level": "gentle"}).json()
    assert (first["count"], first["page"], first["pages"]) == (5, 1, 3)
    assert [r["title"] for r in first["results"]] == ["Gentle 0", "Gentle 1"]
    assert first["previous"] is None
    assert first["next"] == "http://testserver/api/v1/resources/?level=gentle&page=2"

    second = client.get(first["next"]).json()
    assert [r["title"] for r in second["results"]] == ["Gentle 2", "Gentle 3"]
    assert second["previous"] == "http://testserver/api/v1/resources/?level=gentle&page=1"

    last = client.get(second["next"]).json()
    assert [r["title"] for r in last["results"]] == ["Gentle 4"]
    assert last["next"] is None


def test_every_page_of_the_list_matches_the_same_page_of_the_browse_page(client, settings):
    settings.HUB_PAGE_SIZE = 3
    for number in range(7):
        ResourceFactory(title=f"Walk {number % 3}", language=["en", "de"][number % 2])
    for page in (1, 2, 3):
        expected = browse_page_slugs(client, "en", {"page": page})
        assert api_slugs(client.get(LIST, {"page": page})) == expected
        assert len(expected) == (1 if page == 3 else 3)


@pytest.mark.parametrize("page", ["2", "99", "1000000000000000000000"])
def test_a_page_past_the_end_is_a_json_404(client, page):
    ResourceFactory()
    response = client.get(LIST, {"page": page})
    assert response.status_code == 404
    assert response.json() == {"detail": "There is no such page of results."}


def test_an_empty_result_is_page_one_of_one(client):
    data = client.get(LIST, {"level": "structured"}).json()
    assert data == {
        "count": 0,
        "page": 1,
        "pages": 1,
        "next": None,
        "previous": None,
        "results": [],
    }


def test_vocabularies_list_every_parameters_public_values(client):
    response = client.get(VOCABULARIES)
    assert response.status_code == 200
    data = response.json()
    assert {name: vocabulary["parameter"] for name, vocabulary in data.items()} == {
        "levels": "level",
        "stages": "stage",
        "bone_safety": "bone",
        "types": "type",
        "kinds": "kind",
        "languages": "lang",
    }

    def slugs(name: str) -> list[str]:
        return [value["slug"] for value in data[name]["values"]]

    assert slugs("levels") == ["bed-or-chair", "gentle", "moderate", "structured"]
    assert slugs("stages") == ["early", "locally-advanced", "metastatic"]
    assert slugs("types") == ["aerobic", "strength", "balance", "flexibility", "breathing"]
    assert slugs("bone_safety") == [
        "suitable",
        "with-modifications",
        "clearance-needed",
        "not-recommended",
    ]
    assert "not-reviewed" not in response.content.decode()
    assert slugs("kinds") == ["video", "guide", "link", "programme"]
    assert slugs("languages") == ["en", "de", "nl", "es", "pl", "sv"]
    assert data["bone_safety"]["label"] == "Safety with bone metastases"
    assert data["bone_safety"]["values"][0]["label"] == "Generally suitable"
    assert data["languages"]["values"][1] == {"slug": "de", "label": "German"}


def test_every_vocabulary_value_is_accepted_by_the_list(client):
    vocabularies = client.get(VOCABULARIES).json()
    for vocabulary in vocabularies.values():
        for value in vocabulary["values"]:
            response = client.get(LIST, {vocabulary["parameter"]: value["slug"]})
            assert response.status_code == 200, (vocabulary["parameter"], value["slug"])


API_ADDRESSES = [
    LIST,
    f"{LIST}?level=nope",
    f"{LIST}?page=99",
    "/api/v1/resources/no-such-slug/",
    VOCABULARIES,
    "/api/v1/openapi.json",
    "/api/v1/docs",
    "/api/v1/",
    "/api/v1/no-such-endpoint/",
]


@pytest.mark.parametrize("url", API_ADDRESSES)
def test_any_origin_may_read_every_api_response_and_no_cookie_is_set(client, url):
    response = client.get(url, headers={"Origin": "https://clinic.example.org"})
    assert response.status_code in {200, 400, 404}
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response
    assert not response.cookies
    assert "Set-Cookie" not in response


def test_a_cors_preflight_is_answered_for_reading_only(client):
    response = client.options(
        LIST,
        headers={
            "Origin": "https://clinic.example.org",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "Accept-Language, X-Requested-With",
        },
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert response["Access-Control-Allow-Headers"] == "Accept-Language, X-Requested-With"
    assert "Access-Control-Allow-Credentials" not in response
    assert not response.cookies


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_writing_is_not_allowed(client, method):
    resource = ResourceFactory()
    for url in (LIST, detail(resource.slug), "/api/v1/openapi.json"):
        response = getattr(client, method)(url, {}, content_type="application/json")
        assert response.status_code == 405, url
        assert response["Allow"] == "GET, HEAD, OPTIONS"
        assert response.json() == {"detail": "Method not allowed."}


def test_head_answers_like_get_without_a_body(client):
    ResourceFactory()
    response = client.head(LIST)
    assert response.status_code == 200
    assert response.content == b""
    assert int(response["Content-Length"]) == len(client.get(LIST).content)


def test_an_unknown_api_address_is_a_json_404(client):
    for url in ("/api/v1/", "/api/v1/no-such-endpoint/", "/api/v1/resources/a/b/"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "/api/v1/docs" in response.json()["detail"]


def test_an_address_without_its_final_slash_is_redirected(client):
    response = client.get("/api/v1/resources?level=gentle")
    assert response.status_code == 301
    assert response["Location"] == "/api/v1/resources/?level=gentle"


def test_list_query_count_does_not_grow_with_the_page_size(client, settings):
    settings.HUB_PAGE_SIZE = 50
    tags = {"level": ["gentle"], "type": ["balance"], "stage": ["metastatic"]}
    ResourceFactory.create_batch(3, tags=tags)
    with CaptureQueriesContext(connection) as few:
        assert len(api_slugs(client.get(LIST))) == 3
    ResourceFactory.create_batch(22, tags=tags, kind=Kind.VIDEO, url=YOUTUBE_URL, body="")
    with CaptureQueriesContext(connection) as many:
        assert len(api_slugs(client.get(LIST))) == 25
    with CaptureQueriesContext(connection) as filtered:
        response = client.get(
            LIST,
            {
                "level": ["gentle", "moderate"],
                "stage": "metastatic",
                "bone": "suitable",
                "type": "balance",
                "kind": ["guide", "video"],
                "lang": "en",
                "q": "chair",
                "ui": "de",
            },
        )
        assert len(api_slugs(response)) == 25
    assert len(few) == len(many) <= 8
    assert len(filtered) <= 8


def test_detail_and_vocabularies_take_few_queries(client):
    resource = ResourceFactory(tags={"level": ["gentle"], "type": ["balance"]})
    with CaptureQueriesContext(connection) as queries:
        client.get(detail(resource.slug))
    assert len(queries) <= 3  # the resource, its tags, its published translations
    with CaptureQueriesContext(connection) as queries:
        client.get(VOCABULARIES)
    assert len(queries) == 1


def test_resource_published_a_moment_ago_is_listed_and_one_scheduled_is_not(client):
    ResourceFactory(title="Now", published_at=timezone.now() - timedelta(seconds=5))
    ResourceFactory(title="Soon", published_at=timezone.now() + timedelta(minutes=5))
    assert [r["title"] for r in client.get(LIST).json()["results"]] == ["Now"]


def test_the_openapi_schema_declares_the_browse_parameters(client):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/resources/"]["get"]
    parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
    # Derived from the browse page's filters: every browse parameter, then the API's own two.
    assert list(parameters) == [
        *("level", "stage", "bone", "type", "kind", "lang", "captions", "q", "site"),
        *("hide_conflicts", "page", "ui"),
    ]
    for name in ("level", "stage", "bone", "type", "kind", "lang", "site"):
        assert parameters[name]["schema"]["type"] == "array"
        assert parameters[name]["required"] is False
    assert "not-reviewed" not in parameters["bone"]["schema"]["items"]["enum"]
    assert set(operation["responses"]) == {"200", "400", "404"}


def test_the_docs_page_loads_swagger_ui_from_our_own_origin_without_inline_code(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    scripts = re.findall(r"<script([^>]*)>", html)
    sources = [re.search(r'src="([^"]+)"', attributes) for attributes in scripts]
    executable = [
        attributes for attributes in scripts if 'type="application/json"' not in attributes
    ]
    assert executable and all('src="/static/' in attributes for attributes in executable)
    assert any(match and "swagger-ui-bundle" in match.group(1) for match in sources)
    assert "cdn" not in html.lower()
    assert "style=" not in html
    assert response["X-Robots-Tag"] == "noindex"
    assert "default-src 'self'" in response["Content-Security-Policy"]
