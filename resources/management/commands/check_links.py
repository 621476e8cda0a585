"""Check every external link the hub lists; meant for cron (resources/editorial/linkcheck.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from resources.editorial import linkcheck


# argparse names the type in its error ("invalid seconds value: '0'"), hence the names.
def seconds(text: str) -> float:
    """A timeout in seconds, more than zero."""
    value = float(text)
    if not 0 < value < 3600:
        raise ValueError(text)
    return value


def count(text: str) -> int:
    """How many links at once: 1 to 32 (a small limit is polite to the sites checked)."""
    value = int(text)
    if not 1 <= value <= 32:
        raise ValueError(text)
    return value


class Command(BaseCommand):
    help = (
        "Check every resource address, transcript address and organisation website (drafts "
        "too). A link is marked broken after failing on two different runs. Private and local "
        "network addresses are refused. Exits with 0 whatever the links answer (for cron)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--concurrency",
            type=count,
            default=None,
            help="Links checked at the same time (default: HUB_LINK_CHECK_CONCURRENCY, 4).",
        )
        parser.add_argument(
            "--timeout",
            type=seconds,
            default=None,
            help="Seconds to wait to connect and for an answer (default: settings, 5 and 10).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check and print, but record nothing.",
        )

    def handle(
        self,
        *args: Any,
        concurrency: int | None,
        timeout: float | None,
        dry_run: bool,
        **options: Any,
    ) -> None:
        summary, results = linkcheck.run(timeout=timeout, concurrency=concurrency, dry_run=dry_run)
        if options["verbosity"] >= 2:
            for result in results:
                state = "ok" if result.ok else f"FAILED: {result.error}"
                self.stdout.write(f"{result.url}  {state}  ({result.elapsed_ms} ms)")
        self.stdout.write(
            f"Checked {summary.checked} links: {summary.ok} ok, {summary.failing} failing "
            f"({summary.refused} refused as unsafe), {len(summary.broken)} broken."
        )
        if dry_run:
            self.stdout.write("Dry run: nothing was recorded.")
            return
        if summary.pruned:
            self.stdout.write(f"Forgot {summary.pruned} links that are no longer used.")
        if summary.broken:
            self.stdout.write("Broken links (failed on two or more runs in a row):")
            for check in summary.broken:
                self.stdout.write(f"  {check.url}  {check.error}")
