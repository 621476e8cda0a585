#!/usr/bin/env bash
# The system programs the tests and bench/ need beyond Python and npm: Debian's `chromium`
# (/usr/bin/chromium, for the browser tests) and `wrk` (/usr/bin/wrk, for bench/run.py).
#
# Run by `make test`, `make bench` and .ci/run. As root with apt-get it installs whichever is
# missing; otherwise it changes nothing and says nothing: the test run then names what is
# missing once, at its end (tests/conftest.py), and bench/run.py refuses to start without wrk.
# Exits 0 unless an installation it attempted failed.
set -euo pipefail

# The paths and the apt-get command can be replaced (tests/test_test_tools.py does).
CHROMIUM="${HUB_CHROMIUM:-/usr/bin/chromium}"
WRK="${HUB_WRK:-/usr/bin/wrk}"
APT_GET="${HUB_APT_GET:-apt-get}"

missing=()
[ -x "$CHROMIUM" ] || missing+=(chromium)
[ -x "$WRK" ] || missing+=(wrk)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v "$APT_GET" >/dev/null 2>&1; then
    exit 0
fi

echo "Installing Debian's ${missing[*]} for the browser tests and bench/"
export DEBIAN_FRONTEND=noninteractive
"$APT_GET" update -qq
"$APT_GET" install -y -qq --no-install-recommends "${missing[@]}"
