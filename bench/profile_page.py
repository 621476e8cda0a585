"""Profile one uncached page with pyinstrument, and list its SQL with their times.

    .venv/bin/python bench/profile_page.py --size 100000 \
        "/en/resources/?bone=suitable&level=gentle&type=balance"

Renders the page through Django's test client with the page cache off (a warm-up request
first, so imports and the first connection are not counted), then prints the pyinstrument
tree and each query's time: enough to say whether the time goes to PostgreSQL, to the ORM
or to the templates.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path")
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--database-url")
    parser.add_argument("--cached", action="store_true", help="profile a page-cache hit")
    parser.add_argument("--cache-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--repeat", type=int, default=1, help="requests profiled together")
    args = parser.parse_args()
    from explain import bench_environment  # a sibling script, on sys.path when run

    bench_environment(args.size, args.database_url)
    if args.cached:
        # The warm-up request fills the page cache; the profiled one is a hit, from Redis.
        os.environ["CACHE_URL"] = args.cache_url
    else:
        os.environ["HUB_PAGE_CACHE_SECONDS"] = "0"
    os.environ["HUB_LOG_FORMAT"] = "text"
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from pyinstrument import Profiler

    client = Client()
    client.get(args.path)
    profiler = Profiler(interval=0.001)
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        profiler.start()
        for _ in range(args.repeat):
            status = client.get(args.path).status_code
        profiler.stop()
        total = time.perf_counter() - started
    sql_seconds = sum(float(query["time"]) for query in captured.captured_queries)
    print(
        f"{args.path}: {status}, {args.repeat} request(s) in {total * 1000:.0f} ms, "
        f"of which SQL {sql_seconds * 1000:.0f} ms"
    )
    for query in captured.captured_queries:
        print(f"  {float(query['time']) * 1000:8.1f} ms  {query['sql'][:110]}")
    print(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main()
