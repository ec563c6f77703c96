#!/bin/sh
# Debian's dovecot for the IMAP poller tests (tests/channels/email/test_imap.py).
set -eu
if ! command -v dovecot >/dev/null 2>&1; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends dovecot-imapd
fi
