"""Privacy in a real browser, with the Content Security Policy enforced (docs/architecture.md).

Anonymous pages set no cookies and contact no other website; a video page contacts the video
host only after the visitor presses Play, and then only its privacy-enhanced player. Every
request to another origin is aborted, so nothing leaves the machine whatever the page does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from resources.models import BoneSafety, Resource
from tests.browser.conftest import Traffic
from tests.factories import ResourceFactory

pytestmark = [
    pytest.mark.browser,
    # The live server (another thread) must see what the test writes: commit it.
    pytest.mark.django_db(transaction=True),
]


def load(page: Any, origin: str, path: str) -> tuple[Traffic, Any]:
    traffic = Traffic(page, origin)
    response = page.goto(origin + path)
    # Late requests (fonts, icons, anything a script fetches) happen after "load".
    page.wait_for_load_state("networkidle")
    return traffic, response


def assert_csp_enforced(response: Any) -> None:
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy, f"no enforced CSP on {response.url}: {policy!r}"


@pytest.fixture
def youtube_video() -> Resource:
    return ResourceFactory(
        video=True,
        url="https://www.youtube.com/watch?v=vtA1R87lkv8",
        title="Moving Through Cancer",
        tags={"level": ["gentle"], "type": ["aerobic"]},
    )


def test_video_page_contacts_nobody_and_sets_no_cookie_until_play(
    youtube_video: Resource, live_server, page
) -> None:
    traffic, response = load(page, live_server.url, youtube_video.get_absolute_url())

    assert response.status == 200
    assert_csp_enforced(response)
    assert traffic.elsewhere == []
    assert page.context.cookies() == []
    assert traffic.csp_violations == []
    assert page.locator("iframe").count() == 0
    # The stylesheet and the click-to-play script did load from our origin.
    assert any("/static/css/" in url for url in traffic.requests)
    assert any("/static/js/player" in url for url in traffic.requests)


@pytest.mark.parametrize(
    ("video", "player"),
    [
        (
            {"url": "https://www.youtube.com/watch?v=vtA1R87lkv8"},
            "https://www.youtube-nocookie.com/embed/vtA1R87lkv8",
        ),
        ({"url": "https://vimeo.com/76979871"}, "https://player.vimeo.com/video/76979871?dnt=1"),
    ],
    ids=["youtube", "vimeo"],
)
def test_pressing_play_embeds_only_the_privacy_enhanced_player(
    video: dict[str, str], player: str, live_server, page
) -> None:
    resource = ResourceFactory(video=True, title="Seated breathing with Anna", **video)
    traffic, _ = load(page, live_server.url, resource.get_absolute_url())
    assert traffic.elsewhere == []

    page.get_by_role("link", name="Play video").click()

    frame = page.locator("[data-player] iframe")
    assert frame.get_attribute("src").startswith(player)
    assert frame.get_attribute("title") == resource.title, "the player has no accessible name"
    # The page did not navigate away: the script swapped the link for the player.
    assert page.url == live_server.url + resource.get_absolute_url()
    # The CSP lets the player frame in (frame-src); the request itself was aborted here.
    assert traffic.csp_violations == []
    assert {urlsplit(url).hostname for url in traffic.elsewhere} <= {urlsplit(player).hostname}
    assert page.context.cookies() == []


PAGES: dict[str, Callable[[Resource], str]] = {
    "home": lambda r: "/en/",
    "browse": lambda r: "/en/resources/",
    "browse-filtered": lambda r: "/en/resources/?level=gentle&bone=with-modifications&q=chair",
    "guide": lambda r: r.get_absolute_url(),
    "safety": lambda r: "/en/safety/",
    "about": lambda r: "/en/about/",
    "not-found": lambda r: "/en/resources/no-such-resource/",
}


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_page_sets_no_cookie_and_contacts_nobody(name: str, live_server, page) -> None:
    ResourceFactory(video=True, title="Moving Through Cancer")
    guide = ResourceFactory(
        title="Chair exercises for strength",
        bone_metastasis_safety=BoneSafety.WITH_MODIFICATIONS,
        tags={"level": ["gentle"], "type": ["strength"]},
    )
    traffic, response = load(page, live_server.url, PAGES[name](guide))

    assert response.status == (404 if name == "not-found" else 200)
    assert_csp_enforced(response)
    assert traffic.elsewhere == []
    assert page.context.cookies() == []
    assert traffic.csp_violations == []
