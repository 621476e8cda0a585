"""Query budgets of every public page and API answer (docs/architecture.md, Budgets).

At most 8 queries, the same number for 6 resources as for 27 on one page, with every filter
applied, on a cold page cache (the content version is looked up and stored too). And no
unbounded read of resources: a list is paginated or limited, whatever the catalogue's size.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from hub.cache import page_cache
from resources.models import Kind, Partner

from .factories import ResourceFactory
from .programmes.factories import UTRECHT, ProgrammeFactory

pytestmark = pytest.mark.django_db

BUDGET = 8
ALL_FILTERS = (
    "bone=suitable&kind=guide&kind=video&lang=en&level=gentle&level=moderate&q=chair"
    "&stage=metastatic&type=balance"
)
TAGS = {"level": ["gentle"], "stage": ["metastatic"], "type": ["balance", "strength"]}

# (name, address); "{slug}" is a published resource with translations, "{plan}" six of them.
PAGES: list[tuple[str, str]] = [
    ("home", "/en/"),
    ("browse", "/en/resources/"),
    ("browse, every filter", f"/en/resources/?{ALL_FILTERS}"),
    ("browse, places and hidden conflicts", "/en/resources/?hide_conflicts=1&site=spine"),
    ("detail", "/en/resources/{slug}/"),
    ("detail, personal warnings", "/en/resources/{slug}/?site=spine&site=ribs"),
    ("safety", "/en/safety/"),
    ("about", "/en/about/"),
    ("self-check", "/en/find/"),
    ("my plan", "/en/my-plan/?{plan}"),
    ("link builder", f"/en/for-clinics/?{ALL_FILTERS}"),
    ("handout", f"/en/for-clinics/handout/?{ALL_FILTERS}&clinic=Breast+Unit"),
    ("referral letter", f"/en/for-clinics/letter/?{ALL_FILTERS}&clinic=Breast+Unit&rx_days=2"),
    ("QR code", f"/en/for-clinics/qr.svg?{ALL_FILTERS}"),
    ("RSS", f"/en/feeds/rss/?{ALL_FILTERS}"),
    ("Atom", "/en/feeds/atom/"),
    ("widget", f"/embed/resources/?{ALL_FILTERS}"),
    ("API list", "/api/v1/resources/"),
    ("API list, every filter", f"/api/v1/resources/?{ALL_FILTERS}&ui=de"),
    ("API detail", "/api/v1/resources/{slug}/"),
    ("API vocabularies", "/api/v1/vocabularies/"),
    ("programme finder", "/en/programmes/"),
    (
        "programme finder, every filter",
        "/en/programmes/?bone=accepted&country=NL&cost=free&delivery=in-person&delivery=online"
        "&lang=en&q=Utrecht&near=52.09,5.12",
    ),
    ("programme detail", "/en/programmes/{programme}/"),
    ("sitemap", "/sitemap.xml"),
    ("robots.txt", "/robots.txt"),
]
# Reads of resources that grow with the catalogue, not with the page: known gaps.
# Pages that still read every published resource (none since the link builder's picker is capped).
UNBOUNDED: dict[str, str] = {}


def make_resources(count: int, commit: Callable) -> dict[str, str]:
    with commit():
        resources = [
            ResourceFactory(tags=TAGS, title=f"Chair balance {n}", kind=Kind.GUIDE)
            for n in range(count)
        ]
        for resource in resources[1:4]:
            resource.translations.add(resources[0])
        programmes = [ProgrammeFactory(located=("Utrecht", "NL", UTRECHT)) for _ in range(count)]
        Partner.objects.get_or_create(
            slug="st-example", defaults={"name": "St Example", "origins": "https://c.example"}
        )
    return {
        "slug": resources[0].slug,
        "plan": "&".join(f"r={resource.slug}" for resource in resources[:6]),
        "programme": programmes[0].slug,
    }


def cold_visit(client: Client, url: str) -> CaptureQueriesContext:
    page_cache().clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return queries


@pytest.fixture
def commit(django_capture_on_commit_callbacks) -> Callable:
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.mark.parametrize(("name", "address"), PAGES, ids=[name for name, _ in PAGES])
def test_public_page_stays_within_budget_however_many_results(
    client: Client, settings, commit, name: str, address: str
):
    settings.HUB_PAGE_SIZE = 50  # every resource on one page: a query per row would show
    few = cold_visit(client, address.format(**make_resources(6, commit)))
    many = cold_visit(client, address.format(**make_resources(21, commit)))
    assert len(many) <= BUDGET, [q["sql"] for q in many]
    assert len(many) == len(few), [q["sql"] for q in many]


_RESOURCE_READ = re.compile(r'^SELECT .* FROM "resources_resource"', re.DOTALL)
# A read is bounded by LIMIT, by being an aggregate, or by a list of keys (prefetches, plans).
_BOUNDED = re.compile(r"\bLIMIT\b|\bCOUNT\(|\bIN \(", re.IGNORECASE)


@pytest.mark.parametrize(
    ("name", "address"),
    [
        pytest.param(
            name,
            address,
            marks=[pytest.mark.xfail(reason=UNBOUNDED[name], strict=True)]
            if name in UNBOUNDED
            else [],
        )
        for name, address in PAGES
    ],
    ids=[name for name, _ in PAGES],
)
def test_public_page_never_reads_every_resource(client: Client, commit, name: str, address):
    queries = cold_visit(client, address.format(**make_resources(6, commit)))
    unbounded = [
        q["sql"]
        for q in queries
        if _RESOURCE_READ.match(q["sql"]) and not _BOUNDED.search(q["sql"])
    ]
    assert unbounded == []
