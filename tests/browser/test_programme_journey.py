"""#13 "Done means": a patient in Utrecht, on a phone, finds an online and an in-person
programme that accept people with bone metastases in three taps, and prints the questions
for her care team."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from resources.models import BoneAcceptance
from tests.programmes.factories import AMSTERDAM, UTRECHT, ProgrammeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {
    "viewport": {"width": 375, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    # The Dom tower, to many more decimals than the page may send.
    "geolocation": {"latitude": 52.090737, "longitude": 5.121420},
    "permissions": ["geolocation"],
    "locale": "nl-NL",
}
YES_NO = {
    "unstable": "no",
    "daily": "no",
    "falls": "no",
    "symptoms": "no",
    "metastases": "yes",
    "treatment": "yes",
    "new_to_exercise": "no",
}


@pytest.fixture
def listings() -> None:
    ProgrammeFactory(
        name="Sterk Samen Amsterdam",
        located=("Amsterdam", "NL", AMSTERDAM),
        languages="nl",
    )
    ProgrammeFactory(
        name="Sterk Samen Utrecht", located=("Utrecht", "NL", UTRECHT), languages="nl,en"
    )
    ProgrammeFactory(
        name="Utrecht gym, no metastases",
        located=("Utrecht", "NL", UTRECHT),
        bone_metastases=BoneAcceptance.NOT_ACCEPTED,
    )
    ProgrammeFactory(name="Online circuit class", online=True, languages="en,nl")


def test_three_taps_to_an_online_and_an_in_person_programme_then_print_the_questions(
    listings: None, live_server, new_context: Callable[..., Any]
) -> None:
    context = new_context(**PHONE)
    # Record the print call instead of opening a dialog.
    context.add_init_script("window.print = () => { window.__printed = true; };")
    page = context.new_page()
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url))
    page.goto(live_server.url + "/nl/")

    page.get_by_role("link", name="Programma's", exact=True).tap()  # 1
    page.get_by_role("checkbox", name=re.compile(r"^\s*Welkom\s+\(")).tap()  # 2: bone metastases
    page.get_by_role("button", name="Sorteren op afstand tot mij").tap()  # 3
    page.wait_for_url(re.compile(r"near="))

    assert "near=52.09%2C5.12" in page.url  # rounded on the device: about 1 km
    assert not any("52.0907" in url for url in sent)
    in_person = page.locator("h3:has-text('Programma\\'s op locatie') + ul h3")
    online = page.locator("h3:has-text('Online programma\\'s') + ul h3")
    assert in_person.all_inner_texts() == ["Sterk Samen Utrecht", "Sterk Samen Amsterdam"]
    assert online.all_inner_texts() == ["Online circuit class"]
    assert "Neemt mensen met botmetastasen aan" in page.locator(".results").inner_text()
    assert context.cookies() == []

    page.get_by_role("link", name="Welke begeleiding past bij mij?").tap()
    for name, answer in YES_NO.items():
        page.locator(f"input[name={name}][value={answer}]").tap()
    page.get_by_role("button", name="Mijn suggestie tonen").tap()
    assert "Een begeleid programma in de buurt" in page.locator("#level-heading").inner_text()
    page.get_by_role("link", name="Vragen voor mijn behandelteam (om te printen)").tap()
    page.get_by_role("button", name="Printen").tap()
    assert page.evaluate("window.__printed") is True
    assert page.locator("h1").inner_text() == "Vragen voor mijn behandelteam"
    pdf = page.pdf(format="A4", print_background=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1, "the sheet prints on one page"
    assert context.cookies() == []
