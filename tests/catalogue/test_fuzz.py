"""Query-string fuzzing of every public reader of resources (issue 6, part 4).

Browse, the RSS feed and the JSON API take the same filter parameters. Whatever the query:
never a 500, never a draft; an unknown filter value gives a 4xx (browse may first move to its
canonical address with a 301, followed once) and lists nothing, never an unfiltered list;
valid filters list exactly the published resources that satisfy all of them, checked against
the database.

Bounded so the module runs in well under a minute on SQLite.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import pytest
from django.conf import settings
from django.http import QueryDict
from django.test import Client
from django.urls import Resolver404, resolve
from hypothesis import HealthCheck, event, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from resources.catalogue.filters import ResourceFilter
from resources.models import BoneSafety, Kind, Resource, Tag

from ..factories import ResourceFactory

pytestmark = pytest.mark.django_db

# The contract clinics print (docs/clinics.md); a guard test below checks the
# filters still agree, so the fuzzer is not fed stale values.
VALID = {
    "level": ["bed-or-chair", "gentle", "moderate", "structured"],
    "stage": ["early", "locally-advanced", "metastatic"],
    "bone": ["suitable", "with-modifications", "clearance-needed", "not-recommended"],
    "type": ["aerobic", "strength", "balance", "flexibility", "breathing"],
    "kind": ["video", "guide", "link", "programme"],
    "lang": ["en", "de", "nl", "es", "pl", "sv"],
}
FILTERS = tuple(VALID)
TAG_FILTERS = {"level", "stage", "type"}
ALL_SLUGS = sorted({slug for slugs in VALID.values() for slug in slugs})

FUZZ = hypothesis_settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,  # no example database: every run is independent of the last
)


# --- Strategies -----------------------------------------------------------------------------

NASTY = [
    "",
    " ",
    "%",
    "%%",
    "%00",
    "%zz",
    "\x00",
    "gentle\x00",
    " gentle",
    "gentle ",
    "GENTLE",
    "not-reviewed",
    "'",
    '"',
    "' OR 1=1 --",
    "\\",
    "<script>alert(1)</script>",
    "../",
    "null",
    "[]",
    "ñandú",
    "Ünïcödé",
    "😀",
    "\u202e",
    "\ufeff",
    "a" * 201,
    "gentle" * 1000,
]

names = st.one_of(
    st.sampled_from([*FILTERS, "q", "page", "ref", "ui", "utm_source"]),
    st.text(max_size=12),
)
values = st.one_of(
    st.sampled_from(ALL_SLUGS),
    st.sampled_from(NASTY),
    st.text(max_size=40),
    st.text(min_size=190, max_size=260),
)
# Raw fragments a hand-typed or truncated link may carry, appended to the encoded query.
raw_tails = st.sampled_from(["", "&", "&&=&", "&%zz=%", "&level", "&=gentle", "&level=%ff", "&q=%"])


@st.composite
def any_query(draw) -> str:
    pairs = draw(st.lists(st.tuples(names, values), max_size=8))
    return urlencode(pairs) + draw(raw_tails)


@st.composite
def valid_query(draw) -> str:
    chosen = draw(st.lists(st.sampled_from(FILTERS), unique=True, max_size=4))
    pairs = [
        (name, value)
        for name in chosen
        for value in draw(st.lists(st.sampled_from(VALID[name]), min_size=1, max_size=3))
    ]
    return urlencode(draw(st.permutations(pairs)))


# --- What a query asks for ------------------------------------------------------------------


@dataclass(frozen=True)
class Ask:
    filters: dict[str, set[str]]  # the non-empty values of each filter, stripped
    unknown: bool  # some filter value is not an option, however it is spelled
    exact: bool  # every parameter is a filter with exactly valid values (nothing else)


def ask(query: str) -> Ask:
    data = QueryDict(query)  # parsed exactly as Django parses the request
    filters = {
        name: {value.strip() for value in data.getlist(name) if value.strip()} for name in FILTERS
    }
    unknown = any(value not in VALID[name] for name, chosen in filters.items() for value in chosen)
    event("unknown value" if unknown else "no unknown value")
    exact = all(
        name in FILTERS and all(value in VALID[name] for value in data.getlist(name))
        for name in data
    )
    return Ask(filters, unknown, exact)


# --- The readers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Reader:
    path: str

    def listed(self, response) -> list[str]:
        """Slugs of the resources the response lists, in order."""
        body = response.content.decode()
        if self.path.startswith("/api/"):
            return [item["slug"] for item in json.loads(body).get("results", [])]
        if "/feeds/" in self.path:
            if response.status_code != 200:
                return []
            links = re.findall(r"<item>.*?<link>([^<]+)</link>", body, re.S)
            return [urlsplit(link).path.rstrip("/").rsplit("/", 1)[-1] for link in links]
        return re.findall(
            r'<h3 class="card-title"[^>]*>\s*<a href="/\w+/resources/([^/"]+)/"', body
        )


READERS = {
    "browse": Reader("/en/resources/"),
    "rss": Reader("/en/feeds/rss/"),
    "api": Reader("/api/v1/resources/"),
}


@pytest.fixture(params=list(READERS))
def reader(request) -> Reader:
    found = READERS[request.param]
    try:
        resolve(found.path)
    except Resolver404:
        pytest.skip(f"{found.path} does not exist in this build")
    return found


@dataclass(frozen=True)
class Catalogue:
    """The test content, and which resources each filter value selects."""

    public: dict[str, dict[str, set[str]]]  # slug → filter name → its values on the resource
    hidden: set[str]

    def expected(self, filters: dict[str, set[str]]) -> set[str]:
        return {
            slug
            for slug, has in self.public.items()
            if all(not chosen or chosen & has[name] for name, chosen in filters.items())
        }


@pytest.fixture
def catalogue() -> Catalogue:
    ResourceFactory(
        video=True,
        tags={"level": ["gentle"], "type": ["balance"], "stage": ["metastatic"]},
    )
    ResourceFactory(
        language="de",
        bone_metastasis_safety=BoneSafety.WITH_MODIFICATIONS,
        tags={"level": ["moderate"], "type": ["strength"], "stage": ["early"]},
    )
    ResourceFactory(
        link=True,
        language="nl",
        bone_metastasis_safety=BoneSafety.CLEARANCE_NEEDED,
        tags={"level": ["structured"], "type": ["aerobic"], "stage": ["locally-advanced"]},
    )
    ResourceFactory(
        programme=True,
        language="sv",
        bone_metastasis_safety=BoneSafety.NOT_RECOMMENDED,
        tags={"level": ["bed-or-chair"], "type": ["breathing"], "stage": ["metastatic"]},
    )
    ResourceFactory(
        language="pl", tags={"level": ["gentle", "moderate"], "type": ["flexibility", "balance"]}
    )
    ResourceFactory(language="es", bone_metastasis_safety=BoneSafety.WITH_MODIFICATIONS)
    ResourceFactory(
        vimeo=True, tags={"level": ["structured"], "type": ["strength"], "stage": ["early"]}
    )
    # Never public, each matching the most common filters.
    everything = {"level": ["gentle"], "type": ["balance"], "stage": ["metastatic"]}
    for trait in ("draft", "in_review", "archived", "unreviewed", "scheduled"):
        ResourceFactory(title=f"Hidden {trait}", tags=everything, **{trait: True})

    public: dict[str, dict[str, set[str]]] = {}
    for resource in Resource.objects.published().prefetch_related("tags"):
        has = {name: set() for name in FILTERS}
        for tag in resource.tags.all():
            has[tag.vocabulary].add(tag.slug)
        has["bone"] = {resource.bone_metastasis_safety}
        has["kind"] = {resource.kind}
        has["lang"] = {resource.language}
        public[resource.slug] = has
    hidden = set(Resource.objects.exclude(slug__in=public).values_list("slug", flat=True))
    assert len(public) == 7 and len(hidden) == 5
    assert len(public) <= settings.HUB_PAGE_SIZE  # everything fits on one page
    return Catalogue(public, hidden)


def fetch(client: Client, reader: Reader, query: str):
    """GET the reader with this query; follow one redirect, which must stay on the site."""
    response = client.get(f"{reader.path}?{query}" if query else reader.path)
    assert response.status_code < 500, (query, response.status_code)
    if response.status_code in {301, 302}:
        location = response["Location"]
        parts = urlsplit(location.replace("\\", "/"))
        assert parts.netloc in {"", "testserver"} and not parts.scheme.startswith("javascript"), (
            location
        )
        response = client.get(location)
        assert response.status_code < 500, (location, response.status_code)
        assert response.status_code not in {301, 302}, f"redirected twice: {query!r}"
    return response


# --- Properties -----------------------------------------------------------------------------


@FUZZ
@given(query=any_query())
# Found by this test: a control character in the search text broke the feed's XML (a 500).
@example(query="q=a%01")
def test_any_query_string_is_answered_without_error_or_leak(
    client: Client, reader: Reader, catalogue: Catalogue, query: str
) -> None:
    response = fetch(client, reader, query)
    listed = reader.listed(response)
    event(f"status {response.status_code}, {'some' if listed else 'none'} listed")
    assert not catalogue.hidden & set(listed), f"unpublished resource listed for {query!r}"
    asked = ask(query)
    if asked.unknown:
        assert 400 <= response.status_code < 500, (query, response.status_code)
        assert listed == [], f"a list for an unknown value: {query!r}"
    elif response.status_code == 200:
        # Whatever else the query held, each listed resource satisfies every filter.
        allowed = catalogue.expected(asked.filters)
        assert set(listed) <= allowed, (query, set(listed) - allowed)


@hypothesis_settings(FUZZ, max_examples=50)
@given(query=valid_query())
def test_valid_filters_list_exactly_the_matching_published_resources(
    client: Client, reader: Reader, catalogue: Catalogue, query: str
) -> None:
    asked = ask(query)
    assert asked.exact and not asked.unknown
    response = fetch(client, reader, query)
    assert response.status_code == 200, query
    listed = reader.listed(response)
    assert len(listed) == len(set(listed)), f"a resource listed twice for {query!r}"
    assert set(listed) == catalogue.expected(asked.filters), query


def test_the_fuzzer_knows_every_filter_and_value() -> None:
    """Guard: the values above are still exactly the filters' options."""
    filterset = ResourceFilter(QueryDict(), tags=list(Tag.objects.all()))
    assert set(ResourceFilter.FACETS) == set(FILTERS)
    for name in FILTERS:
        options = {str(value) for value, _label in filterset.filters[name].field.choices}
        assert options == set(VALID[name]), name
    assert set(VALID["kind"]) == set(Kind.values)
    assert set(VALID["lang"]) == {code for code, _name in settings.LANGUAGES}


AWKWARD = [
    "level=gentle%00",
    "q=%00",
    "q=" + "a" * 201,
    "level=gentle&level=%ff",
    "bone=not-reviewed",
    "kind=video&kind=GUIDE",
    "lang=en&lang=xx",
    "type=balance&stage=gentle",
]


def test_known_awkward_queries_are_refused_without_a_list(
    client: Client, reader: Reader, catalogue: Catalogue
) -> None:
    """Examples the fuzzer might not draw on every run, pinned."""
    for query in AWKWARD:
        response = fetch(client, reader, query)
        assert 400 <= response.status_code < 500, (query, response.status_code)
        assert reader.listed(response) == [], query
