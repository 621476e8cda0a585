"""For clinics: the link builder, its QR codes and the printable handout."""

from __future__ import annotations

import html
import io
import re
import xml.etree.ElementTree as ET

import factory
import pytest
import segno
import zxingcpp
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.translation import gettext, ngettext
from PIL import Image

from resources.clinics.links import PICKER_SIZE
from resources.models import BoneSafety, Partner, Status

from ..factories import ResourceFactory

pytestmark = pytest.mark.django_db

GENTLE_SUITABLE_GERMAN = {"level": "gentle", "bone": "suitable", "lang": "de"}
CANONICAL = "http://testserver/de/resources/?bone=suitable&lang=de&level=gentle"
SVG = "{http://www.w3.org/2000/svg}"


def decode_png(content: bytes) -> list[str]:
    """What a phone camera would read from the image (zxing-cpp, a real QR decoder)."""
    return [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(content)))]


def png_modules(content: bytes, scale: int = 10, border: int = 4) -> list[list[bool]]:
    """The dark and light modules drawn in the PNG, read from its pixels."""
    image = Image.open(io.BytesIO(content)).convert("L")
    size = image.width // scale - 2 * border
    return [
        [
            image.getpixel(((border + x) * scale + scale // 2, (border + y) * scale + scale // 2))
            < 128
            for x in range(size)
        ]
        for y in range(size)
    ]


def built_urls(response) -> list[str]:
    """The addresses the builder offers to share."""
    found = re.findall(r'<p class="built-url">\s*<a href="([^"]+)"', response.content.decode())
    return [html.unescape(url) for url in found]


def embed_snippet(response) -> str:
    match = re.search(r"<textarea[^>]*>(.*?)</textarea>", response.content.decode(), re.S)
    assert match, "no embed snippet on the page"
    return html.unescape(match.group(1))


@pytest.fixture
def partner() -> Partner:
    return Partner.objects.create(name="St Example Hospital", slug="st-example")


# The link builder page


def test_builder_without_parameters_shows_only_the_form(client):
    ResourceFactory(title="Chair yoga")
    response = client.get("/en/for-clinics/")
    assert response.status_code == 200
    page = response.content.decode()
    assert ">Build link</button>" in page
    assert "Your link" not in page
    assert page.count('<fieldset class="facet">') == 7  # six filters, individual resources
    assert "Chair yoga" in page
    for input_id in re.findall(r'<input type="checkbox"[^>]* id="([^"]+)"', page):
        assert f'<label for="{input_id}">' in page


@pytest.mark.parametrize("language", ["en", "de"])
def test_builder_gives_the_canonical_address_for_gentle_suitable_german(client, language):
    ResourceFactory(language="de", tags={"level": ["gentle"]})
    # Parameters in any order, with an empty one: the address is the canonical one.
    response = client.get(
        f"/{language}/for-clinics/",
        {"lang": "de", "level": ["gentle", "gentle"], "bone": "suitable", "clinic": ""},
    )
    assert response.status_code == 200
    expected = f"http://testserver/{language}/resources/?bone=suitable&lang=de&level=gentle"
    assert built_urls(response) == [expected]
    page = response.content.decode()
    with translation.override(language):
        matches = ngettext(
            "Today %(counter)s resource matches.", "Today %(counter)s resources match.", 1
        ) % {"counter": 1}
    assert matches in page
    # The address works as it is: no redirect, the resource is listed.
    visit = client.get(expected.removeprefix("http://testserver"))
    assert visit.status_code == 200
    # The form keeps the choices, to change them.
    assert re.search(r'name="level" value="gentle" id="[^"]+" checked', page)


def test_builder_offers_qr_downloads_and_the_handout(client):
    response = client.get("/de/for-clinics/", GENTLE_SUITABLE_GERMAN)
    page = html.unescape(response.content.decode())
    query = "bone=suitable&lang=de&level=gentle"
    assert f'src="/de/for-clinics/qr.svg?{query}"' in page
    assert f'href="/de/for-clinics/qr.png?{query}" download="hub-qr-code.png"' in page
    assert f'href="/de/for-clinics/qr.svg?{query}" download="hub-qr-code.svg"' in page
    assert f'href="/de/for-clinics/handout/?{query}"' in page
    with translation.override("de"):
        qr_code_for = gettext("QR code for %(url)s") % {"url": "http://testserver/de/"}
    assert re.search(rf'<img class="qr"[^>]* alt="{re.escape(qr_code_for)}', page)


def test_builder_gives_the_embed_snippet_for_the_same_filters(client):
    response = client.get("/en/for-clinics/", GENTLE_SUITABLE_GERMAN)
    assert embed_snippet(response) == (
        '<iframe src="http://testserver/embed/resources/?bone=suitable&amp;lang=de&amp;'
        'level=gentle" title="Exercise resources from the Physical Activity Resource Hub" '
        'width="100%" height="600" loading="lazy"></iframe>'
    )


def test_partner_code_is_added_to_every_link(client, partner):
    response = client.get("/en/for-clinics/", {**GENTLE_SUITABLE_GERMAN, "ref": "st-example"})
    assert response.status_code == 200
    link = "http://testserver/en/resources/?bone=suitable&lang=de&level=gentle&ref=st-example"
    assert built_urls(response) == [link]
    page = html.unescape(response.content.decode())
    assert "partner code of St Example Hospital" in page
    # Shown too: the canonical address, without the code.
    assert 'href="http://testserver/en/resources/?bone=suitable&lang=de&level=gentle"' in page
    # The widget's snippet never carries the code: a widget on a page is not a visit.
    assert "ref=" not in embed_snippet(response)
    png = client.get("/en/for-clinics/qr.png", {**GENTLE_SUITABLE_GERMAN, "ref": "st-example"})
    assert decode_png(png.content) == [link]


def test_individual_resources_get_one_link_and_code_each(client, partner):
    walk = ResourceFactory(title="Walking programme", slug="walking-programme")
    chair = ResourceFactory(
        title="Chair yoga", slug="chair-yoga", bone_metastasis_safety=BoneSafety.WITH_MODIFICATIONS
    )
    response = client.get(
        "/en/for-clinics/", {"resource": [walk.slug, chair.slug], "ref": "st-example"}
    )
    assert response.status_code == 200
    assert built_urls(response) == [
        "http://testserver/en/resources/chair-yoga/?ref=st-example",
        "http://testserver/en/resources/walking-programme/?ref=st-example",
    ]
    page = html.unescape(response.content.decode())
    assert "Suitable with modifications" in page
    assert 'src="/en/for-clinics/qr.svg?resource=chair-yoga&ref=st-example"' in page
    assert (
        'href="/en/for-clinics/handout/?resource=chair-yoga&resource=walking-programme'
        '&ref=st-example"' in page
    )
    assert "<textarea" not in page  # no widget for single resources
    png = client.get("/en/for-clinics/qr.png", {"resource": "walking-programme"})
    assert decode_png(png.content) == ["http://testserver/en/resources/walking-programme/"]


def test_unpublished_resources_cannot_be_chosen(client):
    ResourceFactory(title="Public walk")
    draft = ResourceFactory(title="Draft walk", slug="draft-walk", draft=True)
    ResourceFactory(title="In review walk", status=Status.IN_REVIEW, published_at=None)
    page = client.get("/en/for-clinics/").content.decode()
    assert "Public walk" in page
    assert "Draft walk" not in page
    assert "In review walk" not in page
    for url in ["/en/for-clinics/", "/en/for-clinics/handout/", "/en/for-clinics/qr.png"]:
        response = client.get(url, {"resource": draft.slug})
        assert response.status_code == 400, url
        assert "Draft walk" not in response.content.decode(), url


def test_picker_lists_a_bounded_number_of_titles_and_finds_the_others(client, settings):
    settings.HUB_PAGE_CACHE_SECONDS = 0
    clinics_size = PICKER_SIZE
    titles = factory.Sequence(lambda n: f"Seated stretch {n:03d}")
    ResourceFactory.create_batch(clinics_size + 5, title=titles)
    ResourceFactory(title="Walking with poles", slug="walking-with-poles")
    page = client.get("/en/for-clinics/").content.decode()
    assert page.count('name="resource"') == clinics_size
    assert "Walking with poles" not in page  # sorted after the first titles
    assert f"Showing the first {clinics_size} titles" in page

    # Finding narrows the list; it builds no link and reports no error yet.
    response = client.get("/en/for-clinics/", {"find": "poles", "picker": "find"})
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('name="resource"') == 1
    assert 'value="walking-with-poles"' in page
    assert 'value="poles"' in page  # the search box keeps what was typed
    assert "qr.svg" not in page

    # A chosen resource stays ticked even when it is not among the first titles.
    page = client.get("/en/for-clinics/", {"resource": "walking-with-poles"}).content.decode()
    assert 'value="walking-with-poles" id="id_resource_' in page
    assert re.search(r'value="walking-with-poles" id="id_resource_\d+" checked', page)


# The QR code endpoints


def test_qr_png_decodes_to_the_canonical_address(client):
    response = client.get("/de/for-clinics/qr.png", {"lang": "de", "level": "gentle", "bone": ""})
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert decode_png(response.content) == ["http://testserver/de/resources/?lang=de&level=gentle"]
    # Module for module what segno draws for that address (error correction M, not Micro QR).
    expected = segno.make_qr("http://testserver/de/resources/?lang=de&level=gentle", error="m")
    assert png_modules(response.content) == [[bool(m) for m in row] for row in expected.matrix]


def test_qr_png_for_the_done_means_link_decodes_to_it(client):
    response = client.get("/de/for-clinics/qr.png", GENTLE_SUITABLE_GERMAN)
    assert decode_png(response.content) == [CANONICAL]


def test_qr_svg_is_valid_xml_drawing_the_same_code(client):
    response = client.get("/de/for-clinics/qr.svg", GENTLE_SUITABLE_GERMAN)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    root = ET.fromstring(response.content)
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox")
    with translation.override("de"):
        assert root.find(f"{SVG}title").text == gettext("QR code for %(url)s") % {"url": CANONICAL}
    drawn = root.find(f"{SVG}path").get("d")
    expected = io.BytesIO()
    segno.make_qr(CANONICAL, error="m").save(expected, kind="svg", scale=1, unit="mm", border=4)
    assert drawn == ET.fromstring(expected.getvalue()).find(f"{SVG}path").get("d")


def test_qr_endpoint_never_encodes_an_address_from_outside(client):
    response = client.get("/en/for-clinics/qr.png", {"url": "https://evil.example/"})
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "links to this hub only" in response.content.decode()
    # A foreign Host header is refused before any code is drawn.
    assert client.get("/en/for-clinics/qr.png", headers={"host": "evil.example"}).status_code == (
        400
    )
    # Whatever the filters, the code holds an address of this hub.
    for query in [{}, {"q": "https://evil.example/"}, {"level": "gentle"}]:
        (text,) = decode_png(client.get("/en/for-clinics/qr.png", query).content)
        assert text.startswith("http://testserver/en/resources/"), text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"level": "nope"}, "Fitness level: Select a valid choice. nope is not one of"),
        ({"bone": "not-reviewed"}, "Safety with bone metastases: Select a valid choice."),
        ({"ref": "nobody"}, "We do not know this partner code"),
        ({"ref": "closed-clinic"}, "We do not know this partner code"),
        ({"resource": "no-such-resource"}, "not on the hub"),
        ({"level": "gentle", "resource": "walk"}, "either filters or individual resources"),
        ({"clinic": "x" * 101}, "Name of your clinic: Ensure this value has at most 100"),
    ],
)
def test_bad_parameters_are_a_400_with_a_readable_message(client, query, message):
    ResourceFactory(slug="walk")
    Partner.objects.create(name="Closed clinic", slug="closed-clinic", active=False)
    for url in ["/en/for-clinics/", "/en/for-clinics/handout/", "/en/for-clinics/qr.svg"]:
        response = client.get(url, query)
        assert response.status_code == 400, url
        assert message in html.unescape(response.content.decode()), url


def test_one_qr_code_holds_one_resource(client):
    ResourceFactory(slug="walk")
    ResourceFactory(slug="yoga")
    response = client.get("/en/for-clinics/qr.png", {"resource": ["walk", "yoga"]})
    assert response.status_code == 400
    assert "One QR code holds one resource" in response.content.decode()


def test_too_many_individual_resources_is_an_error(client):
    slugs = [ResourceFactory().slug for _ in range(7)]
    response = client.get("/en/for-clinics/", {"resource": slugs})
    assert response.status_code == 400
    assert "Choose at most 6 resources" in response.content.decode()


# The printable handout


def test_handout_shows_clinic_address_titles_ratings_and_safety_message(client, partner):
    ResourceFactory(title="Sanfte Bewegung", language="de", tags={"level": ["gentle"]})
    ResourceFactory(title="Sitzgymnastik", language="de", tags={"level": ["gentle"]})
    ResourceFactory(title="Entwurf", language="de", tags={"level": ["gentle"]}, draft=True)
    ResourceFactory(
        title="Zur Prüfung",
        language="de",
        tags={"level": ["gentle"]},
        status=Status.IN_REVIEW,
        published_at=None,
    )
    ResourceFactory(title="Englisch", language="en", tags={"level": ["gentle"]})
    response = client.get(
        "/en/for-clinics/handout/",
        {**GENTLE_SUITABLE_GERMAN, "clinic": "Breast Care Unit <B>", "ref": "st-example"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Breast Care Unit &lt;B&gt;" in page
    address = "http://testserver/en/resources/?bone=suitable&amp;lang=de&amp;level=gentle"
    link = re.escape(f'<a href="{address}&amp;ref=st-example">{address}&amp;ref=st-example</a>')
    assert re.search(rf'<p class="handout-url">\s*{link}', page)
    assert "Scan the code with your phone's camera, or type the address" in html.unescape(page)
    assert "Talk to your oncology team before you start" in page
    assert "Stop and get medical advice if you notice" in page
    titles = re.findall(r'<span class="handout-title"[^>]*>([^<]+)</span>', page)
    assert titles == ["Sanfte Bewegung", "Sitzgymnastik"]
    assert page.count("Generally suitable</span>") == 2
    for hidden in ["Entwurf", "Zur Prüfung", "Englisch"]:
        assert hidden not in page
    assert 'src="/en/for-clinics/qr.svg?bone=suitable&amp;lang=de&amp;level=gentle' in page
    assert "@page" in client.get("/static/css/clinics.css").getvalue().decode()


def test_handout_lists_the_first_ten_titles_and_says_how_many_more(client):
    for number in range(12):
        ResourceFactory(title=f"Gentle walk {number:02}", tags={"level": ["gentle"]})
    page = client.get("/en/for-clinics/handout/", {"level": "gentle"}).content.decode()
    titles = re.findall(r'<span class="handout-title"[^>]*>([^<]+)</span>', page)
    assert titles == [f"Gentle walk {number:02}" for number in range(10)]
    assert "…and 2 more at the address above." in page


def test_handout_for_individual_resources_prints_each_address_and_code(client):
    ResourceFactory(title="Walking programme", slug="walking-programme")
    ResourceFactory(
        title="Strength class",
        slug="strength-class",
        bone_metastasis_safety=BoneSafety.CLEARANCE_NEEDED,
    )
    response = client.get(
        "/en/for-clinics/handout/", {"resource": ["walking-programme", "strength-class"]}
    )
    assert response.status_code == 200
    page = response.content.decode()
    for slug in ["walking-programme", "strength-class"]:
        assert f'href="http://testserver/en/resources/{slug}/"' in page
        assert f'src="/en/for-clinics/qr.svg?resource={slug}"' in page
    assert "Only with clinician clearance or supervision" in page
    assert "Stop and get medical advice if you notice" in page


# Guard rails


@pytest.mark.parametrize(
    "url",
    [
        "/en/for-clinics/",
        "/de/for-clinics/?level=gentle&bone=suitable&lang=de&clinic=Praxis",
        "/en/for-clinics/?level=nope",
        "/en/for-clinics/?resource=walk",
        "/en/for-clinics/handout/?level=gentle&clinic=Clinic",
        "/sv/for-clinics/handout/?resource=walk",
    ],
)
def test_clinic_pages_have_one_h1_no_cookies_and_no_inline_code(client, url):
    ResourceFactory(slug="walk", bone_metastasis_safety=BoneSafety.WITH_MODIFICATIONS)
    response = client.get(url)
    assert response.status_code in {200, 400}
    page = response.content.decode()
    assert len(re.findall(r"<h1[\s>]", page)) == 1
    assert 'class="skip-link" href="#main"' in page
    assert f'<html lang="{url.split("/")[1]}">' in page
    assert not response.cookies
    assert "style=" not in page
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page) is None


def test_footer_links_to_the_clinic_page(client):
    with translation.override("de"):
        label = gettext("For clinics")
    assert label != "For clinics"  # the German catalogue is compiled and used
    assert f'href="/de/for-clinics/">{label}</a>' in client.get("/de/").content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/en/for-clinics/?level=gentle&level=moderate&stage=metastatic&bone=suitable&type=balance"
        "&kind=guide&lang=en&clinic=Clinic&ref=st-example",
        "/en/for-clinics/?resource=r-0&resource=r-1&resource=r-2&ref=st-example",
        "/en/for-clinics/handout/?level=gentle&bone=suitable&clinic=Clinic&ref=st-example",
        "/en/for-clinics/handout/?resource=r-0&resource=r-1&resource=r-2&ref=st-example",
        "/en/for-clinics/qr.png?level=gentle&bone=suitable&lang=en&ref=st-example",
        "/en/for-clinics/qr.svg?resource=r-0&ref=st-example",
    ],
)
def test_clinic_pages_stay_within_the_query_budget(client, partner, url):
    for number in range(25):
        ResourceFactory(
            slug=f"r-{number}", tags={"level": ["gentle"], "type": ["balance"], "stage": ["early"]}
        )
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert len(queries) <= 8, [query["sql"] for query in queries]
