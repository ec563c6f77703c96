#!/bin/sh
# Debian's pgbouncer for the transaction-pooling tests (tests/gateway/test_pgbouncer.py):
# the tests start their own pgbouncer process; the packaged service stays off.
set -eu
if ! command -v pgbouncer >/dev/null 2>&1 && [ ! -x /usr/sbin/pgbouncer ]; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends pgbouncer
fi
