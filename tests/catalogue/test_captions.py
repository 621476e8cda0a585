"""Video accessibility: captions and transcripts on cards, detail pages, the browse filter
and the API."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ..factories import ResourceFactory

pytestmark = pytest.mark.django_db

BROWSE = "/en/resources/"


def titles(response) -> list[str]:
    html = response.content.decode()
    return re.findall(r'<h3 class="card-title"[^>]*>\s*<a [^>]*>([^<]+)</a>', html)


@pytest.fixture
def mixed() -> None:
    ResourceFactory(title="Captioned video", video=True, has_captions=True)
    ResourceFactory(title="Silent video", video=True, has_captions=False)
    ResourceFactory(title="Video with a transcript", video=True, transcript="Sit tall.")
    ResourceFactory(
        title="Video with a linked transcript",
        video=True,
        transcript_url="https://charity.example.org/transcript",
    )
    ResourceFactory(title="Guide marked as captioned", has_captions=True)
    ResourceFactory(title="Plain guide")
    ResourceFactory(title="Draft captioned video", video=True, has_captions=True, draft=True)


# --- the filter --------------------------------------------------------------------------------


def test_captions_filter_keeps_captioned_videos_and_anything_with_a_transcript(client, mixed):
    response = client.get(BROWSE, {"captions": "1"})
    assert response.status_code == 200
    assert sorted(titles(response)) == [
        "Captioned video",
        "Video with a linked transcript",
        "Video with a transcript",
    ]
    assert "3 resources found" in response.content.decode()


def test_without_the_captions_filter_every_published_resource_is_listed(client, mixed):
    assert len(titles(client.get(BROWSE))) == 6


def test_captions_filter_combines_with_other_filters(client, mixed):
    ResourceFactory(title="German captioned video", video=True, has_captions=True, language="de")
    response = client.get(BROWSE, {"captions": "1", "lang": "de"})
    assert titles(response) == ["German captioned video"]


def test_an_unknown_captions_value_is_a_400_with_no_results(client, mixed):
    response = client.get(BROWSE, {"captions": "yes"})
    assert response.status_code == 400
    assert titles(response) == []


def test_the_browse_form_offers_the_captions_checkbox_ticked_when_in_use(client, mixed):
    html = client.get(BROWSE).content.decode()
    assert 'name="captions" value="1" id="id_captions">' in html
    assert "Only videos with captions or a transcript" in html
    ticked = client.get(BROWSE, {"captions": "1"}).content.decode()
    assert 'name="captions" value="1" id="id_captions" checked>' in ticked
    assert "Clear filters" in ticked


def test_facet_counts_take_the_captions_filter_into_account(client, mixed):
    html = client.get(BROWSE, {"captions": "1"}).content.decode()
    # Format "Video": the three captioned-or-transcribed videos, not all five.
    video = re.search(
        r'value="video"[^>]*>\s*<label[^>]*>\s*[^<]*<span class="count">\((\d+)', html
    )
    assert video is not None and video.group(1) == "3"


@pytest.mark.parametrize(
    ("query", "canonical"),
    [
        ("captions=1&level=gentle", "captions=1&level=gentle"),
        ("level=gentle&captions=1", "captions=1&level=gentle"),
        ("captions=1&captions=1", "captions=1"),
        ("captions=&level=gentle", "level=gentle"),
        ("captions=1&ref=clinic", "captions=1"),
    ],
)
def test_captions_is_part_of_the_canonical_browse_address(client, query, canonical):
    response = client.get(f"{BROWSE}?{query}")
    if query == canonical:
        assert response.status_code == 200
    else:
        assert response.status_code == 301
        assert response["Location"] == f"{BROWSE}?{canonical}"


def test_browse_with_captions_stays_within_eight_queries(client, mixed):
    for n in range(15):
        ResourceFactory(title=f"Extra captioned {n}", video=True, has_captions=True)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(BROWSE, {"captions": "1"})
    assert response.status_code == 200
    assert len(queries) <= 8, [q["sql"] for q in queries]


# --- cards and detail pages --------------------------------------------------------------------


def test_a_card_marks_a_captioned_video_and_nothing_else(client):
    ResourceFactory(title="Captioned video", video=True, has_captions=True)
    ResourceFactory(title="Guide marked as captioned", has_captions=True)
    html = client.get(BROWSE).content.decode()
    card = r'<h3 class="card-title"[^>]*>\s*<a [^>]*>([^<]+)</a>(.*?)</article>'
    cards = dict(re.findall(card, html, re.S))
    assert "Captions" in cards["Captioned video"]
    assert "Captions" not in cards["Guide marked as captioned"]


def test_a_video_detail_page_says_whether_it_has_captions(client):
    with_captions = ResourceFactory(video=True, has_captions=True)
    without = ResourceFactory(video=True)
    guide = ResourceFactory()

    def page(resource) -> str:
        return client.get(f"/en/resources/{resource.slug}/").content.decode()

    assert "· Captions</span>" in page(with_captions)
    assert "· No captions</span>" in page(without)
    guide_html = client.get(f"/en/resources/{guide.slug}/").content.decode()
    assert "Captions" not in guide_html


def test_the_transcript_is_shown_in_a_details_element_and_escaped(client):
    resource = ResourceFactory(
        video=True, transcript="Stand up slowly.\n<script>alert('x')</script> & sit down."
    )
    html = client.get(f"/en/resources/{resource.slug}/").content.decode()
    assert "<summary>Read the transcript</summary>" in html
    assert "Stand up slowly." in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; sit down." in html
    assert "<script>alert" not in html


def test_a_linked_transcript_is_a_link_and_no_details_element(client):
    resource = ResourceFactory(video=True, transcript_url="https://charity.example.org/t/1")
    html = client.get(f"/en/resources/{resource.slug}/").content.decode()
    assert '<a href="https://charity.example.org/t/1"' in html
    assert "Read the transcript on another website" in html
    assert "<details>" not in html


def test_a_resource_without_a_transcript_has_no_transcript_section(client):
    resource = ResourceFactory(video=True, has_captions=True)
    html = client.get(f"/en/resources/{resource.slug}/").content.decode()
    assert "transcript-heading" not in html


def test_transcript_fields_reject_a_plain_http_address():
    from django.core.exceptions import ValidationError

    resource = ResourceFactory.build(video=True, transcript_url="http://charity.example.org/t")
    resource.organisation.save()
    with pytest.raises(ValidationError) as error:
        resource.full_clean()
    assert "transcript_url" in error.value.message_dict


# --- API -----------------------------------------------------------------------------------------


def test_the_api_reports_captions_and_the_transcript_address(client):
    resource = ResourceFactory(
        video=True, has_captions=True, transcript_url="https://charity.example.org/t/1"
    )
    ResourceFactory(title="Plain guide")
    detail = client.get(f"/api/v1/resources/{resource.slug}/").json()
    assert detail["has_captions"] is True
    assert detail["transcript_url"] == "https://charity.example.org/t/1"
    listing = client.get("/api/v1/resources/", {"captions": "1"}).json()
    assert [r["slug"] for r in listing["results"]] == [resource.slug]
    assert client.get("/api/v1/resources/", {"captions": "2"}).status_code == 400
