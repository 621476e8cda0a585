#!/usr/bin/env bash
# A made-up session cookie against the page cache (issue #16): wrk on /healthz (baseline),
# on a cached page without a cookie, and on the same page with a cookie that names no session.
# usage: DATABASE_URL=postgres://…/db CACHE_URL=redis://127.0.0.1:6379/13 bench/session_cookie.sh [port]
# (the Redis database is flushed first; the database needs published resources.)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
port="${1:-18732}"
export DJANGO_DEBUG=false DJANGO_SECRET_KEY=bench-secret-key-bench-secret-key-xx \
    DJANGO_ALLOWED_HOSTS=127.0.0.1 DJANGO_SECURE_SSL_REDIRECT=false GUNICORN_WORKERS=2 \
    GUNICORN_BIND="127.0.0.1:$port" DJANGO_LOG_LEVEL=WARNING GUNICORN_MAX_REQUESTS=0
redis-cli -u "$CACHE_URL" flushdb >/dev/null
.venv/bin/gunicorn -c gunicorn.conf.py hub.wsgi >"/tmp/session-cookie-bench-$port.log" 2>&1 &
pid=$!
trap 'kill $pid' EXIT
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.5; done
url="http://127.0.0.1:$port/en/resources/"
curl -s -o /dev/null "$url"
cookie="Cookie: __Host-sessionid=abcdefghijklmnopqrstuvwxyz012345"
for label in healthz no-cookie made-up-cookie; do
    case $label in
        healthz) args=("http://127.0.0.1:$port/healthz") ;;
        no-cookie) args=("$url") ;;
        made-up-cookie) args=(-H "$cookie" "$url") ;;
    esac
    printf '%-15s ' "$label"
    wrk -t1 -c4 -d6s "${args[@]}" | grep -E "Requests/sec|Latency" | tr -s ' ' | tr '\n' ' '
    echo
done
