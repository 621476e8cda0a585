"""RSS and Atom feeds of newly published resources: what a feed reader receives."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from resources.models import BoneSafety, Status

from ..factories import ResourceFactory

pytestmark = pytest.mark.django_db

RSS = "/en/feeds/rss/"
ATOM = "/en/feeds/atom/"
ATOM_NS = "{http://www.w3.org/2005/Atom}"


def days_ago(days: int):
    return timezone.now() - timedelta(days=days)


def xml_of(response) -> ET.Element:
    """The response parsed as XML: our own output, so no defusedxml needed."""
    return ET.fromstring(response.content)


def rss_items(response) -> list[dict[str, str]]:
    """The items of an RSS feed, in feed order, as a feed reader parses them."""
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/rss+xml")
    channel = xml_of(response).find("channel")
    return [
        {
            "title": item.findtext("title"),
            "link": item.findtext("link"),
            "description": item.findtext("description"),
        }
        for item in channel.findall("item")
    ]


def atom_entries(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    feed = xml_of(response)
    return [
        {
            "title": entry.findtext(f"{ATOM_NS}title"),
            "link": entry.find(f"{ATOM_NS}link").get("href"),
            "summary": entry.findtext(f"{ATOM_NS}summary"),
        }
        for entry in feed.findall(f"{ATOM_NS}entry")
    ]


def slugs(links: list[str]) -> list[str]:
    return [re.fullmatch(r"http://testserver/\w\w/resources/([\w-]+)/", link)[1] for link in links]


def browse_slugs(client, query: str) -> set[str]:
    """The resources a visitor sees on the browse page for the same filters."""
    html = client.get(f"/en/resources/?{query}", follow=True).content.decode()
    card_link = r'<h3 class="card-title"[^>]*>\s*<a href="/en/resources/([\w-]+)/"'
    return set(re.findall(card_link, html))


def test_rss_feed_lists_newly_published_resources_newest_first(client):
    ResourceFactory(title="Older walk", slug="older-walk", published_at=days_ago(3))
    ResourceFactory(title="Newest walk", slug="newest-walk", published_at=days_ago(1))
    ResourceFactory(title="Middle walk", slug="middle-walk", published_at=days_ago(2))
    items = rss_items(client.get(RSS))
    assert [item["title"] for item in items] == ["Newest walk", "Middle walk", "Older walk"]
    assert items[0]["link"] == "http://testserver/en/resources/newest-walk/"


def test_atom_feed_lists_the_same_resources_newest_first(client):
    ResourceFactory(title="Older walk", published_at=days_ago(3))
    ResourceFactory(title="Newest walk", published_at=days_ago(1))
    entries = atom_entries(client.get(ATOM))
    assert [entry["title"] for entry in entries] == ["Newest walk", "Older walk"]
    feed = xml_of(client.get(ATOM))
    self_link = feed.find(f"{ATOM_NS}link[@rel='self']").get("href")
    assert self_link == "http://testserver/en/feeds/atom/"


def test_feed_speaks_the_language_of_its_address(client):
    ResourceFactory(slug="chair-routine")
    channel = xml_of(client.get("/de/feeds/rss/")).find("channel")
    assert channel.findtext("language") == "de"
    assert channel.findtext("link") == "http://testserver/de/resources/"
    assert channel.find("item").findtext("link") == "http://testserver/de/resources/chair-routine/"
    atom = xml_of(client.get("/sv/feeds/atom/"))
    assert atom.get("{http://www.w3.org/XML/1998/namespace}lang") == "sv"


def test_item_description_gives_the_summary_and_the_safety_rating_in_words(client):
    ResourceFactory(
        summary="Stand behind a chair & hold on.",
        bone_metastasis_safety=BoneSafety.WITH_MODIFICATIONS,
    )
    ResourceFactory(summary="Demo content.", rating_is_provisional=True, reviewed_by="")
    descriptions = {item["description"] for item in rss_items(client.get(RSS))}
    assert (
        "<p>Stand behind a chair &amp; hold on.</p>"
        "<p>Safety with bone metastases: Suitable with modifications.</p>"
    ) in descriptions
    assert (
        "<p>Demo content.</p><p>Safety with bone metastases: Generally suitable. "
        "Proposed rating: not yet checked by a clinician.</p>"
    ) in descriptions


def test_drafts_unreviewed_and_scheduled_resources_are_never_in_a_feed(client):
    ResourceFactory(title="Public walk")
    ResourceFactory(title="Draft walk", draft=True)
    ResourceFactory(title="In review walk", in_review=True)
    ResourceFactory(title="Archived walk", archived=True)
    ResourceFactory(title="Unreviewed walk", unreviewed=True)
    ResourceFactory(title="Scheduled walk", scheduled=True)
    for url in [RSS, ATOM, f"{RSS}?q=walk", f"{ATOM}?level=gentle&q=walk"]:
        body = client.get(url).content.decode()
        assert "Draft walk" not in body and "In review walk" not in body, url
        assert "Archived walk" not in body and "Unreviewed walk" not in body, url
        assert "Scheduled walk" not in body, url
    assert [item["title"] for item in rss_items(client.get(RSS))] == ["Public walk"]


@pytest.mark.parametrize(
    "query",
    [
        "level=gentle",
        "level=gentle&level=moderate",
        "bone=suitable&lang=de",
        "kind=video",
        "level=gentle&type=balance",
        "q=walking",
        "stage=metastatic&bone=suitable&bone=with-modifications",
    ],
)
def test_filtered_feed_shows_what_the_browse_page_shows_newest_first(client, query):
    made = [
        ResourceFactory(tags={"level": ["gentle"], "type": ["balance"]}, language="de"),
        ResourceFactory(tags={"level": ["moderate"], "stage": ["metastatic"]}),
        ResourceFactory(
            tags={"level": ["gentle"], "stage": ["metastatic"]},
            bone_metastasis_safety=BoneSafety.WITH_MODIFICATIONS,
        ),
        ResourceFactory(video=True, title="Walking video", language="de"),
        ResourceFactory(summary="Gentle walking outdoors.", tags={"level": ["structured"]}),
        ResourceFactory(tags={"level": ["gentle"]}, draft=True),
    ]
    for days, resource in enumerate(made):
        resource.published_at = days_ago(days + 1) if resource.status == Status.PUBLISHED else None
        resource.save()
    expected = browse_slugs(client, query)
    assert expected, "the example data should match something"

    for url, links in [
        (f"{RSS}?{query}", [item["link"] for item in rss_items(client.get(f"{RSS}?{query}"))]),
        (f"{ATOM}?{query}", [e["link"] for e in atom_entries(client.get(f"{ATOM}?{query}"))]),
    ]:
        found = slugs(links)
        assert set(found) == expected, url
        newest_first = [r.slug for r in made if r.slug in expected]  # made newest first
        assert found == newest_first, url


def test_feed_ignores_referral_and_tracking_parameters_but_keeps_filters(client):
    ResourceFactory(title="Gentle one", tags={"level": ["gentle"]})
    ResourceFactory(title="Moderate one", tags={"level": ["moderate"]})
    response = client.get(RSS, {"level": "gentle", "ref": "clinic", "utm_source": "x"})
    assert [item["title"] for item in rss_items(response)] == ["Gentle one"]
    channel = xml_of(response).find("channel")
    assert channel.findtext("link") == "http://testserver/en/resources/?level=gentle"
    assert "Fitness level: Gentle" in channel.findtext("description")


@pytest.mark.parametrize(
    "query",
    [
        {"level": "nope"},
        {"bone": "not-reviewed"},  # exists, but is never public
        {"kind": "podcast"},
        {"lang": "fr"},
        {"level": ["gentle", "<script>"]},
        {"q": "x" * 201},
    ],
)
def test_unknown_filter_value_answers_400_never_an_unfiltered_feed(client, query):
    ResourceFactory(title="Gentle one", tags={"level": ["gentle"]})
    for url in [RSS, ATOM]:
        response = client.get(url, query)
        assert response.status_code == 400, url
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
        text = response.content.decode()
        assert "Gentle one" not in text
        assert f"{next(iter(query))}: " in text  # names the parameter


def test_feed_holds_the_50_newest_and_stays_within_the_query_budget(client):
    for days in range(55):
        ResourceFactory(
            title=f"Walk {days}",
            published_at=days_ago(days + 1),
            tags={"level": ["gentle"], "type": ["balance", "strength"], "stage": ["metastatic"]},
        )
    for url in [RSS, ATOM, f"{RSS}?level=gentle&type=balance&bone=suitable&q=walk"]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, url
        assert len(queries) <= 8, url
    items = rss_items(client.get(RSS))
    assert len(items) == 50
    assert items[0]["title"] == "Walk 0"  # published a day ago
    assert items[-1]["title"] == "Walk 49"


def test_home_and_browse_pages_announce_their_feeds(client):
    home = client.get("/de/").content.decode()
    assert '<link rel="alternate" type="application/rss+xml"' in home
    assert 'href="/de/feeds/rss/"' in home
    assert 'href="/de/feeds/atom/"' in home
    browse = client.get("/en/resources/?level=gentle&level=moderate").content.decode()
    assert 'href="/en/feeds/rss/?level=gentle&amp;level=moderate"' in browse
    assert 'href="/en/feeds/atom/?level=gentle&amp;level=moderate"' in browse
    bad = client.get("/en/resources/?level=nope").content.decode()
    assert "application/rss+xml" not in bad


def test_feeds_answer_only_safe_methods_and_set_no_cookies(client):
    assert client.post(RSS).status_code == 405
    assert client.head(ATOM).status_code == 200
    assert not client.get(RSS).cookies
