"""Security headers on public pages, the admin and error pages (issue 6, parts 1 and 2).

The Content Security Policy is parsed into a dict and compared with the exact directive set,
so a directive quietly added (an 'unsafe-inline', a third-party host) fails as surely as one
removed.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.http import HttpRequest, HttpResponse, QueryDict
from django.test import Client
from django.urls import NoReverseMatch, path, reverse

from resources.catalogue.filters import canonical_query
from resources.models import Resource

from .factories import ResourceFactory

pytestmark = pytest.mark.django_db

VIDEO_HOSTS = {"https://www.youtube-nocookie.com", "https://player.vimeo.com"}

EXPECTED_CSP = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "img-src": {"'self'", "data:"},
    "frame-src": VIDEO_HOSTS,
    "frame-ancestors": {"'none'"},
    "object-src": {"'none'"},
    "base-uri": {"'self'"},
    "form-action": {"'self'"},
}

ONE_YEAR = 365 * 24 * 60 * 60

FILTERED = QueryDict("level=gentle&bone=suitable")


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug in a view")


# The 500 page needs a view that fails: this module doubles as a URLconf (see test_500_page…).
urlpatterns = [path("boom/", _boom)]


def parse_csp(header: str) -> dict[str, set[str]]:
    """`default-src 'self'; img-src 'self' data:` → {"default-src": {"'self'"}, …}."""
    policy: dict[str, set[str]] = {}
    for directive in header.split(";"):
        name, *sources = directive.split()
        assert name not in policy, f"{name} appears twice in {header!r}"
        policy[name] = set(sources)
    return policy


def parse_permissions_policy(header: str) -> dict[str, str]:
    """`camera=(), autoplay=(self "https://a")` → {"camera": "()", "autoplay": '(self "https://a")'}."""
    items = [item.strip() for item in header.split(",")]
    policy = {}
    for item in items:
        # Structured-field syntax: a token, "=", then an inner list of self and quoted origins.
        assert re.fullmatch(r'[a-z-]+=\((self)?( ?"https://[a-z0-9.-]+")*\)', item), item
        name, allowlist = item.split("=", 1)
        policy[name] = allowlist
    return policy


@pytest.fixture
def content() -> dict[str, Resource]:
    return {
        "video": ResourceFactory(video=True, title="Seated aerobics"),
        "guide": ResourceFactory(title="Chair exercises"),
        "draft": ResourceFactory(draft=True, title="Not ready yet"),
    }


# name → (address, given the content; status)
PAGES: dict[str, tuple[Callable[[dict[str, Resource]], str], int]] = {
    "home": (lambda c: "/en/", 200),
    "browse": (lambda c: "/en/resources/", 200),
    "browse filtered": (lambda c: "/en/resources/?" + canonical_query(FILTERED), 200),
    "video detail": (lambda c: c["video"].get_absolute_url(), 200),
    "guide detail": (lambda c: c["guide"].get_absolute_url(), 200),
    "safety": (lambda c: "/de/safety/", 200),
    "about": (lambda c: "/sv/about/", 200),
    "admin login": (lambda c: "/admin/login/", 200),
    "404": (lambda c: "/en/no-such-page/", 404),
    "404 outside a language": (lambda c: "/no-such-page/", 404),
    "404 for a draft": (lambda c: f"/en/resources/{c['draft'].slug}/", 404),
    "400 from a bad filter": (lambda c: "/en/resources/?level=nope", 400),
    "400 from too many parameters": (lambda c: "/en/resources/?" + "utm=1&" * 600, 400),
}


@pytest.fixture(params=list(PAGES))
def page_response(request, client: Client, content: dict[str, Resource]) -> HttpResponse:
    address, status = PAGES[request.param]
    response = client.get(address(content), secure=True)
    assert response.status_code == status, address(content)
    return response


def test_content_security_policy_is_exactly_the_sites_policy(page_response) -> None:
    header = page_response.headers["Content-Security-Policy"]
    assert parse_csp(header) == EXPECTED_CSP
    assert "unsafe" not in header
    assert "nonce-" not in header
    assert "Content-Security-Policy-Report-Only" not in page_response.headers


def test_every_page_sends_the_security_headers(page_response) -> None:
    headers = page_response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert "Permissions-Policy" in headers
    hsts = headers["Strict-Transport-Security"]
    assert int(re.fullmatch(r"max-age=(\d+); includeSubDomains", hsts)[1]) >= ONE_YEAR, hsts


def test_admin_pages_of_a_logged_in_editor_carry_the_same_policy(editor: Client) -> None:
    resource = ResourceFactory()
    for url in ("/admin/", f"/admin/resources/resource/{resource.pk}/change/"):
        response = editor.get(url, secure=True)
        assert response.status_code == 200, url
        assert parse_csp(response.headers["Content-Security-Policy"]) == EXPECTED_CSP
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "Permissions-Policy" in response.headers


@pytest.mark.urls(__name__)
def test_500_page_carries_the_policy_too(client: Client) -> None:
    client.raise_request_exception = False
    response = client.get("/boom/", secure=True)
    assert response.status_code == 500
    assert parse_csp(response.headers["Content-Security-Policy"]) == EXPECTED_CSP
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Permissions-Policy" in response.headers


def test_permissions_policy_denies_what_the_site_never_uses(client: Client) -> None:
    policy = parse_permissions_policy(client.get("/en/").headers["Permissions-Policy"])
    for feature in (
        "camera",
        "microphone",
        "geolocation",
        "payment",
        "usb",
        "serial",
        "interest-cohort",
        "browsing-topics",
        "display-capture",
    ):
        assert policy[feature] == "()", feature


def test_permissions_policy_lends_the_player_features_to_the_two_video_hosts_only(
    client: Client,
) -> None:
    policy = parse_permissions_policy(client.get("/en/").headers["Permissions-Policy"])
    # What static/js/player.js puts in the iframe's `allow` attribute.
    for feature in ("autoplay", "fullscreen", "picture-in-picture"):
        allowlist = policy[feature]
        assert allowlist.startswith("(self ")
        assert set(re.findall(r'"([^"]+)"', allowlist)) == VIDEO_HOSTS
    assert all(
        value == "()"
        for name, value in policy.items()
        if name not in {"autoplay", "fullscreen", "picture-in-picture"}
    )


def test_hsts_is_sent_only_over_https(client: Client) -> None:
    # Over plain http a browser ignores it, and Django does not send it.
    assert "Strict-Transport-Security" not in client.get("/en/").headers
    assert "Strict-Transport-Security" in client.get("/en/", secure=True).headers


def test_http_is_redirected_to_https_when_configured(settings, client: Client) -> None:
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/en/resources/?level=gentle")
    assert response.status_code == 301
    assert response.headers["Location"] == "https://testserver/en/resources/?level=gentle"


def test_health_checks_answer_a_load_balancer_over_plain_http(settings, client: Client) -> None:
    settings.SECURE_SSL_REDIRECT = True
    try:
        reverse("healthz")
    except NoReverseMatch:
        pytest.skip("no /healthz in this build")
    assert client.get("/healthz").status_code == 200
    assert client.get("/healthz/").status_code != 200  # only the exact addresses are exempt


def test_behind_a_tls_proxy_the_forwarded_scheme_counts(settings, client: Client) -> None:
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    response = client.get("/en/", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert "Strict-Transport-Security" in response.headers
    # Without the proxy's header the request came in over http: redirect it.
    assert client.get("/en/").status_code == 301


def test_admin_cookies_are_host_only_secure_httponly_and_same_site(
    settings, client: Client, editor_user
) -> None:
    # The cookies are the same with or without the one-time code (tested in test_inputs.py).
    settings.HUB_ADMIN_REQUIRE_2FA = False
    login = client.get("/admin/login/", secure=True)
    csrf = login.cookies["__Host-csrftoken"]
    response = client.post(
        "/admin/login/",
        {"username": "editor", "password": "a long editor password", "next": "/admin/"},
        secure=True,
    )
    assert response.status_code == 302
    session = response.cookies["__Host-sessionid"]
    for cookie in (csrf, session):
        assert cookie["secure"] is True
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"
        assert cookie["path"] == "/"
        assert cookie["domain"] == ""  # a __Host- cookie must not name a domain


def test_the_embed_widget_relaxes_framing_and_nothing_else(client: Client) -> None:
    try:
        url = reverse("embed")
    except NoReverseMatch:
        pytest.skip("no embed widget in this build")
    response = client.get(url, secure=True)
    assert response.status_code == 200
    policy = parse_csp(response.headers["Content-Security-Policy"])
    assert {k: v for k, v in policy.items() if k != "frame-ancestors"} == {
        k: v for k, v in EXPECTED_CSP.items() if k != "frame-ancestors"
    }
    assert "X-Frame-Options" not in response.headers
    assert "Permissions-Policy" in response.headers
