"""EXPLAIN (ANALYZE, BUFFERS) every query of every public filter and search path.

    .venv/bin/python bench/explain.py --size 100000            # after bench/generate.py
    .venv/bin/python bench/explain.py --size 100000 --verbose  # and print each plan

Each case requests a real page through Django's test client (page cache off), captures the
SQL that page runs, and has PostgreSQL execute it again under EXPLAIN. The report lists, per
query, its time, the indexes it used, whether it scanned resources_resource sequentially and
whether it is bounded (LIMIT, one row by a unique key, or an aggregate).

Exit status 1 when a case marked `indexed` reads resources_resource with a sequential scan,
or when a query returns rows without a bound. Unfiltered pages (all ~85 % of resources are
visible) are not marked: there a sequential scan is the cheapest plan, and PostgreSQL is right
to choose it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESOURCE_TABLE = "resources_resource"

# (name, address, indexed): `indexed` cases must not read resources_resource sequentially.
FACETS = {
    "level": "gentle",
    "stage": "metastatic",
    "bone": "suitable",
    "type": "balance",
    "kind": "video",
    "lang": "de",
}
SEARCHES = {
    "en": "walking",
    "de": "Übungen",
    "nl": "wandelen",
    "es": "estiramientos",
    "pl": "ćwiczenia",
    "sv": "promenader",
    "typo": "strech",
}


def cases(detail_slug: str) -> list[tuple[str, str, bool]]:
    found: list[tuple[str, str, bool]] = [
        ("home", "/en/", False),
        ("browse, no filter", "/en/resources/", False),
        ("browse, page 50", "/en/resources/?page=50", False),
    ]
    found += [
        (f"facet {name}", f"/en/resources/?{name}={value}", False) for name, value in FACETS.items()
    ]
    found += [
        ("3 filters", "/en/resources/?bone=suitable&level=gentle&type=balance", False),
        (
            "6 filters",
            "/en/resources/?bone=suitable&kind=video&lang=de&level=gentle&stage=metastatic"
            "&type=balance",
            True,
        ),
        ("rare combination", "/en/resources/?kind=programme&lang=sv&level=bed-or-chair", True),
        ("captions", "/en/resources/?captions=1", False),
        ("hide conflicts", "/en/resources/?hide_conflicts=1&site=spine", False),
    ]
    found += [
        (f"search {language}", f"/en/resources/?{urlencode({'q': text})}", True)
        for language, text in SEARCHES.items()
    ]
    found += [
        (
            "search + 3 filters",
            "/en/resources/?bone=suitable&level=gentle&q=walking&type=balance",
            True,
        ),
        ("detail", f"/en/resources/{detail_slug}/", True),
        ("api list", "/api/v1/resources/", False),
        (
            "api list, 3 filters",
            "/api/v1/resources/?bone=suitable&level=gentle&type=balance",
            False,
        ),
        ("api search", "/api/v1/resources/?q=walking", True),
        ("api detail", f"/api/v1/resources/{detail_slug}/", True),
        ("feed, 3 filters", "/en/feeds/rss/?bone=suitable&level=gentle&type=balance", False),
        ("embed, 3 filters", "/embed/resources/?bone=suitable&level=gentle&type=balance", False),
    ]
    return found


@dataclass
class QueryPlan:
    sql: str
    ms: float
    rows: int
    indexes: set[str] = field(default_factory=set)
    seq_scans: set[str] = field(default_factory=set)
    bounded: bool = True
    plan: dict[str, Any] = field(default_factory=dict)


def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from walk(child)


def explain(cursor: Any, sql: str) -> QueryPlan:
    cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}")
    raw = cursor.fetchone()[0]
    document = raw if isinstance(raw, list) else json.loads(raw)
    top = document[0]
    root = top["Plan"]
    result = QueryPlan(sql=sql, ms=top["Execution Time"], rows=root["Actual Rows"], plan=root)
    for node in walk(root):
        if "Index Name" in node:
            result.indexes.add(node["Index Name"])
        if node["Node Type"] == "Seq Scan":
            result.seq_scans.add(node["Relation Name"])
    # Bounded: a LIMIT on top, an aggregate (one row), or at most one row by a unique key.
    kinds = {
        node["Node Type"] for node in walk(root) if node is root or node in root.get("Plans", [])
    }
    result.bounded = bool(kinds & {"Limit", "Aggregate"}) or root["Plan Rows"] <= 1
    return result


def prefetch_is_bounded(sql: str) -> bool:
    """A prefetch query reads the tags of the rows on one page: `resource_id IN (<page>)`."""
    return '"resources_resource_tags"."resource_id" IN (' in sql or "_prefetch_related_val" in sql


def bench_environment(size: int, database_url: str | None) -> None:
    """Settings for a request made in-process against a generated bench database (see
    generate.py): production-like, the test client's host, no HTTPS redirect."""
    os.environ["DATABASE_URL"] = database_url or f"postgres://root@127.0.0.1:5432/hub_bench_{size}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    os.environ["DJANGO_SECURE_SSL_REDIRECT"] = "false"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--database-url")
    parser.add_argument("--verbose", action="store_true", help="print every plan")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args()
    bench_environment(args.size, args.database_url)
    os.environ["HUB_PAGE_CACHE_SECONDS"] = "0"
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from resources.models import Resource

    slug = Resource.objects.published().order_by("pk").values_list("slug", flat=True)[500]
    client = Client()
    failures: list[str] = []
    report: list[dict[str, Any]] = []
    for name, url, indexed in cases(slug):
        with CaptureQueriesContext(connection) as captured:
            status = client.get(url).status_code
        if status != 200:
            failures.append(f"{name}: {url} answered {status}")
        print(f"\n## {name}  {url}  ({status}, {len(captured)} queries)")
        with connection.cursor() as cursor:
            for query in captured.captured_queries:
                sql = query["sql"]
                if RESOURCE_TABLE not in sql or not sql.lstrip().upper().startswith("SELECT"):
                    continue
                plan = explain(cursor, sql)
                bounded = plan.bounded or prefetch_is_bounded(sql)
                seq = RESOURCE_TABLE in plan.seq_scans
                flags = []
                if seq:
                    flags.append("SEQ SCAN resources_resource")
                if not bounded:
                    flags.append("UNBOUNDED")
                print(
                    f"  {plan.ms:8.1f} ms  rows {plan.rows:>6}  "
                    f"indexes: {', '.join(sorted(plan.indexes)) or '-'}"
                    f"{'  [' + '; '.join(flags) + ']' if flags else ''}"
                )
                print(f"      {sql[:140]}")
                if args.verbose:
                    print(json.dumps(plan.plan, indent=1)[:6000])
                if seq and indexed:
                    failures.append(f"{name}: sequential scan of {RESOURCE_TABLE}: {sql[:100]}")
                if not bounded:
                    failures.append(f"{name}: unbounded query: {sql[:100]}")
                report.append(
                    {
                        "case": name,
                        "url": url,
                        "ms": plan.ms,
                        "rows": plan.rows,
                        "indexes": sorted(plan.indexes),
                        "seq_scans": sorted(plan.seq_scans),
                        "bounded": bounded,
                        "sql": sql,
                    }
                )
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    print()
    if failures:
        print("FAILED:")
        for failure in failures:
            print(f"  - {failure}")
        sys.exit(1)
    print("OK: every indexed case used an index, and every query is bounded.")


if __name__ == "__main__":
    main()
