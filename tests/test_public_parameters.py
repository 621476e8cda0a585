"""Control characters in any public GET parameter are a 400, never a 500 (issue 16, defect 5).

A NUL in `resource` or `find` reached PostgreSQL ("text fields cannot contain NUL": a
DataError, so a 500) on the link builder, the handout and the QR codes. hub.security's
QueryStringLimitMiddleware now refuses a control character in any parameter's name or value
before a view runs. This module walks the URL patterns themselves, so a view added later is
fuzzed too (or the guard test below asks for a sample address); run it on PostgreSQL as well,
where the DataError appeared.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from resources.catalogue.filters import ResourceFilter
from resources.catalogue.forms import SelfCheckForm
from resources.clinics.api.schemas import ResourceQuery
from resources.clinics.links import LinkForm
from resources.models import Partner
from resources.programmes.filters import ProgrammeFilter
from resources.programmes.hsds import hsds_id
from resources.programmes.support import SupportForm

from .factories import ResourceFactory
from .programmes.factories import ProgrammeFactory

pytestmark = pytest.mark.django_db

SLUG = "chair-yoga"
PROGRAMME = "riverside-rehab"
# A well-formed HSDS id that names nothing (primary keys differ between databases): its 404
# still goes through the same guard.
MISSING_ID = hsds_id("service", 10**9)
# The sample address of each pattern with a path parameter (every other pattern is used as it
# is). A new pattern with a parameter fails test_every_public_pattern_has_a_sample_address.
SAMPLES = {
    "api/v1/resources/<slug>/": f"/api/v1/resources/{SLUG}/",
    "api/v1/^(?:.*/)?$": "/api/v1/no-such-endpoint/",
    "en/resources/<slug:slug>/": f"/en/resources/{SLUG}/",
    "en/programmes/<slug:slug>/": f"/en/programmes/{PROGRAMME}/",
    "en/report/<str:kind>/<slug:slug>/": f"/en/report/programme/{PROGRAMME}/",
    "api/hsds/services/<service_id>": f"/api/hsds/services/{MISSING_ID}",
    "api/hsds/organizations/<organization_id>": f"/api/hsds/organizations/{MISSING_ID}",
    "api/hsds/^(?:.*/)?$": "/api/hsds/no-such-endpoint/",
}
# Not public: the admin, and the staff-only previews.
NOT_PUBLIC = ("admin/", "en/preview/")

# The parameters each view reads, from the forms and schemas that declare them, plus those read
# from request.GET directly. Every view also gets `ref` (any page may be a partner's link) and
# one parameter no view knows.
FILTERS = set(ResourceFilter.base_filters) | {"page", "ref", "ui"}
API = set(ResourceQuery.model_fields) | {"ref", "ui"}
KNOWN = {
    "en/resources/": FILTERS,
    "en/feeds/rss/": FILTERS,
    "en/feeds/atom/": FILTERS,
    "embed/resources/": FILTERS,
    "api/v1/resources/": API,
    "en/for-clinics/": FILTERS | set(LinkForm.base_fields) | {"find", "picker"},
    "en/find/": set(SelfCheckForm.base_fields),
    "en/my-plan/": {"r"},
    "sitemap.xml": {"p"},
    "en/programmes/": set(ProgrammeFilter.base_filters) | {"page", "near"},
    "en/find/support/": set(SupportForm.base_fields),
    "en/find/support/questions/": set(SupportForm.base_fields),
    "en/report/<str:kind>/<slug:slug>/": {"sent"},
    "api/hsds/services": {"page"},
    "api/hsds/organizations": {"page"},
}
for route in (
    "en/for-clinics/handout/",
    "en/for-clinics/letter/",
    "en/for-clinics/qr.png",
    "en/for-clinics/qr.svg",
):
    KNOWN[route] = KNOWN["en/for-clinics/"]
for route in ("api/v1/resources/<slug>/", "api/v1/vocabularies/", "api/v1/openapi.json"):
    KNOWN[route] = {"ui"}
UNKNOWN = "no-such-parameter"
# NUL (PostgreSQL's DataError) and the other C0 controls, DEL, and the whitespace controls.
CONTROLS = [
    "\x00",
    "\x01",
    "\x07",
    "\x08",
    "\t",
    "\n",
    "\x0b",
    "\x0c",
    "\r",
    "\x1b",
    "\x1f",
    "\x7f",
]


def parameters(route: str) -> list[str]:
    return sorted(KNOWN.get(route, set()) | {"ref", UNKNOWN})


def public_patterns(patterns: list | None = None, prefix: str = "") -> Iterator[str]:
    """The route of every URL pattern outside the admin and the staff previews."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if route.startswith(NOT_PUBLIC):
            continue
        if isinstance(pattern, URLResolver):
            yield from public_patterns(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route


def address(route: str) -> str:
    return SAMPLES.get(route, "/" + route)


ROUTES = list(public_patterns())
PATHS = [address(route) for route in ROUTES]


@pytest.fixture
def content() -> None:
    ResourceFactory(slug=SLUG, title="Chair yoga")
    Partner.objects.create(name="Riverside clinic", slug="riverside")
    ProgrammeFactory(slug=PROGRAMME, name="Riverside rehab")


def get(path: str, query: str) -> int:
    # A 500 must come back as a status here, not as the view's exception.
    client = Client(raise_request_exception=False)
    return client.get(f"{path}?{query}" if query else path).status_code


def test_every_public_pattern_has_a_sample_address() -> None:
    unknown = [r for r in public_patterns() if ("<" in r or "^" in r) and r not in SAMPLES]
    assert not unknown, f"add a sample address to SAMPLES for {unknown}"
    # The walk found the views the issue names, so it is not silently empty.
    for path in (
        "/en/for-clinics/",
        "/en/for-clinics/handout/",
        "/en/for-clinics/letter/",
        "/en/for-clinics/qr.png",
        "/en/for-clinics/qr.svg",
        "/en/find/",
        "/en/my-plan/",
        "/api/v1/resources/",
        "/en/feeds/rss/",
        "/embed/resources/",
        "/sitemap.xml",
        "/en/programmes/",
        "/en/find/support/",
        f"/en/report/programme/{PROGRAMME}/",
        "/api/hsds/services",
    ):
        assert path in PATHS


def test_the_known_parameters_include_those_the_issue_names() -> None:
    assert {"resource", "find", "clinic", "ref", "q", "level"} <= set(KNOWN["en/for-clinics/"])
    assert {"r"} <= KNOWN["en/my-plan/"]
    assert {"site", "walk"} <= KNOWN["en/find/"]
    assert set(KNOWN) <= set(ROUTES), "a route in KNOWN is no longer a URL pattern"


@pytest.mark.parametrize(("route", "path"), list(zip(ROUTES, PATHS, strict=True)), ids=PATHS)
def test_control_characters_in_any_parameter_are_a_400(content, route: str, path: str) -> None:
    assert get(path, "") < 500
    wrong = {}
    for n, name in enumerate(parameters(route)):
        # NUL alone, and after a value that could be valid; one of the other controls (a
        # different one for each parameter) in the middle of a value; and in the name.
        other = CONTROLS[1 + (n + len(path)) % (len(CONTROLS) - 1)]
        for query in (f"{name}=%00", f"{name}={SLUG}{quote(other)}x"):
            status = get(path, query)
            if status != 400:
                wrong[query] = status
    query = f"{quote('level' + CONTROLS[len(path) % len(CONTROLS)])}=gentle"
    if (status := get(path, query)) != 400:
        wrong[query] = status
    assert not wrong, f"{path}: not a 400 for {wrong}"


@pytest.mark.parametrize(
    "query",
    [
        f"resource={SLUG}%00",
        "picker=find&find=chair%00",
        "clinic=Riverside%00&ref=riverside",
    ],
)
@pytest.mark.parametrize(
    "path",
    [
        "/en/for-clinics/",
        "/en/for-clinics/handout/",
        "/en/for-clinics/letter/",
        "/en/for-clinics/qr.png",
    ],
)
def test_the_link_builder_handout_and_qr_codes_refuse_nul(content, path, query) -> None:
    """The requests the issue reported as 500 on PostgreSQL."""
    response = Client(raise_request_exception=False).get(f"{path}?{query}")
    assert response.status_code == 400
    assert "We could not understand that request" in response.content.decode()


def test_the_api_answers_in_its_own_error_shape(content) -> None:
    response = Client().get("/api/v1/resources/?level=gentle&q=chair%00")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    body = response.json()
    assert body["detail"] == "Some parameters could not be used."
    assert list(body["errors"]) == ["q"]


def test_tabs_and_line_breaks_inside_a_value_are_refused_but_spaces_are_fine(content) -> None:
    client = Client()
    assert client.get("/en/resources/?q=chair+yoga").status_code == 200
    assert client.get("/en/resources/?q=chair%09yoga").status_code == 400
    assert client.get("/en/for-clinics/?clinic=Riverside+clinic&ref=riverside").status_code == 200
