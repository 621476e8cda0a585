"""A publish storm: an editor publishing a change every few seconds (bench/run.py --modes storm).

    DATABASE_URL=postgres://…/hub_bench_100000 CACHE_URL=redis://127.0.0.1:6379/13 \\
        .venv/bin/python bench/storm.py --every 2

Each tick saves one published resource through the ORM, exactly as the admin does (a new
title suffix, so the public text really changes): the save commits, the signals bump the
content version (hub/cache.py), and every cached page and facet count becomes stale at once.
It prints one line per publish with the commit time, so a run can be checked against it.
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
    parser.add_argument("--every", type=float, default=2.0, help="seconds between publishes")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    import django

    django.setup()
    from django.db import transaction

    from resources.models import Resource

    ids = list(Resource.objects.published().order_by("id").values_list("id", flat=True)[:1000])
    tick = 0
    while True:
        started = time.monotonic()
        with transaction.atomic():
            resource = Resource.objects.select_for_update().get(pk=ids[tick % len(ids)])
            resource.title = f"{resource.title.split(' · ')[0]} · edit {tick}"
            resource.save()
        print(f"storm: published {resource.slug} at {time.time():.3f}", flush=True)
        tick += 1
        time.sleep(max(0.0, args.every - (time.monotonic() - started)))


if __name__ == "__main__":
    main()
