"""The embeddable widget (/embed/resources/): what a partner's visitor sees inside the frame,
who may frame it, and that it leaves no trace (no cookies, no forms, no scripts)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from resources.catalogue.filters import canonical_query
from resources.models import BoneSafety, Partner

from ..factories import ResourceFactory

pytestmark = pytest.mark.django_db

WIDGET = "/embed/resources/"


def titles(response) -> list[str]:
    """Resource titles in the order a visitor reads them, in the widget or on the browse page."""
    return re.findall(
        r'<h[23] class="(?:embed-item-title|card-title)"[^>]*>\s*<a [^>]*>([^<]+)</a>',
        response.content.decode(),
    )


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.anchors.append(dict(attrs))


def links(response) -> list[dict[str, str | None]]:
    parser = Links()
    parser.feed(response.content.decode())
    return parser.anchors


def see_all_url(response) -> str:
    (href,) = re.findall(
        r'<a href="([^"]*)"[^>]*>See all on the hub</a>', response.content.decode()
    )
    return href.replace("&amp;", "&")


def policy(response) -> dict[str, str]:
    """The Content-Security-Policy header as {directive: sources}."""
    directives = (part.strip() for part in response.headers["Content-Security-Policy"].split(";"))
    return dict(part.split(" ", 1) for part in directives if part)


def partner(name: str, origins: str, *, active: bool = True) -> Partner:
    return Partner.objects.create(name=name, slug=name.lower(), origins=origins, active=active)


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"level": "gentle"},
        {"level": ["moderate", "gentle"], "bone": "suitable"},
        {"lang": ["de", "en"], "type": "balance"},
        {"q": "chair"},
    ],
    ids=["everything", "one-filter", "or-and", "languages", "search"],
)
def test_widget_lists_what_the_browse_page_lists_in_the_same_order(client, query):
    ResourceFactory(title="Chair balance", tags={"level": ["gentle"], "type": ["balance"]})
    ResourceFactory(title="Armchair strength", tags={"level": ["gentle"], "type": ["strength"]})
    ResourceFactory(
        title="Brisk walking",
        bone_metastasis_safety=BoneSafety.CLEARANCE_NEEDED,
        tags={"level": ["moderate"], "type": ["aerobic"]},
    )
    ResourceFactory(
        title="Gleichgewicht im Sitzen (chair)",
        language="de",
        tags={"level": ["gentle"], "type": ["balance"]},
    )
    ResourceFactory(title="Ausdauer", language="de", tags={"level": ["moderate"]})

    widget = client.get(WIDGET, {**query, "ui": "en"})
    assert widget.status_code == 200
    assert titles(widget), "the query should match something, or the test proves nothing"

    # "See all on the hub" leads to the browse page with the same filters, showing the same.
    browse = client.get(see_all_url(widget), follow=True)
    assert browse.status_code == 200
    assert titles(widget) == titles(browse)


def test_widget_orders_by_the_visitors_language_like_the_browse_page(client):
    ResourceFactory(title="Balance at the sink")
    ResourceFactory(title="Sanfte Bewegung", language="de")
    german = client.get(WIDGET, headers={"accept-language": "de"})
    assert titles(german) == ["Sanfte Bewegung", "Balance at the sink"]
    assert titles(german) == titles(client.get("/de/resources/"))


def test_widget_shows_one_page_and_links_to_the_canonical_browse_address(client, settings):
    settings.HUB_PAGE_SIZE = 2
    for number in range(3):
        ResourceFactory(title=f"Gentle {number}", tags={"level": ["gentle"]})
    ResourceFactory(title="Moderate", tags={"level": ["moderate"]})

    response = client.get(
        WIDGET + "?level=gentle&bone=suitable&level=gentle&page=3&ui=en&utm_source=clinic"
    )

    assert titles(response) == ["Gentle 0", "Gentle 1"]
    assert "3 resources match; the first 2 are shown here." in response.content.decode()
    # The browse page's one canonical address: de-duplicated, no page, no widget language,
    # no unknown parameter.
    assert see_all_url(response) == "/en/resources/?" + canonical_query(
        QueryDict("bone=suitable&level=gentle")
    )
    assert "gentle&level" not in see_all_url(response)
    assert not {"page", "ui", "utm_source"} & set(QueryDict(see_all_url(response).split("?")[1]))


def test_unfiltered_widget_links_to_the_plain_browse_page(client):
    ResourceFactory(title="Walking")
    response = client.get(WIDGET, {"ui": "en", "page": "2"})
    assert "1 resource matches." in response.content.decode()
    assert see_all_url(response) == "/en/resources/"


def test_a_selection_without_results_says_so(client):
    ResourceFactory(title="Walking", tags={"level": ["moderate"]})
    response = client.get(WIDGET, {"level": "bed-or-chair"})
    assert response.status_code == 200
    assert titles(response) == []
    assert "No resources match this selection yet." in response.content.decode()


def test_unpublished_resources_are_absent(client):
    ResourceFactory(title="Public walk")
    ResourceFactory(title="Draft walk", draft=True)
    ResourceFactory(title="In review walk", in_review=True)
    ResourceFactory(title="Archived walk", archived=True)
    ResourceFactory(title="Scheduled walk", scheduled=True)
    ResourceFactory(title="Unreviewed walk", unreviewed=True)
    response = client.get(WIDGET)
    assert titles(response) == ["Public walk"]
    html = response.content.decode()
    for hidden in ("Draft", "In review", "Archived", "Scheduled", "Unreviewed"):
        assert f"{hidden} walk" not in html
    assert "1 resource matches." in html


def test_each_item_shows_its_kind_duration_and_safety_rating_in_words_with_an_icon(client):
    ResourceFactory(title="Seated strength", duration_minutes=25)
    ResourceFactory(
        title="Supervised classes",
        programme=True,
        duration_minutes=None,
        bone_metastasis_safety=BoneSafety.CLEARANCE_NEEDED,
    )
    html = client.get(WIDGET).content.decode()
    seated, classes = html.split('<li class="embed-item">')[1:]

    assert "Written guide" in seated
    assert "25 minutes" in seated
    assert "Generally suitable" in seated
    assert "#safety-suitable" in seated
    assert "callout" not in seated

    assert "Supervised programme" in classes
    assert "minute" not in classes
    assert "Only with clinician clearance or supervision" in classes
    assert "#safety-clearance-needed" in classes
    assert "callout-compact" in classes
    assert "only after your team says it is safe, or with supervision" in classes


def test_titles_link_to_the_detail_page_in_the_top_window(client):
    resource = ResourceFactory(title="Seated strength")
    (anchor,) = [a for a in links(client.get(WIDGET)) if a["href"] == resource.get_absolute_url()]
    assert anchor["href"] == f"/en/resources/{resource.slug}/"
    assert anchor["target"] == "_top"


@pytest.mark.parametrize("query", ["", "?level=gentle", "?level=nope", "?kind=video"])
def test_every_link_opens_in_the_top_window(client, query):
    ResourceFactory(tags={"level": ["gentle"]}, bone_metastasis_safety=BoneSafety.NOT_RECOMMENDED)
    response = client.get(WIDGET + query)
    anchors = links(response)
    assert anchors
    assert [a for a in anchors if a.get("target") != "_top"] == []


@pytest.mark.parametrize("query", ["", "?level=gentle", "?level=nope"])
def test_widget_sets_no_cookie_and_has_no_form_or_script(client, query):
    ResourceFactory(tags={"level": ["gentle"]})
    response = client.get(WIDGET + query)
    html = response.content.decode()
    assert not response.cookies
    assert "Set-Cookie" not in response.headers
    assert "<form" not in html
    assert "<script" not in html
    assert "style=" not in html
    assert len(re.findall(r"<h1[\s>]", html)) == 1
    assert 'id="main"' in html


def test_frame_ancestors_lists_exactly_the_active_partners_origins(client):
    partner(
        "Royal Clinic", "https://www.royal-clinic.example\nhttps://patients.royal-clinic.example/"
    )
    partner("City Hospital", "https://city-hospital.example:8443\nhttps://www.royal-clinic.example")
    partner("Former Partner", "https://former.example", active=False)

    for query in ("", "?level=gentle", "?level=nope"):  # the "wrong link" page too
        response = client.get(WIDGET + query)
        assert policy(response)["frame-ancestors"] == (
            "https://city-hospital.example:8443 https://patients.royal-clinic.example "
            "https://www.royal-clinic.example"
        )
        assert "X-Frame-Options" not in response.headers


def test_rest_of_the_widget_policy_is_the_sites_policy(client):
    partner("Royal Clinic", "https://www.royal-clinic.example")
    widget = policy(client.get(WIDGET))
    site = policy(client.get("/en/"))
    assert widget.pop("frame-ancestors") == "https://www.royal-clinic.example"
    assert site.pop("frame-ancestors") == "'none'"
    assert widget == site
    assert widget["script-src"] == "'self'"


def test_without_active_partners_nobody_may_frame_the_widget(client):
    partner("Former Partner", "https://former.example", active=False)
    partner("No Website Yet", "")
    assert policy(client.get(WIDGET))["frame-ancestors"] == "'none'"


def test_a_malformed_origin_never_reaches_the_header(client):
    # Written around Partner.clean(), as a shell or a data migration could.
    partner(
        "Sloppy",
        "https://ok.example\nhttps://evil.example; script-src *\n*\nhttps://a.example/path",
    )
    response = client.get(WIDGET)
    assert policy(response)["frame-ancestors"] == "https://ok.example"
    assert policy(response)["script-src"] == "'self'"


def test_every_other_page_still_refuses_to_be_framed(client):
    partner("Royal Clinic", "https://www.royal-clinic.example")
    resource = ResourceFactory()
    for url in ("/en/", "/en/resources/", resource.get_absolute_url(), "/de/about/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert policy(response)["frame-ancestors"] == "'none'", url
        assert response.headers["X-Frame-Options"] == "DENY", url
    admin = client.get("/admin/login/")
    assert policy(admin)["frame-ancestors"] == "'none'"
    assert admin.headers["X-Frame-Options"] == "DENY"


def test_language_follows_the_visitors_browser(client):
    resource = ResourceFactory(tags={"level": ["gentle"]})
    response = client.get(
        WIDGET, {"level": "gentle"}, headers={"accept-language": "de-DE,de;q=0.9"}
    )
    html = response.content.decode()
    assert '<html lang="de">' in html
    assert response.headers["Content-Language"] == "de"
    assert "Accept-Language" in response.headers["Vary"]
    assert f'href="/de/resources/{resource.slug}/"' in html
    assert all(a["href"].startswith("/de/") for a in links(response))
    response = client.get(WIDGET, headers={"accept-language": "sv"})
    assert f'href="/sv/resources/{resource.slug}/"' in response.content.decode()


def test_ui_parameter_overrides_the_browser_language(client):
    resource = ResourceFactory()
    response = client.get(WIDGET, {"ui": "nl"}, headers={"accept-language": "de"})
    html = response.content.decode()
    assert '<html lang="nl">' in html
    assert response.headers["Content-Language"] == "nl"
    assert f'href="/nl/resources/{resource.slug}/"' in html
    assert 'href="/nl/resources/"' in html
    assert all(a["href"].startswith("/nl/") for a in links(response))


def test_an_unknown_browser_language_falls_back_to_english(client):
    ResourceFactory()
    response = client.get(WIDGET, headers={"accept-language": "fr-FR,fr;q=0.9"})
    assert '<html lang="en">' in response.content.decode()


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ({"level": "nope"}, "Fitness level"),
        ({"bone": "not-reviewed"}, "Safety with bone metastases"),  # exists, never public
        ({"kind": "podcast"}, "Format"),
        ({"lang": "fr"}, "Language of the resource"),
        ({"level": ["gentle", "<script>"]}, "Fitness level"),
        ({"q": "x" * 201}, "Search"),
        ({"ui": "fr"}, "Language of the page"),
        ({"ui": "<b>"}, "Language of the page"),
    ],
)
def test_a_wrong_link_is_a_400_that_says_so_and_lists_nothing(client, query, problem):
    ResourceFactory(title="Gentle walk", tags={"level": ["gentle"]})
    response = client.get(WIDGET, query)
    assert response.status_code == 400
    html = response.content.decode()
    assert "This link to the hub is not right" in html
    assert f"Not understood:\n        {problem}" in html
    assert titles(response) == []
    assert "Gentle walk" not in html
    assert "<script>" not in html and "<b>" not in html
    assert len(re.findall(r"<h1[\s>]", html)) == 1


def test_widget_answers_only_safe_methods(client):
    assert client.post(WIDGET).status_code == 405
    assert client.head(WIDGET).status_code == 200


@pytest.mark.parametrize("query", ["", "?level=gentle&level=moderate&type=balance&bone=suitable"])
def test_widget_query_count_does_not_grow_with_the_page(client, settings, query):
    settings.HUB_PAGE_SIZE = 20
    for number in range(30):
        ResourceFactory(
            title=f"Resource {number}",
            tags={"level": ["gentle", "moderate"], "type": ["balance"], "stage": ["metastatic"]},
        )
    for number in range(3):
        partner(f"Partner{number}", f"https://p{number}.example\nhttps://www.p{number}.example")

    with CaptureQueriesContext(connection) as queries:
        response = client.get(WIDGET + query)
    assert response.status_code == 200
    assert len(titles(response)) == 20
    assert len(queries) <= 8, "\n".join(q["sql"] for q in queries.captured_queries)


def test_wrong_link_query_count(client):
    partner("Royal Clinic", "https://www.royal-clinic.example")
    with CaptureQueriesContext(connection) as queries:
        assert client.get(WIDGET, {"level": "nope"}).status_code == 400
    assert len(queries) <= 8
