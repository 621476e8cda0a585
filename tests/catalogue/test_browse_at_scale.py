"""Browse at scale (issue #12 part 1): the shapes that keep a page's cost independent of the
size of the library, with the results and counts exactly as before.

Speed itself is measured in bench/, never here: these tests check what the database holds,
which SQL a page runs, and that the results do not change.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.test.utils import CaptureQueriesContext

from resources.catalogue.filters import BrowseResults, browse
from resources.models import Kind, Resource, Tag

from ..factories import ResourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def postgresql(db) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("tag_ids and its triggers exist on PostgreSQL only (migration 0013)")


def _tag_ids(resource: Resource) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tag_ids FROM resources_resource WHERE id = %s", [resource.pk])
        return cursor.fetchone()[0]


def test_tag_ids_follow_every_change_of_a_resources_tags(postgresql):
    resource = ResourceFactory(tags={"level": ["gentle"], "type": ["balance"]})
    assert _tag_ids(resource) == sorted(resource.tags.values_list("pk", flat=True))

    strength = Tag.objects.get(vocabulary="type", slug="strength")
    resource.tags.add(strength)
    assert strength.pk in _tag_ids(resource)

    gentle = Tag.objects.get(vocabulary="level", slug="gentle")
    resource.tags.remove(gentle)
    assert gentle.pk not in _tag_ids(resource)
    assert _tag_ids(resource) == sorted(resource.tags.values_list("pk", flat=True))

    resource.tags.clear()
    assert _tag_ids(resource) == []


def test_tag_ids_are_refreshed_for_every_resource_a_statement_touches(postgresql):
    """One statement linking many resources (a bulk action) updates each of them."""
    first, second = ResourceFactory(), ResourceFactory(tags={"level": ["moderate"]})
    balance = Tag.objects.get(vocabulary="type", slug="balance")
    Resource.tags.through.objects.bulk_create(
        [Resource.tags.through(resource=r, tag=balance) for r in (first, second)]
    )
    assert balance.pk in _tag_ids(first)
    assert balance.pk in _tag_ids(second)
    assert len(_tag_ids(second)) == 2


def test_facet_counts_read_no_tag_join_on_postgresql(postgresql):
    """Each tag condition is a test on the row's own `tag_ids`, not a join or subquery."""
    ResourceFactory(tags={"level": ["gentle"], "type": ["balance"]})
    filterset, _results = browse(QueryDict("level=gentle&type=balance&bone=suitable"), "en")
    with CaptureQueriesContext(connection) as queries:
        filterset.facet_data()
    (sql,) = [query["sql"] for query in queries.captured_queries]
    assert "resources_resource_tags" not in sql
    assert '"tag_ids" &&' in sql


def _page_sql(client: Client, address: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(address).status_code == 200
    return [q["sql"] for q in queries.captured_queries]


def test_the_browse_page_is_read_in_index_order_without_a_case_or_a_second_count(client):
    for number in range(3):
        ResourceFactory(title=f"Walk {number}", language="de")
        ResourceFactory(title=f"Stretch {number}", language="en")
    statements = _page_sql(client, "/en/resources/")
    listing = [sql for sql in statements if "ORDER BY" in sql and "LIMIT" in sql]
    assert listing, statements
    assert not any("CASE WHEN" in sql for sql in statements)
    # The number of results came with the facet counts: no separate COUNT(*) query.
    assert not any(re.match(r'SELECT COUNT\(\*\) AS "__count"', sql) for sql in statements)


@pytest.mark.parametrize("page_size", [2, 3, 4])
def test_index_ordered_pages_are_the_visitor_language_first_order(settings, client, page_size):
    """Every page, including the one where the visitor's language ends, lists exactly what
    the single `CASE`-ordered query lists."""
    settings.HUB_PAGE_SIZE = page_size
    for number, language in enumerate(["de", "en", "nl", "en", "de", "en", "es", "en"]):
        ResourceFactory(title=f"Resource {number % 3}", language=language, kind=Kind.GUIDE)
    ResourceFactory(draft=True, language="en")
    for query in ["", "lang=en&lang=de", "lang=de", "kind=guide"]:
        filterset, results = browse(QueryDict(query), "en")
        expected = [r.slug for r in results.visitor_language_first("en")]
        listed = BrowseResults(filterset, results, "en")
        assert listed.count() == len(expected)
        got = []
        for start in range(0, len(expected) + page_size, page_size):
            got += [r.slug for r in listed[start : start + page_size]]
        assert got == expected, query


def test_facet_counts_are_reused_until_the_content_changes(client, commit, settings):
    settings.HUB_PAGE_CACHE_SECONDS = 0  # pages render every time; only the counts are kept
    with commit():
        resource = ResourceFactory(title="Chair routine", tags={"level": ["gentle"]})
    first = _page_sql(client, "/en/resources/?level=gentle")
    again = _page_sql(client, "/en/resources/?level=gentle")
    assert len(again) == len(first) - 1  # no facet aggregate the second time
    with commit():
        resource.tags.set(Tag.objects.filter(vocabulary="level", slug="moderate"))
    html = client.get("/en/resources/?level=gentle").content.decode()
    assert "Chair routine" not in html
    assert re.search(
        r'name="level" value="moderate"[^>]*>\s*<label[^>]*>[^<]*<span class="count">\(1', html
    )


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run the on-commit work of the changes made inside (the content version bump)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
