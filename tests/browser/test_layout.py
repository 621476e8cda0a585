"""Layout a person on a small phone, or reading at 200 % zoom, would notice (docs/architecture.md).

A page that scrolls sideways at 320 CSS pixels fails WCAG 1.4.10 (reflow). Zooming a 1280 px
window to 200 % gives a 640 px CSS viewport, which is what the zoom test emulates. And the
browse form must filter with JavaScript off, since patients use whatever browser they have.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from resources.models import BoneSafety, Kind, Resource
from tests.factories import ResourceFactory

pytestmark = [
    pytest.mark.browser,
    # The live server (another thread) must see what the test writes: commit it.
    pytest.mark.django_db(transaction=True),
]

# Real titles are long, and German ones have long compound words that cannot wrap at spaces.
LONG_TITLES = [
    "Sitzgymnastik mit dem Widerstandsband: Oberkörperkräftigungsübungen für zu Hause",
    "Supported standing balance exercises with a kitchen counter for people with bone metastases",
    "Rehabilitationssportgruppen und Bewegungsangebote in Ihrer Nähe finden",
    "Breathing and relaxation in bed: a ten-minute routine for low-energy days",
    "Ademhalingsoefeningen en ontspanningsoefeningen voor vermoeide dagen",
    "Interval cycling and progressive machine-based resistance training (supervised)",
    "Fysiotherapeutische begeleiding bij botmetastasen: wat kunt u verwachten?",
    "Ćwiczenia wzmacniające w pozycji siedzącej z taśmą oporową dla początkujących",
    "Gentle chair-based strength routine with light resistance bands and rests",
    "Styrketräningsprogram för armar och ben med gummiband och stol",
    "Walking programme: from five minutes to thirty minutes over twelve weeks",
    "Ejercicios de equilibrio con apoyo para reducir el riesgo de caídas",
]
SAFETY = [
    BoneSafety.SUITABLE,
    BoneSafety.WITH_MODIFICATIONS,
    BoneSafety.CLEARANCE_NEEDED,
    BoneSafety.NOT_RECOMMENDED,
]
PHONE = {"width": 320, "height": 640}
ZOOMED_1280 = {"width": 640, "height": 400}


@pytest.fixture
def catalogue() -> list[Resource]:
    """Twelve resources with long titles, every rating, and four of them gentle."""
    resources = []
    for number, title in enumerate(LONG_TITLES):
        gentle = number % 3 == 0
        resources.append(
            ResourceFactory(
                title=title,
                summary=(
                    "A longer summary that wraps over several lines on a phone, as real "
                    "summaries do: who it is for, what you need and how long it takes."
                ),
                bone_metastasis_safety=SAFETY[number % len(SAFETY)],
                duration_minutes=10 + number,
                tags={
                    "level": ["gentle", "bed-or-chair"] if gentle else ["moderate"],
                    "stage": ["metastatic", "locally-advanced"],
                    "type": ["strength", "balance", "breathing"],
                },
            )
        )
    return resources


def horizontal_overflow(page: Any) -> dict[str, Any]:
    """The document's overflow, and the elements that stick out past the viewport's edge."""
    return page.evaluate(
        """() => {
            const root = document.documentElement;
            const width = root.clientWidth;
            const culprits = [];
            for (const el of document.body.querySelectorAll("*")) {
                const box = el.getBoundingClientRect();
                if (box.width && box.right > width + 1) {
                    const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
                        + (el.classList.length ? "." + [...el.classList].join(".") : "");
                    culprits.push(`${name} (right edge ${Math.round(box.right)}px)`);
                }
            }
            culprits.length = Math.min(culprits.length, 10);
            return {scrollWidth: root.scrollWidth, clientWidth: width, culprits};
        }"""
    )


def assert_no_horizontal_scroll(page: Any, url: str) -> None:
    response = page.goto(url)
    assert response.status == 200
    # The layout is the stylesheet's: make sure it applied (the skip link is moved off-screen).
    assert page.locator("a.skip-link").evaluate("el => getComputedStyle(el).position") == (
        "absolute"
    )
    overflow = horizontal_overflow(page)
    assert overflow["scrollWidth"] <= overflow["clientWidth"], (
        f"{url} scrolls sideways at {overflow['clientWidth']}px: {overflow}"
    )


def test_browse_page_fits_a_320px_phone(catalogue: list[Resource], live_server, new_context):
    page = new_context(viewport=PHONE).new_page()
    assert_no_horizontal_scroll(page, live_server.url + "/en/resources/")
    assert page.locator(".cards > li").count() == len(catalogue)


@pytest.mark.parametrize(
    "path",
    [
        "/en/",
        "/en/resources/?level=gentle&bone=suitable&bone=clearance-needed&type=balance",
        "/en/safety/",
        "/en/about/",
    ],
    ids=["home", "browse-filtered", "safety", "about"],
)
def test_other_pages_fit_a_320px_phone(
    path: str, catalogue: list[Resource], live_server, new_context
) -> None:
    page = new_context(viewport=PHONE).new_page()
    assert_no_horizontal_scroll(page, live_server.url + path)


@pytest.mark.parametrize("kind", [Kind.VIDEO, Kind.GUIDE])
def test_detail_page_fits_a_320px_phone(kind: str, live_server, new_context) -> None:
    resource = ResourceFactory(
        title=LONG_TITLES[0],
        bone_metastasis_safety=BoneSafety.CLEARANCE_NEEDED,
        video=kind == Kind.VIDEO,
        tags={"level": ["gentle"], "stage": ["metastatic"], "type": ["strength", "balance"]},
    )
    page = new_context(viewport=PHONE).new_page()
    assert_no_horizontal_scroll(page, live_server.url + resource.get_absolute_url())


@pytest.mark.parametrize("page_name", ["home", "browse", "detail"])
def test_page_reflows_at_200_percent_zoom(
    page_name: str, catalogue: list[Resource], live_server, new_context
) -> None:
    video = ResourceFactory(
        video=True,
        title=LONG_TITLES[2],
        bone_metastasis_safety=BoneSafety.WITH_MODIFICATIONS,
        tags={"level": ["gentle"], "type": ["aerobic"]},
    )
    path = {"home": "/en/", "browse": "/en/resources/", "detail": video.get_absolute_url()}
    page = new_context(viewport=ZOOMED_1280).new_page()
    assert_no_horizontal_scroll(page, live_server.url + path[page_name])


def test_browse_form_filters_without_javascript(
    catalogue: list[Resource], live_server, new_context
) -> None:
    page = new_context(java_script_enabled=False).new_page()
    page.goto(live_server.url + "/en/resources/")
    heading = page.locator("#results-heading")
    assert heading.inner_text().strip() == f"{len(catalogue)} resources found"

    gentle = page.get_by_role("checkbox", name=re.compile(r"^Gentle"))
    option_text = " ".join(gentle.locator("xpath=..").text_content().split())
    promised = re.search(r"\((\d+) results?\)", option_text)
    gentle.check()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"[?&]level=gentle(&|$)"))

    expected = sorted(r.title for r in catalogue if "gentle" in {t.slug for t in r.fitness_levels})
    assert len(expected) == 4
    assert heading.inner_text().strip() == f"{len(expected)} resources found"
    assert promised and int(promised.group(1)) == len(expected), "the facet count misled"
    titles = sorted(t.strip() for t in page.locator(".card-title").all_inner_texts())
    assert titles == expected
    assert page.get_by_role("checkbox", name=re.compile(r"^Gentle")).is_checked()
