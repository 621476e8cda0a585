"""WCAG 2.2 AA in a real browser, in every language: axe, keyboard, targets, spacing, zoom, print.

test_accessibility.py audits the English pages one context per page; this module audits every
public page in all six languages (one context per language, pages reused, to stay fast), and
adds the checks axe cannot make: the keyboard walk, target sizes, text spacing (1.4.12),
reflow at 320 px and 200 % zoom (1.4.10), reduced motion (2.3.3) and the print stylesheet.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from resources.models import BoneSafety, Resource
from tests.browser.test_accessibility import describe, run_axe
from tests.factories import ResourceFactory
from tests.programmes.factories import UTRECHT, ProgrammeFactory

pytestmark = [
    pytest.mark.browser,
    # The live server (another thread) must see what the test writes: commit it.
    pytest.mark.django_db(transaction=True),
]

LANGUAGES = ["en", "de", "nl", "es", "pl", "sv"]
PHONE = {"width": 375, "height": 740}
PRESCRIPTION = (
    "&rx_days=2&rx_intensity=moderate&rx_borg=4&rx_minutes=20&rx_type=strength"
    "&rx_avoid=spinal-flexion&rx_site=spine&rx_cleared=home&rx_note=Start+slowly."
)


@pytest.fixture
def content() -> dict[str, Resource]:
    return {
        "video": ResourceFactory(
            video=True,
            title="Moving Through Cancer",
            summary="A short film about why exercise helps during and after cancer treatment.",
            tags={"level": ["gentle"], "stage": ["metastatic"], "type": ["aerobic"]},
        ),
        "guide": ResourceFactory(
            title="A seated strength routine",
            body="Sit tall on a firm chair.\n\nSee [the charity's page](https://example.org/chair).",
            bone_metastasis_safety=BoneSafety.WITH_MODIFICATIONS,
            tags={"level": ["gentle", "bed-or-chair"], "type": ["strength"]},
        ),
        "programme": ResourceFactory(
            programme=True,
            title="Supervised exercise classes near you",
            bone_metastasis_safety=BoneSafety.CLEARANCE_NEEDED,
            tags={"level": ["structured"], "type": ["strength", "aerobic"]},
        ),
        "link": ResourceFactory(
            link=True,
            title="Running for fitness",
            bone_metastasis_safety=BoneSafety.NOT_RECOMMENDED,
            tags={"level": ["moderate"], "type": ["aerobic"]},
        ),
        "listing": ProgrammeFactory(
            name="Strong Together Utrecht",
            located=("Utrecht", "NL", UTRECHT),
            languages="nl,en",
        ),
    }


def detail_path(resource: Resource, language: str) -> str:
    """The resource's address in another language (its absolute URL is in the active one)."""
    return re.sub(r"^/[a-z]{2}/", f"/{language}/", resource.get_absolute_url())


def public_pages(content: dict[str, Resource], language: str) -> dict[str, tuple[str, set[int]]]:
    """Every public page: name -> (path, the statuses it may answer with)."""
    built_link = "?bone=suitable&lang=de&level=gentle"
    return {
        "home": (f"/{language}/", {200}),
        "browse-filtered": (f"/{language}/resources/?bone=suitable&level=gentle", {200}),
        "browse-invalid": (f"/{language}/resources/?level=nope", {200, 400}),
        "video-detail": (detail_path(content["video"], language), {200}),
        "guide-detail": (detail_path(content["guide"], language), {200}),
        "programme-detail": (detail_path(content["programme"], language), {200}),
        "safety": (f"/{language}/safety/", {200}),
        "about": (f"/{language}/about/", {200}),
        "self-check": (f"/{language}/find/", {200}),
        "my-plan": (f"/{language}/my-plan/", {200}),
        "for-clinics": (f"/{language}/for-clinics/{built_link}", {200}),
        "handout": (f"/{language}/for-clinics/handout/{built_link}", {200}),
        "handout-prescription": (
            f"/{language}/for-clinics/handout/{built_link}{PRESCRIPTION}",
            {200},
        ),
        "for-clinics-prescription-errors": (
            f"/{language}/for-clinics/{built_link}&rx_days=9&rx_note=%07",
            {400},
        ),
        "conversation-guide": (f"/{language}/for-clinics/conversation/", {200}),
        "referral-letter": (f"/{language}/for-clinics/letter/{built_link}", {200}),
        "not-found": (f"/{language}/resources/no-such-resource/", {404}),
        "programmes": (f"/{language}/programmes/?bone=accepted&q=Utrecht", {200}),
        "programmes-invalid": (f"/{language}/programmes/?bone=nope", {400}),
        "programme-listing": (detail_path(content["listing"], language), {200}),
        "support": (f"/{language}/find/support/", {200}),
        "support-answered": (
            f"/{language}/find/support/?unstable=no&daily=no&falls=no&symptoms=no"
            "&metastases=yes&treatment=no&new_to_exercise=no",
            {200},
        ),
        "support-sheet": (f"/{language}/find/support/questions/?metastases=yes", {200}),
        "report-problem": (f"/{language}/report/programme/{content['listing'].slug}/", {200}),
    }


# ---------------------------------------------------------------------------------------------
# 1. axe on every public page, in every language


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_public_page_has_no_axe_violations_in_each_language(
    language: str, content: dict[str, Resource], live_server, new_context, axe_path: Path
) -> None:
    # axe is injected as an inline script, which the CSP rightly refuses: bypass it here only.
    page = new_context(bypass_csp=True).new_page()
    problems = []
    for name, (path, statuses) in public_pages(content, language).items():
        response = page.goto(live_server.url + path)
        assert response is not None
        assert response.status in statuses, f"{name} ({path}) answered {response.status}"
        assert page.locator("html").get_attribute("lang") == language, path
        violations = run_axe(page, axe_path)
        if violations:
            problems.append(f"{path}:\n{describe(violations)}")
    assert not problems, "\n\n".join(problems)


# ---------------------------------------------------------------------------------------------
# 2. Keyboard walk

FOCUS_STATE = """() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    // Scroll into view is the browser's job on Tab; measure where the element is now.
    const x = Math.min(Math.max(box.left + box.width / 2, 0), innerWidth - 1);
    const y = Math.min(Math.max(box.top + box.height / 2, 0), innerHeight - 1);
    const hit = document.elementFromPoint(x, y);
    return {
        tag: el.tagName.toLowerCase(),
        id: el.id,
        type: el.getAttribute("type") || "",
        cls: el.className || "",
        href: el.getAttribute("href") || "",
        inResults: !!el.closest(".results"),
        outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
        shadow: style.boxShadow !== "none",
        covered: !(hit && (hit === el || el.contains(hit))),
        coveredBy: hit ? hit.outerHTML.slice(0, 120) : null,
    };
}"""


def test_keyboard_walk_reaches_skip_link_main_search_and_filters_before_results(
    content: dict[str, Resource], live_server, page
) -> None:
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/de/resources/?level=gentle")

    page.keyboard.press("Tab")
    first = page.evaluate(FOCUS_STATE)
    assert first["cls"] == "skip-link" and first["href"] == "#main"
    assert first["outline"] or first["shadow"], "the focused skip link shows no focus indicator"
    assert not first["covered"], first["coveredBy"]

    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"

    seen: list[dict[str, Any]] = []
    for _ in range(80):
        page.keyboard.press("Tab")
        state = page.evaluate(FOCUS_STATE)
        if state["tag"] == "body":
            break
        seen.append(state)
        described = f"{state['tag']}#{state['id']}.{state['cls']} {state['href']}"
        assert state["outline"] or state["shadow"], f"no visible focus on {described}"
        assert not state["covered"], f"{described} is covered by {state['coveredBy']}"
        if state["inResults"] and state["tag"] == "a":
            break

    order = [s["id"] or s["href"] for s in seen]
    first_result = next(i for i, s in enumerate(seen) if s["inResults"] and s["tag"] == "a")
    search = next(i for i, s in enumerate(seen) if s["id"] == "id_q")
    checkboxes = [i for i, s in enumerate(seen) if s["type"] == "checkbox"]
    assert checkboxes, f"no filter checkbox was reached: {order}"
    assert search < first_result, f"search box after the results: {order}"
    assert max(checkboxes) < first_result, f"filters after the results: {order}"


# ---------------------------------------------------------------------------------------------
# 3. Target size (2.5.8) and our own 44 px controls

TARGETS = """() => {
    const inRunningText = (el) => {
        // 2.5.8's inline exception: a link inside a sentence, among other text.
        if (el.tagName !== "A" || el.classList.contains("button")) return false;
        const block = el.closest("p, li, dd, td");
        if (!block) return false;
        const text = block.textContent.replace(/\\s+/g, " ").trim();
        return text.length > el.textContent.replace(/\\s+/g, " ").trim().length + 3;
    };
    const visible = (el) => {
        const r = el.getBoundingClientRect();
        const s = getComputedStyle(el);
        return r.width > 0 && r.height > 0 && s.visibility !== "hidden"
            && !el.closest(".visually-hidden") && !el.classList.contains("skip-link");
    };
    const els = [...document.querySelectorAll("a[href], button, input, select, textarea,"
        + " label[for]")].filter(visible);
    const boxes = els.map((el) => ({el, r: el.getBoundingClientRect()}));
    const small = [];
    for (const {el, r} of boxes) {
        if (inRunningText(el)) continue;
        if (el.tagName === "LABEL") {
            const input = document.getElementById(el.htmlFor);
            if (!input || input.type !== "checkbox") continue;
        }
        if (r.width >= 24 && r.height >= 24) continue;
        // Spacing exception: a 24 px circle on the target's centre meets no other target.
        const cx = r.left + r.width / 2, cy = r.top + r.height / 2;
        const clash = boxes.some(({el: other, r: o}) => {
            if (other === el || other.contains(el) || el.contains(other)) return false;
            if (el.tagName === "LABEL" && other.id === el.htmlFor) return false;
            if (other.tagName === "LABEL" && other.htmlFor === el.id) return false;
            const dx = Math.max(o.left - cx, 0, cx - o.right);
            const dy = Math.max(o.top - cy, 0, cy - o.bottom);
            return Math.hypot(dx, dy) < 12 && !(o.width < 24 && o.height < 24
                && Math.hypot((o.left + o.right) / 2 - cx, (o.top + o.bottom) / 2 - cy) >= 24);
        });
        if (clash) small.push(`${el.outerHTML.slice(0, 100)} ${r.width}x${r.height}`);
    }
    const low = [];
    for (const el of document.querySelectorAll(".button, button")) {
        if (!visible(el)) continue;
        const r = el.getBoundingClientRect();
        if (r.height < 43.5) low.push(`${el.outerHTML.slice(0, 100)} ${r.height}px high`);
    }
    // A checkbox: the box itself at least 24 px, and its row (box + label) at least 44 px high
    // for a tap with a numb finger; the label is part of the target (it toggles the box).
    for (const box of document.querySelectorAll("input[type=checkbox]")) {
        if (!visible(box)) continue;
        const r = box.getBoundingClientRect();
        const label = document.querySelector(`label[for="${box.id}"]`);
        const l = label ? label.getBoundingClientRect() : r;
        const row = Math.max(r.bottom, l.bottom) - Math.min(r.top, l.top);
        if (r.width < 24 || r.height < 24) {
            low.push(`checkbox #${box.id} is ${r.width}x${r.height}`);
        }
        if (row < 43.5) low.push(`checkbox row #${box.id} is ${row}px high`);
    }
    return {small, low};
}"""


def test_touch_targets_are_big_enough_on_a_phone(
    content: dict[str, Resource], live_server, new_context
) -> None:
    page = new_context(viewport=PHONE).new_page()
    for path in [
        "/de/",
        "/de/resources/?level=gentle",
        detail_path(content["video"], "de"),
        detail_path(content["guide"], "de"),
    ]:
        page.goto(live_server.url + path)
        result = page.evaluate(TARGETS)
        assert not result["small"], f"targets under 24 px on {path}: {result['small']}"
        assert not result["low"], f"our controls under 44 px on {path}: {result['low']}"


# ---------------------------------------------------------------------------------------------
# 4. Text spacing (1.4.12) and reflow at 320 px (1.4.10)

TEXT_SPACING = """
* { line-height: 1.5 !important; letter-spacing: 0.12em !important;
    word-spacing: 0.16em !important; }
p { margin-bottom: 2em !important; }
"""

CLIPPED = """() => {
    const clipped = [];
    for (const el of document.querySelectorAll("body *")) {
        if (!el.textContent.trim() || el.closest(".visually-hidden, .skip-link")) continue;
        const s = getComputedStyle(el);
        const hides = [s.overflowX, s.overflowY].some((o) => o === "hidden" || o === "clip");
        if (!hides) continue;
        if (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1) {
            clipped.push(el.outerHTML.slice(0, 120));
        }
    }
    return {
        clipped,
        pageScroll: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    };
}"""


@pytest.mark.parametrize("language", ["de", "pl"])
def test_text_spacing_clips_nothing_and_320px_needs_no_sideways_scroll(
    language: str, content: dict[str, Resource], live_server, new_context
) -> None:
    # The override stylesheet is what a reader's extension injects; the CSP would refuse it.
    page = new_context(viewport={"width": 320, "height": 640}, bypass_csp=True).new_page()
    for path in [
        f"/{language}/",
        f"/{language}/resources/?level=gentle",
        detail_path(content["video"], language),
        detail_path(content["guide"], language),
    ]:
        page.goto(live_server.url + path)
        before = page.evaluate(CLIPPED)
        assert before["pageScroll"] <= 0, f"{path} scrolls sideways at 320 px"
        page.add_style_tag(content=TEXT_SPACING)
        after = page.evaluate(CLIPPED)
        assert not after["clipped"], f"text spacing clips text on {path}: {after['clipped']}"
        assert after["pageScroll"] <= 0, f"{path} scrolls sideways with text spacing"


def test_200_percent_zoom_needs_no_sideways_scroll(
    content: dict[str, Resource], live_server, new_context
) -> None:
    # 200 % zoom of a 1280 px window is a 640 px viewport.
    page = new_context(viewport={"width": 640, "height": 400}).new_page()
    for path in [
        "/de/",
        "/de/resources/?level=gentle",
        detail_path(content["video"], "de"),
        detail_path(content["guide"], "de"),
        "/de/safety/",
        "/de/for-clinics/?bone=suitable&lang=de&level=gentle",
    ]:
        page.goto(live_server.url + path)
        scroll = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert scroll <= 0, f"{path} scrolls sideways by {scroll}px at 200 % zoom"


# ---------------------------------------------------------------------------------------------
# 5. Reduced motion (2.3.3)


def test_reduced_motion_turns_off_transitions_and_animations(
    content: dict[str, Resource], live_server, new_context
) -> None:
    page = new_context(reduced_motion="reduce").new_page()
    for path in ["/de/", detail_path(content["video"], "de")]:
        page.goto(live_server.url + path)
        moving = page.evaluate(
            """() => [...document.querySelectorAll("a, button, .button, input")]
                .map((el) => getComputedStyle(el))
                .filter((s) => s.transitionDuration.split(",").some((d) => parseFloat(d) > 0)
                    || s.animationDuration.split(",").some((d) => parseFloat(d) > 0)
                    || s.scrollBehavior === "smooth")
                .length"""
        )
        assert moving == 0, f"{moving} element(s) still move on {path}"


# ---------------------------------------------------------------------------------------------
# 6. Print

HIDDEN_IN_PRINT = [
    ".site-header",
    ".site-nav",
    ".language-switcher",
    ".filters",
    ".pagination",
    ".player",
    ".skip-link",
]


def displayed(page: Any, selector: str) -> list[str]:
    """Each match's own computed display ("none" only on the element the rule hides)."""
    return page.eval_on_selector_all(
        selector, "(els) => els.map((el) => getComputedStyle(el).display)"
    )


def rendered(page: Any, selector: str) -> list[bool]:
    """Whether each match takes part in the layout (not inside a display:none ancestor)."""
    return page.eval_on_selector_all(selector, "(els) => els.map((el) => el.checkVisibility())")


def test_print_hides_navigation_filters_and_player_and_keeps_safety_and_urls(
    content: dict[str, Resource], live_server, page
) -> None:
    page.emulate_media(media="print")
    for path in [
        "/de/",
        "/de/resources/?level=gentle",
        detail_path(content["video"], "de"),
        detail_path(content["programme"], "de"),
        detail_path(content["guide"], "de"),
        detail_path(content["link"], "de"),
        "/de/safety/",
        "/de/about/",
        "/de/for-clinics/?bone=suitable&lang=de&level=gentle",
    ]:
        page.goto(live_server.url + path)
        for selector in HIDDEN_IN_PRINT:
            assert not any(rendered(page, selector)), f"{selector} prints on {path}"
        callouts = rendered(page, ".callout, .safety-box")
        assert all(callouts), f"a safety callout is hidden on {path}"

    page.goto(live_server.url + detail_path(content["guide"], "de"))
    assert any(rendered(page, ".callout-warning")), "the with-modifications callout is missing"
    after = page.eval_on_selector(
        '.guide-body a[href^="http"]', "(a) => getComputedStyle(a, '::after').content"
    )
    assert "https://example.org/chair" in after

    page.goto(live_server.url + detail_path(content["link"], "de"))
    assert displayed(page, ".print-url") == ["block"]
    assert content["link"].url in page.locator(".print-url").inner_text()

    page.goto(live_server.url + "/de/safety/")
    assert any(rendered(page, ".callout")), "the safety page has no callout to keep"


def test_handout_prints_on_one_a4_page(
    content: dict[str, Resource], live_server, new_context: Callable[..., Any]
) -> None:
    page = new_context().new_page()
    for language in ["de", "pl"]:
        page.goto(f"{live_server.url}/{language}/for-clinics/handout/?bone=suitable&level=gentle")
        pdf = page.pdf(format="A4", print_background=True)
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        assert pages == 1, f"the {language} handout prints on {pages} pages"
