"""An editor publishing every few seconds, for bench/cache_hits.py (issue #12, part 4).

    DATABASE_URL=postgres://… .venv/bin/python bench/publish_storm.py SLUG LOG [--every 2]

Each round takes the resource SLUG through the editorial workflow in one transaction
(unpublish, retitle "… (storm N)", submit, approve), as a reviewer correcting a published
resource would, so every round is one committed change and one new content version. After each
commit it appends "N <unix time>" to LOG: the benchmark's checker reads it to know the newest
change that had certainly committed before its request started. Runs until stopped.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("slug")
    parser.add_argument("log", type=Path)
    parser.add_argument("--every", type=float, default=2.0, help="seconds between publications")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.db import transaction

    from resources import workflow
    from resources.models import Resource

    reviewer, _created = User.objects.get_or_create(
        username="bench-storm-reviewer",
        defaults={"is_staff": True, "is_superuser": True, "email": "storm@example.org"},
    )
    base = re.sub(r" \(storm \d+\)$", "", Resource.objects.get(slug=args.slug).title)
    number = 0
    next_at = time.monotonic()
    while True:
        number += 1
        with transaction.atomic():
            resource = Resource.objects.select_for_update().get(slug=args.slug)
            workflow.unpublish(resource, reviewer, "benchmark storm")
            resource.title = f"{base} (storm {number})"
            resource.save()
            workflow.submit(resource, reviewer, "benchmark storm")
            workflow.approve(resource, reviewer, "benchmark storm")
        # After the commit (and its on-commit version change) returned.
        with args.log.open("a") as log:
            log.write(f"{number} {time.time():.3f}\n")
        next_at += args.every
        time.sleep(max(0.0, next_at - time.monotonic()))


if __name__ == "__main__":
    main()
