"""Gunicorn settings for the hub: `gunicorn -c gunicorn.conf.py hub.wsgi`.

Every value can be tuned with an environment variable (listed in `.env.example`), so the
same file serves a laptop, the Docker image and the benchmarks in `bench/`. The defaults
suit a small server with two cores behind a TLS-terminating proxy.

Why these choices:
- No access log: the hub logs every request itself (hub/logging.py), as JSON, with a
  request id and without the query string or the client's address. Gunicorn's access log
  would repeat each line and leak both.
- Gunicorn's own messages (start, worker timeouts, crashes) use the hub's JSON formatter in
  production, so one log pipeline reads everything.
- `forwarded_allow_ips` comes only from the environment: trusting X-Forwarded-* from
  anywhere would let any client claim to be on HTTPS or spoof its address.
"""

from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    """A whole number from the environment; a typo stops the server instead of being ignored."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}.") from None


def _cores() -> int:
    """Cores this process may use (a container's CPU set, not the host's)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # macOS has no sched_getaffinity
        return os.cpu_count() or 1


def _json_logs() -> bool:
    """Same rule as hub/settings.py: JSON unless HUB_LOG_FORMAT=text or debugging."""
    chosen = os.environ.get("HUB_LOG_FORMAT", "").strip()
    if chosen:
        return chosen == "json"
    debug = os.environ.get("DJANGO_DEBUG", "").strip().lower() in {"1", "true", "yes", "on"}
    return not debug


# 127.0.0.1 by default, so a laptop does not expose the server; the Docker image sets
# GUNICORN_BIND=0.0.0.0:8000.
bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")]

# Requests mostly wait for PostgreSQL or Redis, so two processes per core keep the cores
# busy; threads > 1 switches to the gthread worker (each thread holds its own database
# connection: keep workers x threads x servers below PostgreSQL's max_connections).
#
# Cached pages and their content version live in Django's cache. Without a shared one
# (CACHE_URL / REDIS_URL) that is each process's own memory, and a second worker would go on
# serving pages that a publish in the first has made stale: then one process, with threads.
_shared_cache = bool(
    os.environ.get("CACHE_URL", "").strip() or os.environ.get("REDIS_URL", "").strip()
)
_page_cache_on = _int("HUB_PAGE_CACHE_SECONDS", 600) > 0
_one_process = _page_cache_on and not _shared_cache
workers = _int("GUNICORN_WORKERS", 1 if _one_process else 2 * _cores() + 1)
threads = _int("GUNICORN_THREADS", 2 * _cores() + 1 if _one_process else 1)
if _one_process and workers > 1:
    raise SystemExit(
        f"GUNICORN_WORKERS={workers} needs a shared cache: set CACHE_URL=redis://… (or "
        "HUB_PAGE_CACHE_SECONDS=0), or each worker would serve its own stale copy of pages."
    )

# A request that takes longer than this is killed (and logged): pages answer in well under
# a second, an import of a large spreadsheet in a few.
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Longer than the proxy's idle timeout is pointless; shorter wastes TLS-proxy connections.
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Restart each worker now and then, so a slow leak in a library cannot grow. The jitter is
# half the limit: with a small one, all workers of a busy server reached it together and it
# answered nothing for ~16 s while they started again (bench/README.md). A lone process is
# not recycled: there would be no other worker to answer meanwhile.
max_requests = _int("GUNICORN_MAX_REQUESTS", 0 if workers == 1 else 1000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", max_requests // 2)

# Heartbeat files in memory, not on a container's overlay disk (which can stall workers).
if os.path.isdir("/dev/shm"):  # noqa: S108 (gunicorn creates private files there)
    worker_tmp_dir = "/dev/shm"  # noqa: S108

# Only the proxy that terminates TLS may set X-Forwarded-*; gunicorn's default is localhost.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

if _json_logs():
    # Gunicorn writes to its access logger whenever logconfig_dict is set, so that logger
    # is silenced here explicitly.
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "hub.logging.JsonFormatter"}},
        "handlers": {
            "stdout_json": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "json",
            }
        },
        "root": {"level": "INFO", "handlers": []},
        "loggers": {
            "gunicorn.error": {
                "level": loglevel.upper(),
                "handlers": ["stdout_json"],
                "propagate": False,
            },
            "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        },
    }
