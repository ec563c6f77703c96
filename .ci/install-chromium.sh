#!/bin/sh
# Debian's chromium for the widget's browser tests (playwright drives it through
# executable_path; `playwright install` is never used).
set -eu
if [ ! -x /usr/bin/chromium ]; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium
fi
