"""The editors' admin in a real browser: axe finds nothing, as an editor and as a reviewer, and the
guide preview follows what is typed.

The axe runner is the one of test_accessibility.py; this module adds the staff pages with
content on them (review lists filled, changelist filtered) and the live Markdown preview.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from resources.models import Resource
from tests.browser.test_accessibility import assert_no_axe_violations
from tests.factories import ResourceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def review_content() -> dict[str, Resource]:
    """Something in every review list, so the index and filters are audited with rows."""
    today = timezone.localdate()
    long_ago = today - timedelta(days=3 * 365)
    return {
        "waiting": ResourceFactory(title="Chair yoga, waiting", in_review=True),
        "overdue": ResourceFactory(
            title="Walking plan, overdue",
            reviewed_on=long_ago,
            next_review_due=today - timedelta(days=4),
            tags={"level": ["gentle"], "type": ["aerobic"]},
        ),
        "due_soon": ResourceFactory(
            title="Breathing, due soon",
            reviewed_on=long_ago,
            next_review_due=today + timedelta(days=10),
        ),
        "draft": ResourceFactory(title="New balance guide", unreviewed=True),
    }


def session_cookie(live_server: Any, user: User) -> dict[str, Any]:
    """The admin session of `user` (password and second factor, see tests/conftest.py)."""
    client = Client()
    client.force_login(user)
    # Secure, __Host- cookie (debug off): Chromium accepts Secure cookies for http://localhost.
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "domain": live_server.thread.host,
        "path": "/",
        "secure": settings.SESSION_COOKIE_SECURE,
        "httpOnly": True,
        "sameSite": "Lax",
    }


STAFF_PAGES: dict[str, Callable[[dict[str, Resource]], str]] = {
    "index": lambda c: "/admin/",
    "changelist": lambda c: "/admin/resources/resource/",
    "changelist-filtered": lambda c: (
        "/admin/resources/resource/?review=overdue&status__exact=published"
    ),
    "change-form": lambda c: f"/admin/resources/resource/{c['overdue'].pk}/change/",
    "change-form-draft": lambda c: f"/admin/resources/resource/{c['draft'].pk}/change/",
    "add-form": lambda c: "/admin/resources/resource/add/",
    "preview": lambda c: f"/en/preview/{c['draft'].pk}/",
}


@pytest.mark.parametrize("role", ["editor_user", "reviewer_user"])
@pytest.mark.parametrize("name", STAFF_PAGES)
def test_staff_page_has_no_axe_violations(
    name: str,
    role: str,
    request: pytest.FixtureRequest,
    review_content: dict[str, Resource],
    live_server: Any,
    new_context: Callable[..., Any],
    axe_path: Path,
) -> None:
    user = request.getfixturevalue(role)
    url = live_server.url + STAFF_PAGES[name](review_content)
    response = assert_no_axe_violations(
        new_context, axe_path, url, cookies=[session_cookie(live_server, user)]
    )
    assert response.status == 200
    assert response.url == url, "not logged in: the admin redirected to its login page"


def test_admin_shows_the_hubs_name_and_one_h1(
    editor_user: User, review_content: dict[str, Resource], live_server: Any, new_context
) -> None:
    for path in ["/admin/login/", "/admin/", "/admin/resources/resource/"]:
        context = new_context()
        if path != "/admin/login/":
            context.add_cookies([session_cookie(live_server, editor_user)])
        page = context.new_page()
        page.goto(live_server.url + path)
        assert page.locator("h1").count() == 1, path
        assert "Physical Activity Resource Hub" in page.locator("#site-name").inner_text(), path
        assert "Resource Hub" in page.title(), path


def test_filter_links_are_at_least_24_pixels_high(
    editor_user: User, review_content: dict[str, Resource], live_server: Any, new_context
) -> None:
    context = new_context()
    context.add_cookies([session_cookie(live_server, editor_user)])
    page = context.new_page()
    page.goto(live_server.url + "/admin/resources/resource/")
    links = page.locator("#changelist-filter li a")
    assert links.count() > 10
    heights = [links.nth(i).bounding_box()["height"] for i in range(links.count())]
    assert min(heights) >= 24


def test_typing_in_the_guide_body_updates_the_preview(
    editor_user: User, review_content: dict[str, Resource], live_server: Any, new_context
) -> None:
    context = new_context()  # CSP enforced: the script must work without inline code
    context.add_cookies([session_cookie(live_server, editor_user)])
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto(f"{live_server.url}/admin/resources/resource/{review_content['draft'].pk}/change/")

    preview = page.get_by_role("region", name="Preview: how the guide will look")
    # The saved body is shown at once.
    preview.locator("h2").first.wait_for()

    body = page.locator("#id_body")
    body.fill("")
    body.press_sequentially("## Warm up\n\nMarch **gently** on the spot.\n\n<script>x()</script>")
    preview.get_by_role("heading", name="Warm up").wait_for()
    assert preview.locator("strong").inner_text() == "gently"
    assert preview.locator("script").count() == 0

    # Keyboard: the button updates at once and says so to screen readers.
    body.fill("Only this line now.")
    page.get_by_role("button", name="Update preview").focus()
    page.keyboard.press("Enter")
    page.get_by_role("status").filter(has_text="Preview updated.").wait_for()
    assert preview.inner_text().strip() == "Only this line now."
    assert not errors, errors
