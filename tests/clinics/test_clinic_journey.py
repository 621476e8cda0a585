"""Issue 5's promise end to end: one filter set, the same resources everywhere.

A clinician builds a link for "gentle + generally suitable + German"; the QR code reads as that
canonical address; the browse page, the JSON API and the feed then list the same resources in
the same order, and nothing unpublished appears in any of them.
"""

import html
import io
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
import zxingcpp
from django.utils import timezone
from PIL import Image

from resources.models import BoneSafety

from ..factories import ResourceFactory

pytestmark = pytest.mark.django_db

CANONICAL = "http://testserver/en/resources/?bone=suitable&lang=de&level=gentle"
QUERY = {"level": "gentle", "bone": "suitable", "lang": "de"}


@pytest.fixture
def catalogue() -> list[str]:
    """Three matching German resources; titles in the same order as newest-first."""
    now = timezone.now()
    matching = []
    for age, title in enumerate(["Atmen im Sitzen", "Balance am Stuhl", "Kraft mit dem Band"]):
        ResourceFactory(
            title=title,
            language="de",
            tags={"level": ["gentle"]},
            bone_metastasis_safety=BoneSafety.SUITABLE,
            published_at=now - timedelta(days=age + 1),
        )
        matching.append(title)
    # Near misses: each differs from the filter set in one way.
    ResourceFactory(title="Gehen (moderat)", language="de", tags={"level": ["moderate"]})
    ResourceFactory(title="Gentle in English", language="en", tags={"level": ["gentle"]})
    ResourceFactory(
        title="Mit Anpassungen",
        language="de",
        tags={"level": ["gentle"]},
        bone_metastasis_safety=BoneSafety.WITH_MODIFICATIONS,
    )
    ResourceFactory(title="Entwurf", language="de", tags={"level": ["gentle"]}, draft=True)
    ResourceFactory(title="Ungeprüft", language="de", tags={"level": ["gentle"]}, unreviewed=True)
    return matching


def card_titles(page: str) -> list[str]:
    return [
        html.unescape(title.strip())
        for title in re.findall(r'<h3 class="card-title"[^>]*>\s*<a [^>]*>([^<]+)</a>', page)
    ]


def test_one_link_gives_the_same_resources_everywhere(client, catalogue):
    # The link builder shows the canonical address, whatever order the boxes were ticked in.
    builder = client.get("/en/for-clinics/", {"lang": "de", "level": "gentle", "bone": "suitable"})
    assert builder.status_code == 200
    assert html.escape(CANONICAL) in builder.content.decode()

    # Its QR code reads, with a real decoder, as exactly that address.
    png = client.get("/en/for-clinics/qr.png", QUERY)
    assert png["Content-Type"] == "image/png"
    decoded = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))]
    assert decoded == [CANONICAL]

    # The browse page at that address.
    browse = client.get(CANONICAL.removeprefix("http://testserver"))
    assert browse.status_code == 200
    browse_titles = card_titles(browse.content.decode())
    assert browse_titles == catalogue

    # The JSON API with the same parameters.
    api = client.get("/api/v1/resources/", QUERY)
    assert api.status_code == 200
    assert [item["title"] for item in api.json()["results"]] == browse_titles

    # The feeds with the same parameters (newest first; the fixture makes that title order).
    rss = ET.fromstring(client.get("/en/feeds/rss/", QUERY).content)
    assert [item.findtext("title") for item in rss.iter("item")] == browse_titles
    atom = ET.fromstring(client.get("/en/feeds/atom/", QUERY).content)
    namespace = "{http://www.w3.org/2005/Atom}"
    titles = [entry.findtext(f"{namespace}title") for entry in atom.iter(f"{namespace}entry")]
    assert titles == browse_titles

    # The widget shows the same list.
    widget = client.get("/embed/resources/", QUERY).content.decode()
    for title in browse_titles:
        assert html.escape(title) in widget


def test_nothing_unpublished_reaches_any_clinic_output(client, catalogue):
    outputs = [
        client.get("/en/for-clinics/handout/", QUERY).content.decode(),
        client.get("/en/resources/", QUERY, follow=True).content.decode(),
        client.get("/api/v1/resources/", QUERY).content.decode(),
        client.get("/en/feeds/rss/", QUERY).content.decode(),
        client.get("/en/feeds/atom/", QUERY).content.decode(),
        client.get("/embed/resources/", QUERY).content.decode(),
        client.get("/sitemap.xml").content.decode(),
    ]
    for output in outputs:
        assert "Entwurf" not in output and "entwurf" not in output
        assert "Ungepr" not in output and "ungepr" not in output
