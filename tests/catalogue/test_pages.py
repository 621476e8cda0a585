"""Public pages: what a visitor sees, what they never see, and the guard rails."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from resources.models import BoneSafety, Kind, Status

from ..factories import ResourceFactory

pytestmark = pytest.mark.django_db

LANGUAGES = ["en", "de", "nl", "es", "pl", "sv"]


def public_urls(slug: str) -> list[str]:
    paths = [
        "",
        "resources/",
        "resources/?level=gentle",
        "resources/?level=bogus",
        f"resources/{slug}/",
        "safety/",
        "about/",
        "no-such-page/",
    ]
    return [f"/{language}/{path}" for language in LANGUAGES for path in paths]


def test_root_redirects_to_the_visitors_language(client):
    assert client.get("/").headers["Location"] == "/en/"
    assert (
        client.get("/", headers={"accept-language": "de-DE,de;q=0.9"}).headers["Location"] == "/de/"
    )


def test_every_public_page_has_one_h1_a_skip_link_and_its_language(client):
    resource = ResourceFactory(bone_metastasis_safety=BoneSafety.WITH_MODIFICATIONS)
    for url in public_urls(resource.slug):
        response = client.get(url)
        assert response.status_code in {200, 400, 404}, url
        html = response.content.decode()
        assert len(re.findall(r"<h1[\s>]", html)) == 1, url
        assert 'class="skip-link" href="#main"' in html, url
        assert 'id="main"' in html, url
        assert re.search(rf'<html lang="{url.split("/")[1]}">', html), url


def test_anonymous_pages_set_no_cookies_and_have_no_inline_code(client):
    resource = ResourceFactory(kind=Kind.VIDEO, url="https://youtu.be/vtA1R87lkv8")
    for url in public_urls(resource.slug):
        response = client.get(url)
        assert not response.cookies, url
        html = response.content.decode()
        assert "style=" not in html, url
        # JSON-LD data blocks are never executed, so CSP allows them; nothing else inline.
        inline_code = r'<script(?![^>]*\b(?:src=|type="application/ld\+json"))[^>]*>'
        assert re.search(inline_code, html) is None, url
        assert "onclick" not in html, url


def test_unpublished_resource_is_not_found_anywhere(client):
    for status in [Status.DRAFT, Status.IN_REVIEW, Status.ARCHIVED]:
        hidden = ResourceFactory(status=status, title=f"Hidden {status}", published_at=None)
        assert client.get(hidden.get_absolute_url()).status_code == 404
        assert f"Hidden {status}" not in client.get("/en/resources/").content.decode()
        assert f"Hidden {status}" not in client.get("/en/").content.decode()
        assert (
            f"Hidden {status}" not in client.get("/en/resources/", {"q": "Hidden"}).content.decode()
        )


def test_resource_scheduled_for_the_future_is_not_public_yet(client):
    from datetime import timedelta

    from django.utils import timezone

    later = ResourceFactory(published_at=timezone.now() + timedelta(days=1))
    assert client.get(later.get_absolute_url()).status_code == 404


def test_detail_shows_the_safety_rating_in_words_with_an_icon(client):
    resource = ResourceFactory(bone_metastasis_safety=BoneSafety.SUITABLE)
    html = client.get(resource.get_absolute_url()).content.decode()
    assert "Generally suitable" in html
    assert "#safety-suitable" in html
    assert "If you have cancer in your bones" not in html  # no callout when suitable


@pytest.mark.parametrize(
    ("rating", "words"),
    [
        (BoneSafety.WITH_MODIFICATIONS, "Follow the easier versions"),
        (BoneSafety.CLEARANCE_NEEDED, "Only do this after your oncology team"),
        (BoneSafety.NOT_RECOMMENDED, "This is not recommended if you have bone metastases"),
    ],
)
def test_anything_not_generally_suitable_carries_a_warning_callout(client, rating, words):
    resource = ResourceFactory(bone_metastasis_safety=rating)
    html = client.get(resource.get_absolute_url()).content.decode()
    assert "If you have cancer in your bones" in html
    assert words in html
    card = client.get("/en/resources/").content.decode()
    assert 'class="callout callout-warning callout-compact"' in card


def test_demo_content_says_it_was_not_clinically_reviewed(client):
    resource = ResourceFactory(rating_is_provisional=True, reviewed_by="")
    html = client.get(resource.get_absolute_url()).content.decode()
    assert "No clinician has reviewed it yet" in html
    assert "Reviewed by" not in html


def test_reviewed_content_names_its_reviewer(client):
    resource = ResourceFactory(reviewed_by="A. Jansen, physiotherapist")
    html = client.get(resource.get_absolute_url()).content.decode()
    assert "Reviewed by A. Jansen, physiotherapist" in html


def test_video_page_loads_nothing_from_youtube_until_play(client):
    resource = ResourceFactory(kind=Kind.VIDEO, url="https://www.youtube.com/watch?v=vtA1R87lkv8")
    html = client.get(resource.get_absolute_url()).content.decode()
    assert "<iframe" not in html
    assert 'data-embed-url="https://www.youtube-nocookie.com/embed/vtA1R87lkv8?' in html
    assert "img.youtube.com" not in html and "ytimg" not in html
    # The only YouTube address in the page is the privacy-enhanced player behind "Play".
    # JSON-LD data blocks name schema.org and the publisher's site; browsers load neither.
    loaded = re.sub(r'<script type="application/ld\+json">.*?</script>', "", html, flags=re.DOTALL)
    # Links (the licence's page, the video's own page) are followed only when clicked.
    loaded = re.sub(r"<a [^>]*>", "", loaded)
    hosts = set(re.findall(r"https://([^/\"']+)", loaded))
    assert hosts <= {"www.youtube-nocookie.com", "www.youtube.com"}


def test_guide_body_is_rendered_from_markdown_and_sanitised(client):
    resource = ResourceFactory(
        body="## Steps\n\n1. Sit tall\n2. Breathe\n\n"
        "<script>alert(1)</script>\n\n[x](javascript:alert(1))"
    )
    html = client.get(resource.get_absolute_url()).content.decode()
    assert "<li>Sit tall</li>" in html
    assert "alert(1)</script>" not in html
    assert "javascript:" not in html


def test_external_link_says_it_leaves_the_site(client):
    resource = ResourceFactory(kind=Kind.LINK, url="https://www.macmillan.org.uk/x", body="")
    html = client.get(resource.get_absolute_url()).content.decode()
    assert 'href="https://www.macmillan.org.uk/x" rel="noopener noreferrer external"' in html
    assert "(leaves this site)" in html


def test_early_stage_resources_carry_a_note(client):
    resource = ResourceFactory(tags={"stage": ["early"]})
    html = client.get(resource.get_absolute_url()).content.decode()
    assert "Written for early breast cancer: check with your team." in html


def test_detail_and_home_query_counts(client):
    resource = ResourceFactory(tags={"level": ["gentle"], "type": ["balance"]})
    ResourceFactory.create_batch(5)
    with CaptureQueriesContext(connection) as detail:
        assert client.get(resource.get_absolute_url()).status_code == 200
    with CaptureQueriesContext(connection) as home:
        assert client.get("/en/").status_code == 200
    assert len(detail) <= 8
    assert len(home) <= 8


def test_language_switcher_keeps_page_and_filters(client):
    html = client.get("/en/resources/", {"level": "gentle"}).content.decode()
    assert 'href="/de/resources/?level=gentle"' in html


def test_public_pages_answer_only_safe_methods(client):
    assert client.post("/en/resources/").status_code == 405
    assert client.head("/en/resources/").status_code == 200


def test_security_headers_on_public_pages(client):
    response = client.get("/en/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
