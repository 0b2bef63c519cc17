#!/usr/bin/env bash
# Install Debian's Chromium for the end-to-end browser test (tests/e2e), if it is not there yet:
# Playwright drives this Chromium, as Playwright's own browser downloads are not available here.
# Without it tests/e2e is skipped, saying so.
set -euo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "please install Chromium (Debian package: chromium) to run tests/e2e" >&2
    exit 1
fi
echo "installing Chromium for the browser test (apt-get install chromium)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q chromium >/dev/null \
    || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
