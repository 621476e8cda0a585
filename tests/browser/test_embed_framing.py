"""Framing the widget from another website, in a real Chromium (issue 5, part 2).

A tiny "partner site" runs on 127.0.0.1:<its own port>, a different origin from the live
server's http://localhost:<port>, and frames /embed/resources/. The browser shows the widget
when that origin belongs to an active partner, and refuses to render it otherwise. The widget
itself passes axe like every other public page.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from resources.models import BoneSafety, Partner, Resource
from tests.browser.test_accessibility import assert_no_axe_violations
from tests.factories import ResourceFactory

pytestmark = [
    pytest.mark.browser,
    # The live server (another thread) must see what the test writes: commit it.
    pytest.mark.django_db(transaction=True),
]

HOST_PAGE = """<!DOCTYPE html>
<html lang="en">
  <head><meta charset="utf-8"><title>Royal Clinic: moving more</title></head>
  <body>
    <main>
      <h1>Moving more with advanced breast cancer</h1>
      <iframe src="{src}" title="Exercise resources" width="400" height="600"></iframe>
    </main>
  </body>
</html>
"""


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class PartnerSite:
    """A static website on its own origin that frames the hub's widget."""

    def __init__(self, root: Path) -> None:
        self.root = root
        handler = partial(QuietHandler, directory=str(root))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def page_framing(self, src: str) -> str:
        (self.root / "index.html").write_text(HOST_PAGE.format(src=src), encoding="utf-8")
        return self.origin + "/index.html"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def partner_site(tmp_path: Path) -> Iterator[PartnerSite]:
    site = PartnerSite(tmp_path)
    yield site
    site.stop()


@pytest.fixture
def resource() -> Resource:
    return ResourceFactory(title="Seated strength for beginners", tags={"level": ["gentle"]})


def register(origin: str, *, active: bool = True) -> Partner:
    # Created directly, around Partner.clean(), which accepts https:// origins only: the test
    # partner site speaks plain http on 127.0.0.1.
    return Partner.objects.create(name="Royal Clinic", slug="royal", origins=origin, active=active)


def open_host_page(page: Any, url: str) -> tuple[Any, list[str]]:
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(url)
    page.wait_for_load_state("load")
    (frame,) = page.main_frame.child_frames
    return frame, console


def test_an_active_partner_origin_can_frame_the_widget(
    resource: Resource, partner_site: PartnerSite, live_server, page
) -> None:
    register(partner_site.origin)
    url = partner_site.page_framing(f"{live_server.url}/embed/resources/?level=gentle&ui=en")

    frame, console = open_host_page(page, url)

    widget = page.frame_locator("iframe")
    title = widget.get_by_role("link", name=resource.title)
    title.wait_for()
    assert resource.title in frame.content()
    assert widget.locator("h1").inner_text() == "Exercise resources"
    assert not [text for text in console if "Content Security Policy" in text]
    assert page.context.cookies() == []

    # target="_top": the visitor leaves the partner's page for the hub, not a page in a frame.
    title.click()
    page.wait_for_url(f"{live_server.url}{resource.get_absolute_url()}")
    assert page.locator("h1").inner_text() == resource.title


@pytest.mark.parametrize("partner", ["inactive", "other-origin", "no-partners"])
def test_an_unknown_origin_is_refused(
    partner: str, resource: Resource, partner_site: PartnerSite, live_server, page
) -> None:
    if partner == "inactive":
        register(partner_site.origin, active=False)
    elif partner == "other-origin":
        register("https://www.royal-clinic.example")
    url = partner_site.page_framing(f"{live_server.url}/embed/resources/")

    with page.expect_console_message(lambda message: "frame-ancestors" in message.text) as refusal:
        frame, _console = open_host_page(page, url)

    expected = "https://www.royal-clinic.example" if partner == "other-origin" else "'none'"
    assert f'"frame-ancestors {expected}"' in refusal.value.text
    assert live_server.url in refusal.value.text
    # Chromium replaces the refused document with its own error page.
    frame.wait_for_url(lambda address: address.startswith("chrome-error://"))
    assert resource.title not in frame.content()


@pytest.mark.parametrize("query", ["?level=gentle", "?level=nope"], ids=["list", "wrong-link"])
def test_widget_has_no_axe_violations(
    query: str, resource: Resource, live_server, new_context, axe_path: Path
) -> None:
    ResourceFactory(
        title="Standing balance",
        bone_metastasis_safety=BoneSafety.CLEARANCE_NEEDED,
        provisional=True,
        tags={"level": ["gentle"]},
    )
    url = f"{live_server.url}/embed/resources/{query}"
    response = assert_no_axe_violations(new_context, axe_path, url)
    assert response.status == (400 if query == "?level=nope" else 200)
