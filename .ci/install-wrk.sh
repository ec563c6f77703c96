#!/bin/sh
# Debian's wrk: the load generator of the ingest benchmark (bench/ingest.py --driver wrk,
# bench/wrk/*.lua). No test needs it; bench/run_all.py falls back to its Python client
# without it and says so in the row.
set -eu
if ! command -v wrk >/dev/null 2>&1; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk
fi
