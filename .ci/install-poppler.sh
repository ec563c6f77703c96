#!/bin/sh
# Debian's poppler-utils: pdftoppm renders the export pack's transcript PDF in
# tests/gateway/cases/test_export.py; fonts-dejavu-core gives the PDF its Unicode font.
set -eu
if ! command -v pdftoppm >/dev/null 2>&1 || [ ! -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends poppler-utils fonts-dejavu-core
fi
