"""Browse at scale (issue #12): a denormalised array of every resource's tag ids, and indexes
that serve the browse order.

`tag_ids` (PostgreSQL only, like `search_vector` in migration 0003, and for the same reasons:
not in the Django model state, never written by the ORM) holds the ids of the resource's tags,
sorted. A tag condition becomes `tag_ids && '{…}'` on the row itself, answered by a GIN index
and counted without a join (resources/catalogue/filters.py). Statement-level triggers on the tag links
keep it right for every way links are written (the ORM's `tags.set()`/`add()`/`remove()`,
the admin, imports, raw SQL): one UPDATE per statement, however many links it touches.

The two partial B-tree indexes (on every database) serve the browse order: the visitor's
language first (`language = %s ORDER BY title, slug`), then the rest (`ORDER BY title, slug`),
each read in index order with a LIMIT instead of sorting every visible resource.
"""

from django.db import migrations, models

FORWARD = r"""
ALTER TABLE resources_resource ADD COLUMN tag_ids integer[] NOT NULL DEFAULT '{}';

UPDATE resources_resource r
   SET tag_ids = links.ids
  FROM (SELECT resource_id, array_agg(tag_id ORDER BY tag_id) AS ids
          FROM resources_resource_tags GROUP BY resource_id) links
 WHERE links.resource_id = r.id;

CREATE INDEX resource_tag_ids_idx ON resources_resource USING gin (tag_ids);
-- Everything the facet counts read of a listed resource, so that counting reads this narrow
-- index (~1,000 pages at 100,000 resources) instead of the wide rows (~27,000 pages: titles,
-- bodies, search vectors). Index-only as long as autovacuum keeps the visibility map.
CREATE INDEX resource_facet_cover_idx ON resources_resource (published_at)
    INCLUDE (id, bone_metastasis_safety, language, kind, tag_ids)
    WHERE status = 'published' AND bone_metastasis_safety <> 'not-reviewed';

-- Recompute tag_ids of the resources whose links a statement changed. The transition tables
-- hold the changed links; a plpgsql statement that names a missing one is never planned, so
-- one function serves INSERT, DELETE and UPDATE.
CREATE OR REPLACE FUNCTION public.hub_refresh_tag_ids() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE resources_resource r
           SET tag_ids = coalesce((SELECT array_agg(t.tag_id ORDER BY t.tag_id)
                                     FROM resources_resource_tags t
                                    WHERE t.resource_id = r.id), '{}')
         WHERE r.id IN (SELECT resource_id FROM new_links);
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE resources_resource r
           SET tag_ids = coalesce((SELECT array_agg(t.tag_id ORDER BY t.tag_id)
                                     FROM resources_resource_tags t
                                    WHERE t.resource_id = r.id), '{}')
         WHERE r.id IN (SELECT resource_id FROM old_links);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER resource_tags_inserted AFTER INSERT ON resources_resource_tags
    REFERENCING NEW TABLE AS new_links
    FOR EACH STATEMENT EXECUTE FUNCTION public.hub_refresh_tag_ids();
CREATE TRIGGER resource_tags_deleted AFTER DELETE ON resources_resource_tags
    REFERENCING OLD TABLE AS old_links
    FOR EACH STATEMENT EXECUTE FUNCTION public.hub_refresh_tag_ids();
CREATE TRIGGER resource_tags_updated AFTER UPDATE ON resources_resource_tags
    REFERENCING OLD TABLE AS old_links NEW TABLE AS new_links
    FOR EACH STATEMENT EXECUTE FUNCTION public.hub_refresh_tag_ids();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS resource_tags_updated ON resources_resource_tags;
DROP TRIGGER IF EXISTS resource_tags_deleted ON resources_resource_tags;
DROP TRIGGER IF EXISTS resource_tags_inserted ON resources_resource_tags;
DROP FUNCTION IF EXISTS public.hub_refresh_tag_ids();
DROP INDEX IF EXISTS resource_facet_cover_idx;
DROP INDEX IF EXISTS resource_tag_ids_idx;
ALTER TABLE resources_resource DROP COLUMN IF EXISTS tag_ids;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(BACKWARD)


LISTED = models.Q(status="published") & ~models.Q(bone_metastasis_safety="not-reviewed")


class Migration(migrations.Migration):
    dependencies = [("resources", "0012_editing_published_content")]
    operations = [
        migrations.RunPython(forward, backward),
        migrations.AddIndex(
            model_name="resource",
            index=models.Index(
                condition=LISTED,
                fields=["language", "title", "slug"],
                name="resource_language_order_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="resource",
            index=models.Index(
                condition=LISTED, fields=["title", "slug"], name="resource_title_order_idx"
            ),
        ),
    ]
