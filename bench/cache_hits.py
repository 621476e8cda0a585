"""Cached-hit throughput against /healthz, and browsing during a publish storm (issue #12).

    .venv/bin/python bench/cache_hits.py --size 2000 --duration 15

Starts gunicorn (gunicorn.conf.py, production settings, PostgreSQL, Redis) with the runner of
bench/run.py, then:

1. Cached hits: `--pairs` adjacent wrk pairs of /healthz and a warm cached page (browse and a
   resource page); the ratio is page / baseline requests per second of each pair.
2. Publish storm: browse (/en/resources/) for `--duration` without publishing, then the same
   with bench/publish_storm.py publishing a resource every `--every` seconds through the
   workflow; both with a checker that fetches that resource's page in a loop and counts
   answers older than the newest change committed before the request started: "within the
   hold" (the change committed less than HUB_CONTENT_VERSION_HOLD_SECONDS before, the
   documented delay between processes) and "stale" (older than that: must be 0).

The database (name starting hub_bench) is filled by bench/generate.py when it has no
resources. Prints a Markdown table and `uptime`; the machine's load is part of the result.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import BIN, ROOT, fetch, start_server, stop_server, wrk

BASELINE = "/healthz"
BROWSE = "/en/resources/"
HOLD_SECONDS = 1.0  # HUB_CONTENT_VERSION_HOLD_SECONDS's default


def published_slug(database_url: str) -> str | None:
    import psycopg

    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT slug FROM resources_resource WHERE status = 'published' "
            "AND published_at <= now() ORDER BY id LIMIT 1"
        ).fetchone()
    return row[0] if row else None


@dataclass
class Checker:
    """Fetches the stormed resource's page in a loop and compares the round number it shows
    with the rounds committed (per the storm's log) before each request started."""

    port: int
    path: str
    log: Path
    answers: int = 0
    within_hold: int = 0
    stale: int = 0
    errors: int = 0
    examples: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def committed(self) -> list[tuple[int, float]]:
        if not self.log.exists():
            return []
        rows = []
        for line in self.log.read_text().splitlines():
            number, at = line.split()
            rows.append((int(number), float(at)))
        return rows

    def run(self) -> None:
        while not self._stop.is_set():
            started = time.time()
            rounds = self.committed()
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{self.port}{self.path}",
                    headers={"X-Forwarded-Proto": "https"},
                )
                with urllib.request.urlopen(request, timeout=30) as response:
                    text = response.read().decode()
            except OSError:
                self.errors += 1
                continue
            self.answers += 1
            match = re.search(r"\(storm (\d+)\)", text)
            seen = int(match[1]) if match else 0
            newest = max((n for n, at in rounds if at <= started), default=0)
            settled = max((n for n, at in rounds if at <= started - HOLD_SECONDS), default=0)
            if seen < settled:
                self.stale += 1
                if len(self.examples) < 5:
                    self.examples.append(
                        f"saw {seen}, {settled} committed > {HOLD_SECONDS} s before"
                    )
            elif seen < newest:
                self.within_hold += 1
            time.sleep(0.05)

    def __enter__(self) -> Checker:
        self._thread = threading.Thread(target=self.run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--database-url", help="default: hub_bench_h12cache_<size>")
    parser.add_argument("--cache-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--every", type=float, default=2.0, help="storm: seconds per publish")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int)
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--storm-only", action="store_true", help="skip the cached-hit pairs")
    args = parser.parse_args()
    args.max_requests = 0
    args.database_url = (
        args.database_url or f"postgres://root@127.0.0.1:5432/hub_bench_h12cache_{args.size}"
    )
    slug = None
    try:
        slug = published_slug(args.database_url)
    except Exception:  # no database or no tables yet
        slug = None
    if slug is None:
        subprocess.run(
            [
                str(BIN / "python"),
                str(ROOT / "bench" / "generate.py"),
                "--size",
                str(args.size),
                "--database-url",
                args.database_url,
            ],
            check=True,
        )
        slug = published_slug(args.database_url)
    assert slug, "no published resource"
    import redis

    redis.Redis.from_url(args.cache_url).flushdb()  # our own database number only
    detail = f"/en/resources/{slug}/"
    log = Path(tempfile.mkdtemp(prefix="hub-storm-")) / "server.log"
    server = start_server(args, "cached", log)
    rows: list[str] = []
    try:
        for path in (BROWSE, detail):
            for _ in range(3):
                assert fetch(args, path)[0] == 200, path
        wrk(args, BROWSE, 3)  # warm-up
        for name, path in () if args.storm_only else (("browse", BROWSE), ("detail", detail)):
            for pair in range(args.pairs):
                base = wrk(args, BASELINE, args.duration)
                page = wrk(args, path, args.duration)
                rows.append(
                    f"| cached {name} (pair {pair + 1}) | {page['rps']:.0f} | "
                    f"{base['rps']:.0f} | {page['rps'] / base['rps']:.0%} | "
                    f"{page.get('errors', 0)} |"
                )
                print(rows[-1], flush=True)

        storm_log = log.with_name("storm.log")
        env_server = __import__("run").server_env(args, "cached")
        for storm in (False, True):
            publisher = None
            if storm:
                publisher = subprocess.Popen(
                    [
                        str(BIN / "python"),
                        str(ROOT / "bench" / "publish_storm.py"),
                        slug,
                        str(storm_log),
                        "--every",
                        str(args.every),
                    ],
                    cwd=ROOT,
                    env=env_server,
                )
                time.sleep(args.every + 1)  # the first publication is in
            try:
                with Checker(args.port, detail, storm_log) as checker:
                    base = wrk(args, BASELINE, args.duration)
                    page = wrk(args, BROWSE, args.duration)
            finally:
                if publisher is not None:
                    publisher.terminate()
                    publisher.wait(timeout=30)
            label = f"browse, storm every {args.every:g} s" if storm else "browse, no storm"
            rows.append(
                f"| {label} | {page['rps']:.0f} | {base['rps']:.0f} | "
                f"{page['rps'] / base['rps']:.0%} | {page.get('errors', 0)} | "
                f"checker: {checker.answers} answers, {checker.within_hold} within the hold, "
                f"{checker.stale} stale {checker.examples} |"
            )
            print(rows[-1], flush=True)
    finally:
        stop_server(server)
    print("\n| run | page req/s | /healthz req/s | ratio | errors | notes |")
    print("| --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
