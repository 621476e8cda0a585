"""What search engines and link previews read from a page: JSON-LD, Open Graph and Twitter
tags, canonical addresses and language alternates."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from resources.models import BoneSafety

from ..factories import VIMEO_URL, ResourceFactory

pytestmark = pytest.mark.django_db

LANGUAGES = ["en", "de", "nl", "es", "pl", "sv"]
JSON_LD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.DOTALL)


def json_ld(html: str) -> list[dict]:
    return [json.loads(block) for block in JSON_LD.findall(html)]


# The schema.org terms the hub uses, with their place in the vocabulary (see the note inside).
TERMS = json.loads((Path(__file__).parent.parent / "data" / "schemaorg_terms.json").read_text())


def ancestors(type_name: str) -> set[str]:
    """The type and every type it inherits from, as schema.org defines them."""
    found = {type_name}
    for parent in TERMS["types"][type_name]:
        found |= ancestors(parent)
    return found


def schema_org_problems(node: Any, where: str = "$") -> list[str]:
    """Every @type not in the vocabulary and every property not defined on its node's type."""
    if isinstance(node, list):
        return [
            problem
            for i, item in enumerate(node)
            for problem in schema_org_problems(item, f"{where}[{i}]")
        ]
    if not isinstance(node, dict):
        return []
    problems = []
    type_name = node.get("@type")
    if type_name not in TERMS["types"]:
        return [f"{where}: @type {type_name!r} is not a schema.org type we checked"]
    allowed_on = ancestors(type_name)
    for key, value in node.items():
        if key.startswith("@"):
            continue
        domains = TERMS["properties"].get(key)
        if domains is None:
            problems.append(f"{where}.{key}: not a schema.org property we checked")
        elif not allowed_on & set(domains):
            problems.append(f"{where}.{key}: not defined on {type_name}")
        if isinstance(value, dict | list):
            problems += schema_org_problems(value, f"{where}.{key}")
    return problems


def meta(html: str) -> dict[str, str]:
    """<meta property|name=... content=...> of the page, as a link preview reads them."""
    return {
        key: unescape(value)
        for key, value in re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)">', html)
    }


def head_links(html: str, rel: str) -> list[dict[str, str]]:
    head = html[: html.index("</head>")]
    return [
        dict(re.findall(r'([\w-]+)="([^"]*)"', tag))
        for tag in re.findall(rf'<link rel="{rel}"[^>]*>', head)
    ]


def page(client, url: str, **extra) -> str:
    response = client.get(url, **extra)
    assert response.status_code == 200, url
    return response.content.decode()


def test_youtube_video_is_described_as_a_video_object_with_the_privacy_enhanced_player(client):
    resource = ResourceFactory(
        video=True, title="Seated strength", summary="Ten minutes in a chair.", language="de"
    )
    (data,) = json_ld(page(client, f"/nl/resources/{resource.slug}/"))
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "VideoObject"
    assert data["name"] == "Seated strength"
    assert data["description"] == "Ten minutes in a chair."
    assert data["embedUrl"] == "https://www.youtube-nocookie.com/embed/vtA1R87lkv8"
    assert data["url"] == f"http://testserver/nl/resources/{resource.slug}/"
    assert data["uploadDate"] == resource.published_at.isoformat()
    assert data["inLanguage"] == "de"
    assert data["duration"] == "PT12M"
    assert data["publisher"] == {
        "@type": "Organization",
        "name": resource.organisation.name,
        "url": "https://charity.example.org/",
    }


def test_vimeo_video_embeds_without_tracking_and_other_videos_name_no_player(client):
    vimeo = ResourceFactory(kind="video", url=VIMEO_URL, body="")
    (data,) = json_ld(page(client, vimeo.get_absolute_url()))
    assert data["embedUrl"] == "https://player.vimeo.com/video/76979871?dnt=1"
    elsewhere = ResourceFactory(kind="video", url="https://videos.example.org/walk", body="")
    (data,) = json_ld(page(client, elsewhere.get_absolute_url()))
    assert data["@type"] == "VideoObject"
    assert "embedUrl" not in data


def test_guide_is_a_medical_web_page_naming_its_clinical_review(client):
    resource = ResourceFactory(reviewed_by="A. Jansen, physiotherapist")
    (data,) = json_ld(page(client, resource.get_absolute_url()))
    assert data["@type"] == "MedicalWebPage"
    assert data["lastReviewed"] == resource.reviewed_on.isoformat()
    assert data["reviewedBy"] == {"@type": "Person", "name": "A. Jansen, physiotherapist"}
    assert data["datePublished"] == resource.published_at.isoformat()


@pytest.mark.parametrize("trait", ["link", "programme"])
def test_links_and_programmes_are_medical_web_pages_pointing_at_the_source(client, trait):
    resource = ResourceFactory(**{trait: True})
    (data,) = json_ld(page(client, resource.get_absolute_url()))
    assert data["@type"] == "MedicalWebPage"
    assert data["significantLink"] == resource.url


def test_reviewed_video_page_carries_its_review_on_the_page_not_the_video(client):
    resource = ResourceFactory(video=True)
    (data,) = json_ld(page(client, resource.get_absolute_url()))
    assert "lastReviewed" not in data
    assert data["mainEntityOfPage"]["@type"] == "MedicalWebPage"
    assert data["mainEntityOfPage"]["lastReviewed"] == resource.reviewed_on.isoformat()
    assert data["mainEntityOfPage"]["reviewedBy"]["name"] == resource.reviewed_by


@pytest.mark.parametrize(
    "traits",
    [
        {},
        {"video": True},
        {"link": True},
        # The flag alone decides: a proposer's name is not a clinical review.
        {"reviewed_by": "Hub team (proposal)"},
    ],
)
def test_demo_content_claims_no_clinical_review(client, traits):
    resource = ResourceFactory(provisional=True, **traits)
    html = page(client, resource.get_absolute_url())
    (data,) = json_ld(html)
    text = json.dumps(data)
    assert "lastReviewed" not in text
    assert "reviewedBy" not in text


@pytest.mark.parametrize(
    "traits",
    [
        {"video": True},
        {"link": True},
        {"programme": True},
        {"reviewed_by": "A. Jansen, physiotherapist"},
        {"provisional": True},
        {"video": True, "provisional": True},
    ],
)
def test_every_type_and_property_is_schema_org_vocabulary_used_on_its_type(client, traits):
    resource = ResourceFactory(
        image=SimpleUploadedFile("stretch.png", b"\x89PNG\r\n\x1a\n", content_type="image/png"),
        image_alt="A woman stretching in a chair",
        **traits,
    )
    (data,) = json_ld(page(client, resource.get_absolute_url()))
    assert data["@context"] == "https://schema.org"
    assert schema_org_problems(data) == []


def test_the_checker_catches_a_property_on_the_wrong_type():
    # lastReviewed belongs to web pages: on the video itself it would be ignored.
    video = {"@type": "VideoObject", "name": "Walk", "lastReviewed": "2026-01-01"}
    assert schema_org_problems(video) == ["$.lastReviewed: not defined on VideoObject"]
    assert schema_org_problems({"@type": "ExercisePlan"}) != []
    assert schema_org_problems({"@type": "WebPage", "audience": {"@type": "Audience", "x": 1}})


@pytest.mark.parametrize("traits", [{}, {"video": True}, {"link": True}])
def test_the_page_is_written_for_patients(client, traits):
    resource = ResourceFactory(**traits)
    (data,) = json_ld(page(client, resource.get_absolute_url()))
    web_page = data["mainEntityOfPage"] if traits.get("video") else data
    assert web_page["@type"] == "MedicalWebPage"
    assert web_page["audience"] == {"@type": "MedicalAudience", "audienceType": "Patient"}


def test_a_title_cannot_break_out_of_the_data_block(client):
    title = "</script><script>alert(1)</script> & <!-- more"
    resource = ResourceFactory(video=True, title=title)
    html = page(client, resource.get_absolute_url())
    assert "<script>alert(1)" not in html
    assert "<!-- more" not in html
    assert len(re.findall(r"<script\b", html)) == 3  # the data block, plan.js and player.js
    (data,) = json_ld(html)
    assert data["name"] == title
    assert meta(html)["og:title"] == title


def test_open_graph_and_twitter_tags_describe_the_resource(client):
    ResourceFactory(title="Chair yoga", summary="Gentle stretches.", slug="chair-yoga")
    tags = meta(page(client, "/de/resources/chair-yoga/"))
    assert tags["og:title"] == "Chair yoga"
    assert tags["og:description"] == "Gentle stretches."
    assert tags["og:type"] == "article"
    assert tags["og:url"] == "http://testserver/de/resources/chair-yoga/"
    assert tags["og:locale"] == "de_DE"
    assert tags["og:site_name"] == "Physical Activity Resource Hub"
    assert tags["twitter:card"] == "summary"
    assert tags["twitter:title"] == "Chair yoga"
    assert "og:image" not in tags  # no image, no made-up one
    video = ResourceFactory(video=True)
    assert meta(page(client, video.get_absolute_url()))["og:type"] == "video.other"


def test_open_graph_image_only_when_the_resource_has_one(client):
    resource = ResourceFactory(
        image=SimpleUploadedFile("stretch.png", b"\x89PNG\r\n\x1a\n", content_type="image/png"),
        image_alt="A woman stretching in a chair",
    )
    html = page(client, resource.get_absolute_url())
    tags = meta(html)
    assert tags["og:image"] == f"http://testserver{resource.image.url}"
    assert tags["og:image:alt"] == "A woman stretching in a chair"
    (data,) = json_ld(html)
    assert data["image"] == tags["og:image"]


@pytest.mark.parametrize(
    ("path", "canonical_path"),
    [
        ("", ""),
        ("resources/", "resources/"),
        ("resources/?level=gentle&level=moderate", "resources/?level=gentle&level=moderate"),
        ("resources/chair-yoga/", "resources/chair-yoga/"),
        ("safety/", "safety/"),
        ("about/", "about/"),
        ("about/?utm_source=leaflet", "about/"),
    ],
)
def test_every_public_page_names_its_canonical_address_and_its_languages(
    client, path, canonical_path
):
    ResourceFactory(slug="chair-yoga", tags={"level": ["gentle"]})
    html = page(client, f"/de/{path}")
    (canonical,) = head_links(html, "canonical")
    assert unescape(canonical["href"]) == f"http://testserver/de/{canonical_path}"
    alternates = {
        link["hreflang"]: unescape(link["href"])
        for link in head_links(html, "alternate")
        if "hreflang" in link
    }
    assert alternates == {
        **{code: f"http://testserver/{code}/{canonical_path}" for code in LANGUAGES},
        "x-default": f"http://testserver/{canonical_path}",
    }
    assert meta(html)["og:url"] == f"http://testserver/de/{canonical_path}"


def test_browse_canonical_keeps_the_page_number_and_drops_the_referral(client, settings):
    settings.HUB_PAGE_SIZE = 1
    ResourceFactory.create_batch(2, tags={"level": ["gentle"]})
    response = client.get("/en/resources/?page=2&level=gentle&ref=st-marys", follow=True)
    html = response.content.decode()
    (canonical,) = head_links(html, "canonical")
    assert unescape(canonical["href"]) == "http://testserver/en/resources/?level=gentle&page=2"


def test_canonical_addresses_are_https_when_served_over_https(client):
    resource = ResourceFactory()
    html = page(client, resource.get_absolute_url(), secure=True)
    (canonical,) = head_links(html, "canonical")
    assert canonical["href"] == f"https://testserver{resource.get_absolute_url()}"
    assert json_ld(html)[0]["url"] == canonical["href"]


def test_pages_that_do_not_exist_name_no_canonical_address(client):
    draft = ResourceFactory(draft=True)
    for url in ["/en/no-such-page/", draft.get_absolute_url()]:
        response = client.get(url)
        assert response.status_code == 404
        html = response.content.decode()
        assert 'rel="canonical"' not in html
        assert "hreflang" not in html[: html.index("</head>")]
        assert "application/ld+json" not in html


def test_only_resource_pages_carry_structured_data(client):
    ResourceFactory(bone_metastasis_safety=BoneSafety.WITH_MODIFICATIONS)
    for url in ["/en/", "/en/resources/", "/en/safety/", "/en/about/"]:
        assert json_ld(page(client, url)) == [], url


def test_detail_page_with_structured_data_stays_within_the_query_budget(client):
    resource = ResourceFactory(
        video=True, tags={"level": ["gentle"], "type": ["balance"], "stage": ["metastatic"]}
    )
    with CaptureQueriesContext(connection) as queries:
        page(client, resource.get_absolute_url())
    assert len(queries) <= 8
