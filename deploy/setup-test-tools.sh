#!/usr/bin/env bash
# Install the Debian packages the tests drive, if they are not there yet:
# - Chromium for the end-to-end browser test (tests/e2e): Playwright drives this Chromium, as
#   Playwright's own browser downloads are not available here. Without it tests/e2e is skipped, saying so.
# - nginx for the proxy tests (tests/deploy/test_nginx.py: docker-compose.yml's deploy/nginx.conf in
#   front of gunicorn). Installed only, never started as a service: the tests run their own.
# - GNU gettext for the catalogue test (tests/web/test_catalogues.py runs makemessages, which needs
#   xgettext and msgmerge). The site itself needs none: the compiled .mo files are committed.
# - A Chinese font (WenQuanYi Micro Hei), so that the browser tests lay out and screenshot Chinese pages
#   with real glyphs rather than boxes.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v xgettext >/dev/null 2>&1 && command -v msgmerge >/dev/null 2>&1 || missing+=(gettext)
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing+=(fonts-wqy-microhei)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "please install ${missing[*]} (Debian packages) to run the browser, proxy and catalogue tests" >&2
    exit 1
fi
echo "installing ${missing[*]} for the browser, proxy and catalogue tests (apt-get install)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q "${missing[@]}" >/dev/null \
    || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
