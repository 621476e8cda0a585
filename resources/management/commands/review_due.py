"""`manage.py review_due`: resources whose clinical review is overdue or due soon.

Made for cron: plain text for an e-mail body (nothing at all when nothing is due, so
`cron`'s MAILTO sends no empty mail), or `--format=json` for other tools. Always exits 0:
"something is due" is news, not a failure.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse
from django.utils import timezone

from resources.editorial.review_due import DUE_SOON, DUE_SOON_DAYS, OVERDUE, REVIEW_LISTS, condition
from resources.models import Resource


def _row(resource: Resource, base_url: str) -> dict[str, Any]:
    admin_path = reverse("admin:resources_resource_change", args=[resource.pk])
    return {
        "id": resource.pk,
        "title": resource.title,
        "slug": resource.slug,
        "status": resource.status,
        "next_review_due": resource.next_review_due.isoformat(),
        "reviewed_by": resource.reviewed_by,
        # Absolute with --base-url, so that a link in the e-mail opens the change form.
        "admin_url": f"{base_url}{admin_path}",
    }


class Command(BaseCommand):
    help = "List resources whose clinical review is overdue or due within --days days."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=DUE_SOON_DAYS,
            help=f"How far ahead 'due soon' looks, in days (default {DUE_SOON_DAYS}).",
        )
        parser.add_argument("--format", choices=["text", "json"], default="text")
        parser.add_argument(
            "--base-url",
            default="",
            help="The site's address, e.g. https://hub.example.org, to print full admin links.",
        )

    def handle(self, *args: Any, days: int, format: str, base_url: str, **options: Any) -> None:
        if days < 0:
            raise CommandError("--days must be 0 or more.")
        base_url = base_url.rstrip("/")
        today = timezone.localdate()
        found = {
            key: [
                _row(resource, base_url)
                for resource in Resource.objects.filter(condition(key, today, days=days))
                .order_by(*REVIEW_LISTS[key].ordering)
                .only("pk", "title", "slug", "status", "next_review_due", "reviewed_by")
            ]
            for key in (OVERDUE, DUE_SOON)
        }
        if format == "json":
            payload = {"today": today.isoformat(), "days": days, **found}
            self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2))
            return
        sections = [
            (f"Review overdue ({len(found[OVERDUE])})", found[OVERDUE]),
            (f"Review due in the next {days} days ({len(found[DUE_SOON])})", found[DUE_SOON]),
        ]
        for heading, rows in sections:
            if not rows:
                continue
            self.stdout.write(heading)
            for row in rows:
                self.stdout.write(
                    f"  {row['next_review_due']}  {row['title']}  [{row['status']}]  "
                    f"{row['admin_url']}"
                )
            self.stdout.write("")
