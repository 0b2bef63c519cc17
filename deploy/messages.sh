#!/usr/bin/env bash
# Refresh the translation catalogues from the code, then compile them (docs/web.md, "Languages"):
# makemessages adds every string newly marked for translation to web/locale/zh_Hans/LC_MESSAGES/django.po
# (empty, to be translated there) and drops those no longer used; compilemessages writes the .mo beside
# it. Commit both. Needs GNU gettext (xgettext, msgmerge, msgfmt: deploy/setup-test-tools.sh installs it);
# the site itself does not, it reads the committed .mo. tests/web/test_catalogues.py fails until every
# entry is translated and the .mo is the compiled .po.
set -euo pipefail
cd "$(dirname "$0")/.."
python=.venv/bin/python
# Only web/ says anything to a person: ml/ and worker/ write logs and reports, not pages.
"$python" manage.py makemessages -l zh_Hans --no-obsolete --add-location file \
    -i ".venv/*" -i "var/*" -i "tests/*" -i "docs/*" -i "deploy/*" -i "ml/*" -i "worker/*"
"$python" manage.py compilemessages -l zh_Hans --ignore ".venv" --ignore "var"
echo "now translate any empty msgstr in web/locale/zh_Hans/LC_MESSAGES/django.po, run this again, and run" \
     "tests/web/test_catalogues.py"
