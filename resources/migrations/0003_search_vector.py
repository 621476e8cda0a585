"""PostgreSQL full-text search: a stored generated column per resource, in its language.

Not part of the Django model state on purpose: the column only exists on PostgreSQL
(SQLite uses plain matching, see resources/catalogue/search.py), and a generated column must never
be written by the ORM. On other databases this migration does nothing.
"""

from django.db import migrations

FORWARD = r"""
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;

-- unaccent() is only STABLE (it reads a dictionary), so it cannot appear in a generated
-- column; pinning the dictionary makes the wrapper safe to declare IMMUTABLE.
CREATE OR REPLACE FUNCTION public.hub_unaccent(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$;

-- Schema-qualified calls: pg_restore rebuilds the generated column with an empty search_path.
CREATE OR REPLACE FUNCTION public.hub_search_document(lang text, title text, summary text, body text)
    RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE lang
        WHEN 'en' THEN setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
                    || setweight(to_tsvector('english'::regconfig, coalesce(summary, '')), 'B')
                    || setweight(to_tsvector('english'::regconfig, coalesce(body, '')), 'C')
        WHEN 'de' THEN setweight(to_tsvector('german'::regconfig, coalesce(title, '')), 'A')
                    || setweight(to_tsvector('german'::regconfig, coalesce(summary, '')), 'B')
                    || setweight(to_tsvector('german'::regconfig, coalesce(body, '')), 'C')
        WHEN 'nl' THEN setweight(to_tsvector('dutch'::regconfig, coalesce(title, '')), 'A')
                    || setweight(to_tsvector('dutch'::regconfig, coalesce(summary, '')), 'B')
                    || setweight(to_tsvector('dutch'::regconfig, coalesce(body, '')), 'C')
        WHEN 'es' THEN setweight(to_tsvector('spanish'::regconfig, coalesce(title, '')), 'A')
                    || setweight(to_tsvector('spanish'::regconfig, coalesce(summary, '')), 'B')
                    || setweight(to_tsvector('spanish'::regconfig, coalesce(body, '')), 'C')
        WHEN 'sv' THEN setweight(to_tsvector('swedish'::regconfig, coalesce(title, '')), 'A')
                    || setweight(to_tsvector('swedish'::regconfig, coalesce(summary, '')), 'B')
                    || setweight(to_tsvector('swedish'::regconfig, coalesce(body, '')), 'C')
        -- Polish has no stemmer in PostgreSQL: exact words, accents folded.
        ELSE setweight(to_tsvector('simple'::regconfig, public.hub_unaccent(coalesce(title, ''))), 'A')
          || setweight(to_tsvector('simple'::regconfig, public.hub_unaccent(coalesce(summary, ''))), 'B')
          || setweight(to_tsvector('simple'::regconfig, public.hub_unaccent(coalesce(body, ''))), 'C')
    END
    $$;

ALTER TABLE resources_resource ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (public.hub_search_document(language, title, summary, body)) STORED;
-- Browse page search box.
CREATE INDEX resource_search_vector_idx ON resources_resource USING gin (search_vector);
-- Typo-tolerant title matching on the browse page search box.
CREATE INDEX resource_title_trgm_idx ON resources_resource USING gin (title gin_trgm_ops);
"""

BACKWARD = """
DROP INDEX IF EXISTS resource_title_trgm_idx;
DROP INDEX IF EXISTS resource_search_vector_idx;
ALTER TABLE resources_resource DROP COLUMN IF EXISTS search_vector;
DROP FUNCTION IF EXISTS public.hub_search_document(text, text, text, text);
DROP FUNCTION IF EXISTS public.hub_unaccent(text);
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # No parameters, so psycopg sends the script as one simple query.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("resources", "0002_seed_vocabularies")]
    operations = [migrations.RunPython(forward, backward)]
