"""Free-text search over resources (docs/architecture.md).

On PostgreSQL: full-text search on a stored, generated `search_vector` column built with
each resource's own language configuration (created by migration 0003, GIN-indexed),
ranked, OR-ed with a trigram match on the title so that typos still find something.
On SQLite: case-insensitive matching of every word in the title, summary or body.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import BooleanField, F, FloatField, Q, QuerySet
from django.db.models.expressions import RawSQL

# Query configurations matching the document configurations in migration 0003. A query is
# parsed with each, so "Übungen" meets the German stem and "walking" the English one.
TEXT_SEARCH_CONFIGS = ("english", "german", "dutch", "spanish", "swedish")

_TSQUERY = " || ".join(
    [f"websearch_to_tsquery('{config}'::regconfig, %s)" for config in TEXT_SEARCH_CONFIGS]
    + ["websearch_to_tsquery('simple'::regconfig, hub_unaccent(%s))"]
)
_PARAMS_PER_QUERY = len(TEXT_SEARCH_CONFIGS) + 1


def search(qs: QuerySet, text: str) -> QuerySet:
    """Resources matching `text`, best first when the database can rank them."""
    text = " ".join(text.split())
    if not text:
        return qs
    if connection.vendor == "postgresql":
        return _search_postgresql(qs, text)
    return _search_simple(qs, text)


def _search_postgresql(qs: QuerySet, text: str) -> QuerySet:
    table = qs.model._meta.db_table
    tsquery_params = [text] * _PARAMS_PER_QUERY
    # `%%` is the trigram similarity operator (pg_trgm) escaped for the DB-API; it can use
    # the GIN trigram index on the title. `<%%` matches a word inside a longer title.
    # Only constant SQL is interpolated; the visitor's text always travels as a parameter.
    matches = RawSQL(  # noqa: S611
        f'"{table}"."search_vector" @@ ({_TSQUERY}) '
        f'OR "{table}"."title" %% %s OR %s <%% "{table}"."title"',
        [*tsquery_params, text, text],
        output_field=BooleanField(),
    )
    rank = RawSQL(  # noqa: S611
        f'ts_rank("{table}"."search_vector", ({_TSQUERY})) + similarity("{table}"."title", %s)',
        [*tsquery_params, text],
        output_field=FloatField(),
    )
    return (
        qs.filter(matches)
        .annotate(search_rank=rank)
        .order_by(F("search_rank").desc(), "title", "slug")
    )


def _search_simple(qs: QuerySet, text: str) -> QuerySet:
    for word in text.split()[:10]:
        qs = qs.filter(
            Q(title__icontains=word) | Q(summary__icontains=word) | Q(body__icontains=word)
        )
    return qs
