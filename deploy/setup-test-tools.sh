#!/usr/bin/env bash
# Install the Debian packages the tests drive, if they are not there yet:
# - Chromium for the end-to-end browser test (tests/e2e): Playwright drives this Chromium, as
#   Playwright's own browser downloads are not available here. Without it tests/e2e is skipped, saying so.
# - nginx for the proxy tests (tests/deploy/test_nginx.py: docker-compose.yml's deploy/nginx.conf in
#   front of gunicorn). Installed only, never started as a service: the tests run their own.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "please install ${missing[*]} (Debian packages) to run the browser and proxy tests" >&2
    exit 1
fi
echo "installing ${missing[*]} for the browser and proxy tests (apt-get install)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q "${missing[@]}" >/dev/null \
    || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
