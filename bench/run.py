"""Load-test the hub under gunicorn with production settings, against a baseline.

    .venv/bin/python bench/generate.py --size 10000          # once per size
    .venv/bin/python bench/run.py --size 10000 --duration 30s --connections 8

For each mode (`cached`: the production page cache in Redis; `uncached`: the server restarted
with the page cache switched off, so every request renders) the runner starts gunicorn
(`gunicorn.conf.py`, DEBUG off, PostgreSQL, Redis), waits for /readyz, checks that every URL
answers 200 without a redirect, warms each URL up, then for each endpoint runs wrk on the
baseline (`/healthz`: a constant answered through the same middleware stack) and right after it
on the endpoint, each for `--duration`, from a separate process over loopback. The ratio is
endpoint / baseline requests per second of that adjacent pair, so machine noise that lasts
longer than a minute cancels out. Results go to `bench/results/<date>-<size>.json` and `.md`.

Speed is only ever reported here, never asserted in a test.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
BIN = ROOT / ".venv" / "bin"
LUA = BENCH / "wrk_report.lua"

BASELINE = "/healthz"
# Canonical addresses (parameters sorted, as the browse page redirects to), so every request
# is a 200 and measures the page itself.
ENDPOINTS = {
    "home": "/en/",
    "browse": "/en/resources/",
    "browse-3-filters": "/en/resources/?bone=suitable&level=gentle&type=balance",
    "browse-search": "/en/resources/?q=walking",
    "detail": "/en/resources/{slug}/",
    "api-list": "/api/v1/resources/",
}
# How the "uncached" server switches the page cache off (hub/cache.py: 0 seconds = off).
UNCACHED_ENV = {"HUB_PAGE_CACHE_SECONDS": "0"}


@dataclass
class Measurement:
    name: str
    mode: str
    path: str
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    errors: int
    baseline_rps: float
    baseline_p99_ms: float
    baseline_errors: int

    @property
    def ratio(self) -> float:
        return self.rps / self.baseline_rps if self.baseline_rps else 0.0


def parse_duration(text: str) -> int:
    match = re.fullmatch(r"(\d+)([sm]?)", text)
    if not match:
        raise argparse.ArgumentTypeError("a duration such as 30s or 2m")
    return int(match[1]) * (60 if match[2] == "m" else 1)


def server_env(args: argparse.Namespace, mode: str) -> dict[str, str]:
    """Production settings, as docs/operations.md lists them, behind a (simulated) TLS proxy."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hub.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-" + "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_BEHIND_TLS_PROXY": "true",
        "DATABASE_URL": args.database_url,
        "CACHE_URL": args.cache_url,
        "GUNICORN_BIND": f"127.0.0.1:{args.port}",
        "HUB_LOG_FORMAT": "json",
    }
    # Gunicorn's max_requests recycles every worker after ~1000 requests, and at benchmark
    # rates all of them within a second or two: the server then answers nothing until the new
    # workers have imported Django (seconds on a busy machine). Off unless asked for.
    env["GUNICORN_MAX_REQUESTS"] = str(args.max_requests)
    if args.workers:
        env["GUNICORN_WORKERS"] = str(args.workers)
    if mode == "uncached":
        env.update(UNCACHED_ENV)
    return env


def flush_cache(url: str) -> None:
    """Empty our own Redis database, so the cached mode starts cold and honest."""
    import redis

    redis.Redis.from_url(url).flushdb()


def start_server(args: argparse.Namespace, mode: str, log: Path) -> subprocess.Popen:
    try:
        fetch(args, BASELINE)
    except OSError:
        pass  # nothing listens: good
    else:
        raise SystemExit(f"Something already answers on port {args.port}: stop it first.")
    command = [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "hub.wsgi"]
    server = subprocess.Popen(
        command,
        cwd=ROOT,
        env=server_env(args, mode),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise SystemExit(f"gunicorn exited with {server.returncode}; see {log}")
            try:
                if fetch(args, "/readyz")[0] == 200:
                    return server
            except OSError:
                pass
            time.sleep(0.5)
        raise SystemExit(f"gunicorn did not become ready within 60 s; see {log}")
    except BaseException:
        if server.poll() is None:
            stop_server(server)
        raise


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def fetch(args: argparse.Namespace, path: str) -> tuple[int, dict[str, str]]:
    """Status and headers of one GET, redirects not followed."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(
        f"http://127.0.0.1:{args.port}{path}", headers={"X-Forwarded-Proto": "https"}
    )
    try:
        with opener.open(request, timeout=30) as response:
            response.read()
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def wrk(args: argparse.Namespace, path: str, seconds: int) -> dict[str, float]:
    command = [
        "/usr/bin/wrk",
        f"--threads={args.threads}",
        f"--connections={args.connections}",
        f"--duration={seconds}s",
        "--timeout=5s",
        "--latency",
        f"--script={LUA}",
        "--header=X-Forwarded-Proto: https",
        f"http://127.0.0.1:{args.port}{path}",
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH_JSON "))
    data = json.loads(line.removeprefix("BENCH_JSON "))
    data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
    return data


def drain(args: argparse.Namespace) -> None:
    """Wait until requests wrk gave up on have left the workers (a sync worker finishes a
    request whose client has gone), so a slow page does not lower the next pair's baseline:
    until /healthz answers within 100 ms again, at most two minutes."""
    time.sleep(args.settle)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        started = time.monotonic()
        with contextlib.suppress(OSError):
            fetch(args, BASELINE)
        if time.monotonic() - started < 0.1:
            return
        time.sleep(1)


def detail_slug(database_url: str) -> str:
    """A published resource in the middle of the table (not the first row the planner finds)."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT slug FROM resources_resource WHERE status = 'published' "
            "AND published_at <= now() AND bone_metastasis_safety <> 'not-reviewed' "
            "ORDER BY id OFFSET (SELECT count(*) / 2 FROM resources_resource) / 2 LIMIT 1"
        ).fetchone()
    if row is None:
        raise SystemExit("No published resource: run bench/generate.py first.")
    return row[0]


def measure_mode(
    args: argparse.Namespace, mode: str, paths: dict[str, str], log: Path
) -> tuple[list[Measurement], dict[str, dict[str, str]]]:
    flush_cache(args.cache_url)
    server = start_server(args, mode, log)
    results: list[Measurement] = []
    headers: dict[str, dict[str, str]] = {}
    try:
        for name, path in {"baseline": BASELINE, **paths}.items():
            status, response_headers = fetch(args, path)
            if status != 200:
                raise SystemExit(f"{path} answered {status}, not 200 ({mode}); see {log}")
            keep = ("Cache-Control", "Age", "X-Cache", "Vary", "Content-Length", "ETag")
            headers[name] = {k: v for k, v in response_headers.items() if k in keep}
        if mode == "cached":
            # Uncached pages were warmed by the status check above; a wrk warm-up of a page
            # that takes seconds would only leave a backlog in the workers.
            for path in [BASELINE, *paths.values()]:
                wrk(args, path, args.warmup)
        for name, path in paths.items():
            base = wrk(args, BASELINE, args.duration)
            page = wrk(args, path, args.duration)
            drain(args)
            measurement = Measurement(
                name=name,
                mode=mode,
                path=path,
                rps=round(page["rps"], 1),
                p50_ms=page["p50_us"] / 1000,
                p95_ms=page["p95_us"] / 1000,
                p99_ms=page["p99_us"] / 1000,
                max_ms=page["max_us"] / 1000,
                requests=int(page["requests"]),
                errors=int(page["errors"]),
                baseline_rps=round(base["rps"], 1),
                baseline_p99_ms=base["p99_us"] / 1000,
                baseline_errors=int(base["errors"]),
            )
            print(
                f"{mode:9} {name:18} {measurement.rps:8.1f} rps  ratio {measurement.ratio:5.2f}"
                f"  p99 {measurement.p99_ms:7.1f} ms  errors {measurement.errors}",
                flush=True,
            )
            results.append(measurement)
    finally:
        stop_server(server)
    return results, headers


def markdown(size: int, args: argparse.Namespace, rows: list[Measurement]) -> str:
    lines = [
        f"Resources: {size:,} · connections: {args.connections} · wrk threads: {args.threads}"
        f" · {args.duration} s per measurement · gunicorn workers: {args.workers or 'conf'}",
        "",
        "| endpoint | mode | req/s | baseline req/s | ratio | p50 ms | p95 ms | p99 ms | errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        if not row.p99_ms:  # no answer arrived within wrk's timeout (or the run)
            lines.append(
                f"| {row.name} | {row.mode} | {row.rps:.1f} (none answered in time) | "
                f"{row.baseline_rps:.0f} | {row.ratio:.1%} | - | - | > 5000 | "
                f"{row.errors + row.baseline_errors} |"
            )
            continue
        lines.append(
            f"| {row.name} | {row.mode} | {row.rps:.0f} | {row.baseline_rps:.0f} | "
            f"{row.ratio:.0%} | {row.p50_ms:.1f} | {row.p95_ms:.1f} | {row.p99_ms:.1f} | "
            f"{row.errors + row.baseline_errors} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--database-url", help="default: the generator's hub_bench_<size>")
    parser.add_argument("--cache-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--duration", type=parse_duration, default=30, help="per measurement")
    parser.add_argument("--warmup", type=parse_duration, default=3)
    parser.add_argument("--settle", type=int, default=3, help="seconds before draining")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: the conf's)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--max-requests", type=int, default=0, help="gunicorn; 0 = never recycle")
    parser.add_argument("--modes", default="cached,uncached")
    parser.add_argument("--only", help="comma-separated endpoint names")
    parser.add_argument("--label", default="", help="added to the result file name")
    args = parser.parse_args()
    # SIGTERM ends the run through the `finally` that stops gunicorn.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args.database_url = args.database_url or (
        f"postgres://root@127.0.0.1:5432/hub_bench_{args.size}"
    )
    names = args.only.split(",") if args.only else list(ENDPOINTS)
    unknown = set(names) - set(ENDPOINTS)
    if unknown:
        parser.error(f"unknown endpoints: {', '.join(sorted(unknown))}")
    slug = detail_slug(args.database_url)
    paths = {name: ENDPOINTS[name].format(slug=slug) for name in names}

    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M")
    stem = f"{stamp}-{args.size}{'-' + args.label if args.label else ''}"
    log = RESULTS / f"{stem}.server.log"
    rows: list[Measurement] = []
    headers: dict[str, dict[str, dict[str, str]]] = {}
    started = datetime.now(UTC)
    loadavg_before = os.getloadavg()
    for mode in args.modes.split(","):
        mode_rows, headers[mode] = measure_mode(args, mode, paths, log)
        rows.extend(mode_rows)
    report = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "started": started.isoformat(),
        "finished": datetime.now(UTC).isoformat(),
        "size": args.size,
        "machine": {
            "nproc": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "loadavg_before": loadavg_before,
            "loadavg_after": os.getloadavg(),
        },
        "settings": {k: v for k, v in vars(args).items() if k != "database_url"},
        "response_headers": headers,
        "results": [{**asdict(row), "ratio": round(row.ratio, 3)} for row in rows],
    }
    (RESULTS / f"{stem}.json").write_text(json.dumps(report, indent=2) + "\n")
    table = markdown(args.size, args, rows)
    (RESULTS / f"{stem}.md").write_text(f"`{report['command']}`\n\n{table}")
    print(table)
    print(f"Written: bench/results/{stem}.json and .md")


if __name__ == "__main__":
    main()
