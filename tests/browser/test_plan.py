""" "My plan" in a real browser: saved in localStorage only, rendered by the server, printed.

Issue 3's "Done means": a German visitor on a phone goes from the home page to a filtered list,
saves two videos and prints her plan on one or two A4 pages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from resources.models import BoneSafety
from tests.factories import ResourceFactory

pytestmark = [
    pytest.mark.browser,
    # The live server (another thread) must see what the test writes: commit it.
    pytest.mark.django_db(transaction=True),
]

# What the self-check suggests to someone who cannot stand up or walk far.
SEATED = {"level": ["bed-or-chair"], "stage": ["metastatic"]}


def pdf_pages(pdf: bytes) -> int:
    """Pages in a PDF written by Chromium (its page objects are not compressed)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def save_button(page: Any, title: str) -> Any:
    card = page.locator("article.card", has=page.get_by_role("link", name=title, exact=True))
    return card.locator("button.plan-toggle")


def test_saving_two_resources_opening_the_plan_and_removing_one(live_server: Any, page: Any):
    ResourceFactory(title="Sitzmarsch", language="de")
    ResourceFactory(title="Balance an der Küche", language="de")
    ResourceFactory(title="Nicht gespeichert", language="de")
    page.goto(live_server.url + "/de/resources/")
    for title in ("Sitzmarsch", "Balance an der Küche"):
        button = save_button(page, title)
        assert button.get_attribute("aria-pressed") == "false"
        button.click()
        assert button.get_attribute("aria-pressed") == "true"
    assert save_button(page, "Nicht gespeichert").get_attribute("aria-pressed") == "false"

    page.locator(".site-nav a[href='/de/my-plan/']").click()
    page.wait_for_url("**/de/my-plan/?r=*")
    titles = page.locator(".plan-title").all_inner_texts()
    assert titles == ["Sitzmarsch", "Balance an der Küche"]

    page.locator(".plan-item", has_text="Sitzmarsch").locator("button.plan-remove").click()
    assert page.locator(".plan-title").all_inner_texts() == ["Balance an der Küche"]
    page.reload()
    assert page.locator(".plan-title").all_inner_texts() == ["Balance an der Küche"]
    page.goto(live_server.url + "/de/my-plan/")
    page.wait_for_url("**/de/my-plan/?r=*")
    assert page.locator(".plan-title").all_inner_texts() == ["Balance an der Küche"]
    assert page.context.cookies() == []


def test_the_printed_plan_has_no_header_or_buttons_and_shows_the_addresses(
    live_server: Any, page: Any
):
    resource = ResourceFactory(
        title="Wandliegestütz", bone_metastasis_safety=BoneSafety.CLEARANCE_NEEDED
    )
    page.goto(f"{live_server.url}/en/my-plan/?r={resource.slug}")
    page.locator("button.plan-print").wait_for()
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()
    assert not page.locator(".site-footer").is_visible()
    assert not page.locator("button.plan-print").is_visible()
    assert not page.locator("button.plan-remove").is_visible()
    assert (
        page.locator(".plan-url").inner_text() == f"{live_server.url}/en/resources/{resource.slug}/"
    )
    assert page.locator(".plan-item .callout").is_visible()
    assert page.locator(".plan-date").is_visible()


def test_without_javascript_the_plan_page_explains_saving_and_shows_no_buttons(
    live_server: Any, new_context: Callable[..., Any]
):
    resource = ResourceFactory(title="Ohne Skript")
    page = new_context(java_script_enabled=False).new_page()
    page.goto(live_server.url + "/de/my-plan/")
    assert page.locator("[data-plan-needs-js]").is_visible()
    page.goto(live_server.url + "/de/resources/")
    assert page.get_by_role("link", name="Ohne Skript").is_visible()
    assert page.locator("button.plan-toggle").count() == 0
    page.goto(f"{live_server.url}/de/my-plan/?r={resource.slug}")
    assert page.locator(".plan-title").all_inner_texts() == ["Ohne Skript"]


def _to_a_list_of_videos(page: Any, origin: str) -> None:
    """From the home page to a filtered list: through the self-check if it exists yet."""
    response = page.goto(origin + "/de/find/")
    if response is not None and response.status == 200:
        for _ in range(6):
            if "/resources/" in page.url:
                break
            form = page.locator("main form").first
            for group in form.locator("fieldset").all():
                # A tired visitor: "no" where it is offered, else the first answer.
                radios = group.locator("input[type=radio]")
                no = group.locator("input[type=radio][value=no]")
                if no.count():
                    no.first.check()
                elif radios.count():
                    radios.first.check()
            form.locator("[type=submit]").last.click()
            page.wait_for_load_state()
        if "/resources/" in page.url:
            return
    page.goto(origin + "/de/resources/?kind=video")


def test_a_german_visitor_on_a_phone_saves_two_videos_and_prints_her_plan(
    live_server: Any, new_context: Callable[..., Any]
):
    ResourceFactory(title="Sanfte Stuhlübungen", language="de", video=True, tags=SEATED)
    ResourceFactory(
        title="Gleichgewicht im Sitzen",
        language="de",
        vimeo=True,
        tags=SEATED,
        bone_metastasis_safety=BoneSafety.WITH_MODIFICATIONS,
    )
    page = new_context(viewport={"width": 390, "height": 844}, locale="de-DE").new_page()
    page.goto(live_server.url + "/de/")
    assert page.locator("html").get_attribute("lang") == "de"
    _to_a_list_of_videos(page, live_server.url)
    assert "/de/resources/" in page.url
    for title in ("Sanfte Stuhlübungen", "Gleichgewicht im Sitzen"):
        button = save_button(page, title)
        button.click()
        assert button.get_attribute("aria-pressed") == "true"

    page.goto(live_server.url + "/de/")
    page.locator(".site-nav a[href='/de/my-plan/']").click()
    page.wait_for_url("**/de/my-plan/?r=*")
    assert sorted(page.locator(".plan-title").all_inner_texts()) == [
        "Gleichgewicht im Sitzen",
        "Sanfte Stuhlübungen",
    ]
    assert page.locator("h1").count() == 1
    pdf = page.pdf(format="A4")
    assert 1 <= pdf_pages(pdf) <= 2
    assert page.context.cookies() == []
