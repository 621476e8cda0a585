"""The Done-means journey of #15 in a real browser: a clinician builds a German handout with an
exercise prescription, it prints on one A4 page, and its QR code opens the same filters."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import zxingcpp
from PIL import Image

from resources.models import BoneSafety
from tests.factories import ResourceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every field at its longest: all choices ticked, a 300-character note.
LONGEST = (
    "rx_days=2&rx_intensity=vigorous&rx_borg=4&rx_minutes=20"
    "&rx_type=aerobic&rx_type=strength&rx_type=balance&rx_type=flexibility&rx_type=breathing"
    "&rx_avoid=spinal-flexion&rx_avoid=spinal-twist&rx_avoid=loaded-hip&rx_avoid=loaded-shoulder"
    "&rx_avoid=impact&rx_avoid=heavy-load&rx_avoid=fall-risk&rx_avoid=end-range-stretch"
    "&rx_site=spine&rx_site=ribs&rx_site=pelvis-hip&rx_cleared=walking&rx_cleared=home"
    "&rx_cleared=class&rx_cleared=supervised&rx_cleared=strength&rx_note=" + "Wort+" * 60
)
FILTERS = {"bone": ["suitable"], "lang": ["de"], "level": ["gentle"]}


def _pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def test_a_german_handout_with_a_prescription_prints_on_one_page_and_its_qr_opens_the_filters(
    live_server, new_context: Callable[..., Any], tmp_path
) -> None:
    for number in range(12):
        ResourceFactory(
            title=f"Übungen im Sitzen, Teil {number + 1}: Kraft für Arme und Beine",
            language="de",
            bone_metastasis_safety=BoneSafety.SUITABLE,
            tags={"level": ["gentle"]},
        )
    page = new_context(device_scale_factor=2).new_page()
    page.goto(f"{live_server.url}/de/for-clinics/")

    for name, values in FILTERS.items():
        for value in values:
            page.check(f"input[name={name}][value={value}]")
    page.click(".prescription-fields summary")
    page.fill("#id_rx_days", "2")
    page.select_option("#id_rx_intensity", "moderate")
    page.fill("#id_rx_minutes", "20")
    page.check("input[name=rx_avoid][value=spinal-flexion]")
    page.click(".form-actions button[type=submit]")
    page.click(".link-result a.button[href*='/handout/']")

    assert urlsplit(page.url).path == "/de/for-clinics/handout/"
    prescription = page.locator(".handout-prescription").inner_text()
    assert "Ihr Bewegungsrezept" in prescription
    assert "2 Tage pro Woche" in prescription
    assert "Mittel: Sie können sprechen, aber nicht singen" in prescription
    assert "20 Minuten pro Einheit" in prescription
    assert "Belastete Beugung der Wirbelsäule" in prescription

    pdf = page.pdf(format="A4", print_background=True)
    assert _pdf_pages(pdf) == 1, f"the handout prints on {_pdf_pages(pdf)} pages"

    # Scan the code as a phone would: from the picture on the page, not from its address.
    shot = tmp_path / "qr.png"
    page.locator("img.handout-qr").screenshot(path=str(shot))
    decoded = [result.text for result in zxingcpp.read_barcodes(Image.open(shot))]
    assert len(decoded) == 1, decoded
    assert "rx_" not in decoded[0]  # the prescription stays on the paper

    page.goto(decoded[0])
    assert urlsplit(page.url).path == "/de/resources/"
    assert parse_qs(urlsplit(page.url).query) == FILTERS
    for name, values in FILTERS.items():
        for value in values:
            assert page.is_checked(f"input[name={name}][value={value}]")


@pytest.mark.parametrize("language", ["de", "pl"])
def test_the_longest_prescription_still_prints_on_one_page(
    language: str, live_server, new_context: Callable[..., Any]
) -> None:
    chosen = [
        ResourceFactory(
            title=f"Übungen im Sitzen, Teil {number + 1}: Kraft für Arme und Beine",
            language="de",
            tags={"level": ["gentle"]},
        )
        for number in range(12)
    ]
    page = new_context().new_page()
    handouts = {
        "filters": "bone=suitable&lang=de&level=gentle",
        "two resources": "&".join(f"resource={resource.slug}" for resource in chosen[:2]),
    }
    for name, query in handouts.items():
        response = page.goto(f"{live_server.url}/{language}/for-clinics/handout/?{query}&{LONGEST}")
        assert response is not None and response.status == 200, name
        assert page.locator(".handout-prescription dd").count() == 8, name
        pdf = page.pdf(format="A4", print_background=True)
        assert _pdf_pages(pdf) == 1, f"{name} in {language}: {_pdf_pages(pdf)} pages"
