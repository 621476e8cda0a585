"""The sitemap and robots.txt: what a search engine is told to index, and what not."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.robotparser import RobotFileParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ..factories import ResourceFactory

pytestmark = pytest.mark.django_db

LANGUAGES = ["en", "de", "nl", "es", "pl", "sv"]
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"


def sitemap(client, **extra) -> dict[str, dict]:
    """Each <url> of the sitemap by its address: lastmod and hreflang alternates."""
    response = client.get("/sitemap.xml", **extra)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/xml")
    urls = {}
    root = ET.fromstring(response.content)
    for url in root.findall(f"{SM}url"):
        urls[url.findtext(f"{SM}loc")] = {
            "lastmod": url.findtext(f"{SM}lastmod"),
            "alternates": {
                link.get("hreflang"): link.get("href")
                for link in url.findall(f"{XHTML}link")
                if link.get("rel") == "alternate"
            },
        }
    return urls


def test_sitemap_lists_each_published_resource_in_every_language_with_alternates(client):
    resource = ResourceFactory(slug="chair-routine")
    urls = sitemap(client)
    expected_alternates = {
        **{code: f"http://testserver/{code}/resources/chair-routine/" for code in LANGUAGES},
        "x-default": "http://testserver/resources/chair-routine/",
    }
    for code in LANGUAGES:
        entry = urls[f"http://testserver/{code}/resources/chair-routine/"]
        assert entry["alternates"] == expected_alternates
        assert entry["lastmod"] == resource.updated_at.date().isoformat()


def test_sitemap_lists_the_static_pages_in_every_language(client):
    urls = sitemap(client)
    for path in ["", "resources/", "safety/", "about/"]:
        for code in LANGUAGES:
            entry = urls[f"http://testserver/{code}/{path}"]
            assert entry["alternates"]["x-default"] == f"http://testserver/{path}"
            assert entry["alternates"]["sv"] == f"http://testserver/sv/{path}"
    assert len(urls) == 4 * len(LANGUAGES)  # no resources yet


def test_sitemap_never_lists_an_unpublished_resource(client):
    ResourceFactory(slug="public-walk")
    hidden = [
        ResourceFactory(slug="draft-walk", draft=True),
        ResourceFactory(slug="in-review-walk", in_review=True),
        ResourceFactory(slug="archived-walk", archived=True),
        ResourceFactory(slug="unreviewed-walk", unreviewed=True),
        ResourceFactory(slug="scheduled-walk", scheduled=True),
    ]
    body = client.get("/sitemap.xml").content.decode()
    assert "/en/resources/public-walk/" in body
    for resource in hidden:
        assert resource.slug not in body
    assert len(sitemap(client)) == (4 + 1) * len(LANGUAGES)


def test_sitemap_uses_the_scheme_it_was_requested_with(client):
    ResourceFactory()
    urls = sitemap(client, secure=True)
    assert all(loc.startswith("https://testserver/") for loc in urls)
    assert all(
        href.startswith("https://testserver/")
        for entry in urls.values()
        for href in entry["alternates"].values()
    )


def test_sitemap_stays_within_the_query_budget_however_many_resources(client):
    ResourceFactory.create_batch(30, tags={"level": ["gentle"], "type": ["balance"]})
    with CaptureQueriesContext(connection) as queries:
        urls = sitemap(client)
    assert len(urls) == (4 + 30) * len(LANGUAGES)
    assert len(queries) <= 8


def robots(client) -> tuple[str, RobotFileParser]:
    response = client.get("/robots.txt", secure=True)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    text = response.content.decode()
    parser = RobotFileParser()
    parser.parse(text.splitlines())
    return text, parser


def test_robots_txt_keeps_admin_api_docs_and_previews_out_of_indexes(client):
    text, parser = robots(client)
    for path in ["/admin/", "/admin/login/", "/api/v1/docs", "/preview/some-draft/"]:
        assert not parser.can_fetch("*", path), path
    assert "Disallow: /*/preview/" in text  # previews below a language prefix too


def test_robots_txt_allows_every_public_page(client):
    _text, parser = robots(client)
    for path in [
        "/",
        "/en/",
        "/de/resources/?level=gentle",
        "/en/resources/chair-routine/",
        "/en/safety/",
        "/en/about/",
        "/en/feeds/rss/",
        "/api/v1/resources",
        "/sitemap.xml",
    ]:
        assert parser.can_fetch("*", path), path


def test_robots_txt_points_at_the_sitemap_with_an_absolute_address(client):
    _text, parser = robots(client)
    assert parser.site_maps() == ["https://testserver/sitemap.xml"]
    assert client.get("/sitemap.xml").status_code == 200
