"""Accessibility in a real browser: axe-core finds nothing, and every page can be skipped through.

axe checks what a static HTML test cannot: computed colour contrast, accessible names after CSS,
landmarks, focus order. docs/architecture.md asks for one <h1>, a skip link, landmarks, `lang`,
visible focus.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from resources.models import BoneSafety, Kind, Resource
from tests.factories import ResourceFactory

pytestmark = [
    pytest.mark.browser,
    # The live server (another thread) must see what the test writes: commit it.
    pytest.mark.django_db(transaction=True),
]

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]

GUIDE_BODY = """\
Sit tall on a firm chair without wheels, with both feet flat on the floor.

## The routine

- Lift one knee a little, then lower it. Five times on each side.
- Press your palms together in front of your chest and count to five.
- Roll your shoulders slowly backwards, then forwards.

## If something hurts

Stop, rest, and tell your team about it before you try again.
"""


@pytest.fixture
def content() -> dict[str, Resource]:
    """A small catalogue with every rating, so cards and callouts of each kind are checked."""
    return {
        "video": ResourceFactory(
            video=True,
            title="Moving Through Cancer",
            summary="A short film about why exercise helps during and after cancer treatment.",
            tags={"level": ["gentle"], "stage": ["metastatic"], "type": ["aerobic"]},
        ),
        "guide": ResourceFactory(
            title="A seated strength routine",
            body=GUIDE_BODY,
            bone_metastasis_safety=BoneSafety.WITH_MODIFICATIONS,
            tags={
                "level": ["gentle", "bed-or-chair"],
                "stage": ["metastatic"],
                "type": ["strength"],
            },
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
            provisional=True,
            tags={"level": ["moderate"], "stage": ["early"], "type": ["aerobic"]},
        ),
    }


def run_axe(page: Any, axe_path: Path) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(axe_path))
    return page.evaluate(
        """async (tags) => {
            const results = await axe.run(document, {
                runOnly: {type: "tag", values: tags},
                resultTypes: ["violations"],
            });
            return results.violations.map((v) => ({
                id: v.id,
                impact: v.impact,
                help: v.help,
                helpUrl: v.helpUrl,
                nodes: v.nodes.map((n) => ({target: n.target, html: n.html})),
            }));
        }""",
        AXE_TAGS,
    )


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        lines.append(f"    {violation['helpUrl']}")
        for node in violation["nodes"]:
            lines.append(f"    at {' '.join(node['target'])}: {node['html'][:160]}")
    return "\n".join(lines)


def assert_no_axe_violations(
    new_context: Callable[..., Any], axe_path: Path, url: str, cookies: list | None = None
) -> Any:
    # axe is injected as an inline script, which the site's CSP (script-src 'self', no
    # nonces) rightly refuses; this context ignores the CSP for the audit only. The CSP
    # itself is tested, enforced, in test_privacy.py and by the skip link checks below.
    context = new_context(bypass_csp=True)
    if cookies:
        context.add_cookies(cookies)
    page = context.new_page()
    response = page.goto(url)
    violations = run_axe(page, axe_path)
    assert not violations, f"axe found {len(violations)} problem(s) on {url}:\n" + describe(
        violations
    )
    return response


PUBLIC_PAGES = {
    "home": lambda c: "/en/",
    "browse": lambda c: "/en/resources/",
    "browse-filtered": lambda c: "/en/resources/?level=gentle&bone=suitable",
    "browse-invalid-filter": lambda c: "/en/resources/?level=nope",
    "video-detail": lambda c: c["video"].get_absolute_url(),
    "guide-detail": lambda c: c["guide"].get_absolute_url(),
    "safety": lambda c: "/en/safety/",
    "about": lambda c: "/en/about/",
    "conversation-guide": lambda c: "/en/for-clinics/conversation/",
    "handout-prescription": lambda c: (
        "/en/for-clinics/handout/?level=gentle&rx_days=2&rx_intensity=moderate&rx_minutes=20"
        "&rx_avoid=spinal-flexion"
    ),
    "referral-letter": lambda c: (
        "/en/for-clinics/letter/?level=gentle&clinic=Breast+Unit&rx_days=2&rx_intensity=moderate"
        "&rx_minutes=20&rx_avoid=spinal-flexion"
    ),
    "not-found": lambda c: "/en/resources/no-such-resource/",
}
EXPECTED_STATUS = {"browse-invalid-filter": {200, 400}, "not-found": {404}}


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_public_page_has_no_axe_violations(
    name: str, content: dict[str, Resource], live_server, new_context, axe_path: Path
) -> None:
    url = live_server.url + PUBLIC_PAGES[name](content)
    response = assert_no_axe_violations(new_context, axe_path, url)
    assert response.status in EXPECTED_STATUS.get(name, {200})


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_public_page_has_one_h1_a_language_and_a_working_skip_link(
    name: str, content: dict[str, Resource], live_server, page
) -> None:
    page.goto(live_server.url + PUBLIC_PAGES[name](content))

    assert page.locator("h1").count() == 1
    assert page.locator("html").get_attribute("lang") == "en"

    skip_link = page.locator("a.skip-link")
    # Hidden off-screen until focused: this also proves the stylesheet loaded under the CSP.
    box = skip_link.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= 0, "the skip link shows before it has focus"

    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => ({cls: document.activeElement.className,"
        " href: document.activeElement.getAttribute('href')})"
    )
    assert focused == {"cls": "skip-link", "href": "#main"}, "skip link is not focused first"
    box = skip_link.bounding_box()
    assert box is not None
    assert box["y"] >= 0, "the focused skip link stays off-screen"
    assert skip_link.inner_text().strip() == "Skip to main content"

    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    assert page.url.endswith("#main")


def test_admin_login_page_has_no_axe_violations(live_server, new_context, axe_path: Path) -> None:
    response = assert_no_axe_violations(new_context, axe_path, live_server.url + "/admin/login/")
    assert response.status == 200


def test_admin_resource_form_has_no_axe_violations(
    content: dict[str, Resource], live_server, new_context, axe_path: Path
) -> None:
    superuser = User.objects.create_superuser(
        "editor-in-chief", "chief@example.org", "a long superuser password"
    )
    client = Client()
    client.force_login(superuser)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    # SESSION_COOKIE_SECURE is on (debug off) and the name is __Host-…: Chromium accepts
    # Secure cookies for http://localhost, and refuses a __Host- cookie without Secure.
    cookie = {
        "name": settings.SESSION_COOKIE_NAME,
        "value": session,
        "domain": live_server.thread.host,
        "path": "/",
        "secure": settings.SESSION_COOKIE_SECURE,
        "httpOnly": True,
        "sameSite": "Lax",
    }
    resource = content["video"]
    assert resource.kind == Kind.VIDEO
    url = f"{live_server.url}/admin/resources/resource/{resource.pk}/change/"
    response = assert_no_axe_violations(new_context, axe_path, url, cookies=[cookie])
    assert response.status == 200
    assert response.url == url, "not logged in: the admin redirected to its login page"
