"""The Content Security Policy in a real browser: enforced, and nothing on the site breaks it.

Chromium loads every public page in every language, the admin login page and, logged in, the
admin's resource form, with the site's own headers (no `bypass_csp`). Any console message
about the Content Security Policy or the Permissions-Policy, and any `securitypolicyviolation`
event, fails the test: an inline script or style that slipped into a template, a stylesheet
from a CDN, an admin widget that needs 'unsafe-inline', a feature name Chromium does not know.
Requests to other origins are aborted, so nothing leaves the machine.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.http import QueryDict
from django.test import Client
from django.urls import Resolver404, resolve
from django.utils import translation

from resources.catalogue.filters import canonical_query
from resources.models import Resource
from tests.factories import ResourceFactory

pytestmark = [
    pytest.mark.browser,
    # The live server (another thread) must see what the test writes: commit it.
    pytest.mark.django_db(transaction=True),
]

LANGUAGES = [code for code, _name in settings.LANGUAGES]

# Runs in every document before the page's own code: collects CSP violation reports. Injected
# by the browser itself, so the policy it watches does not block it.
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} at ` +
    `${event.sourceFile || event.documentURI}:${event.lineNumber}`
  );
});
"""


class PolicyWatch:
    """Console messages and violation events about the site's policies, over several pages."""

    def __init__(self, page: Any, origin: str) -> None:
        self.page = page
        self.origin = origin
        self.problems: list[str] = []
        page.context.route("**/*", self._only_our_origin)
        page.add_init_script(WATCH_VIOLATIONS)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"{page.url}: {error}"))

    def _only_our_origin(self, route: Any) -> None:
        if route.request.url.startswith((self.origin + "/", "data:")):
            route.continue_()
        else:
            route.abort()

    def _console(self, message: Any) -> None:
        text = message.text
        if any(
            marker in text.lower()
            for marker in ("content security policy", "permissions-policy", "permissions policy")
        ):
            self.problems.append(f"{self.page.url}: {text}")

    def visit(self, path: str, status: int = 200) -> Any:
        response = self.page.goto(self.origin + path)
        assert response is not None, path
        assert response.status == status, f"{path} answered {response.status}"
        policy = response.headers.get("content-security-policy", "")
        assert "default-src 'self'" in policy, f"no enforced CSP on {path}: {policy!r}"
        assert "content-security-policy-report-only" not in response.headers
        self.page.wait_for_load_state("networkidle")
        self.collect()
        return response

    def collect(self) -> None:
        events = self.page.evaluate("window.__cspViolations || []")
        self.problems += [f"{self.page.url}: {event}" for event in events]
        self.page.evaluate("window.__cspViolations = []")


@pytest.fixture
def watch(live_server, page) -> PolicyWatch:
    return PolicyWatch(page, live_server.url)


@pytest.fixture
def resources() -> dict[str, Resource]:
    return {
        "video": ResourceFactory(
            video=True,
            title="Seated aerobics",
            tags={"level": ["gentle"], "stage": ["metastatic"], "type": ["aerobic"]},
        ),
        "guide": ResourceFactory(
            title="A seated strength routine",
            tags={"level": ["gentle", "bed-or-chair"], "type": ["strength"]},
        ),
    }


def public_pages(language: str, resources: dict[str, Resource]) -> dict[str, tuple[str, int]]:
    filtered = canonical_query(QueryDict("level=gentle&bone=suitable&type=aerobic"))
    return {
        "home": (f"/{language}/", 200),
        "browse": (f"/{language}/resources/", 200),
        "browse filtered": (f"/{language}/resources/?{filtered}", 200),
        "browse with an unknown value": (f"/{language}/resources/?level=nope", 400),
        "video detail": (f"/{language}/resources/{resources['video'].slug}/", 200),
        "guide detail": (f"/{language}/resources/{resources['guide'].slug}/", 200),
        "safety": (f"/{language}/safety/", 200),
        "about": (f"/{language}/about/", 200),
        "404": (f"/{language}/no-such-page/", 404),
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_public_pages_break_no_policy(
    language: str, resources: dict[str, Resource], watch: PolicyWatch
) -> None:
    for path, status in public_pages(language, resources).values():
        watch.visit(path, status)
    assert watch.problems == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_clinics_page_breaks_no_policy(
    language: str, resources: dict[str, Resource], watch: PolicyWatch
) -> None:
    path = f"/{language}/for-clinics/"
    try:
        with translation.override(language):  # a language prefix resolves in its language
            resolve(path)
    except Resolver404:
        pytest.skip(f"{path} does not exist in this build")
    watch.visit(path)
    watch.visit(f"{path}?level=gentle&bone=suitable")
    assert watch.problems == []


def test_playing_a_video_frames_only_an_allowed_player(
    resources: dict[str, Resource], watch: PolicyWatch
) -> None:
    """frame-src admits the player, and the header lends it autoplay and fullscreen."""
    watch.visit(resources["video"].get_absolute_url())
    watch.page.get_by_role("link", name="Play video").click()
    frame = watch.page.locator("[data-player] iframe")
    assert frame.get_attribute("src").startswith("https://www.youtube-nocookie.com/embed/")
    # The player's own request is aborted (nothing leaves the machine); a CSP refusal would
    # still be reported, before any request is made.
    watch.page.wait_for_timeout(300)
    watch.collect()
    assert watch.problems == []


def test_admin_login_page_breaks_no_policy(watch: PolicyWatch) -> None:
    watch.visit("/admin/login/")
    assert watch.page.locator("input[name=otp_token], input[name=password]").count() >= 1
    assert watch.problems == []


def test_admin_resource_form_works_under_the_policy(
    resources: dict[str, Resource], live_server, watch: PolicyWatch
) -> None:
    superuser = User.objects.create_superuser(
        "editor-in-chief", "chief@example.org", "a long superuser password"
    )
    client = Client()
    client.force_login(superuser)  # with a verified second factor (tests/conftest.py)
    watch.page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "domain": live_server.thread.host,  # no leading dot: host-only, as __Host- needs
                "path": "/",
                # Chromium keeps a Secure (and __Host-) cookie for http://localhost, which it
                # counts as a secure context, as the production cookie is over https.
                "secure": settings.SESSION_COOKIE_SECURE,
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )
    resource = resources["guide"]
    change = f"/admin/resources/resource/{resource.pk}/change/"
    watch.visit(change)
    assert watch.page.url == live_server.url + change, "not logged in"

    # The admin's scripts ran: they add the "Today" shortcut beside each date field...
    assert watch.page.locator(".datetimeshortcuts").count() >= 1, "admin JavaScript did not run"
    # ...and the organisation autocomplete (select2) opens and works.
    watch.page.locator(".select2-selection").first.click()
    assert watch.page.locator(".select2-search__field").is_visible()
    watch.collect()

    watch.visit("/admin/resources/resource/add/")
    # prepopulate.js fills the slug from the title as it is typed (keyup).
    watch.page.locator("#id_title").press_sequentially("Gentle stretches for the morning")
    assert watch.page.input_value("#id_slug") == "gentle-stretches-for-the-morning"
    watch.collect()
    watch.visit("/admin/resources/resource/")
    watch.visit("/admin/")
    assert watch.problems == []


def test_the_watch_would_see_a_violation(live_server, watch: PolicyWatch) -> None:
    """The detector itself works: an inline script (as a careless template would add) is
    refused by the policy and reported."""
    watch.visit("/en/about/")
    watch.page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.__ran = true";
            document.body.append(script);
        }"""
    )
    watch.page.wait_for_timeout(100)
    watch.collect()
    assert watch.page.evaluate("window.__ran === undefined")
    assert any("script-src" in problem for problem in watch.problems), watch.problems
