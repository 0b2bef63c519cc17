"""The translation catalogues (web/locale): complete, not fuzzy, the committed .mo the compiled .po, and
every string the code marks for translation in them.

The .mo is checked by content (Python's own gettext reads it), not by date: git keeps no dates. Finding
the marked strings needs GNU gettext's xgettext, as ``makemessages`` does: deploy/setup-test-tools.sh
installs it. The site itself needs no gettext: it reads the committed .mo.
"""

from __future__ import annotations

import ast
import gettext
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

LOCALES = Path(settings.LOCALE_PATHS[0])
CATALOGUES = sorted(LOCALES.glob("*/LC_MESSAGES/*.po"))
ROOT = Path(settings.BASE_DIR)
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[-#0 +]*\d*(?:\.\d+)?[sdifr%]")


def parse_po(path: Path) -> list[dict]:
    """The entries of a .po file: msgctxt, msgid, msgid_plural, msgstr (a list), flags, obsolete."""
    entries, entry, field = [], None, None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if entry and "msgid" in entry:
                entries.append(entry)
            entry, field = None, None
            continue
        entry = entry if entry is not None else {"flags": set(), "msgstr": {}, "obsolete": False}
        if line.startswith("#~"):
            entry["obsolete"] = True
            continue
        if line.startswith("#,"):
            entry["flags"] |= {f.strip() for f in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])? (".*")$', line)
        if match:
            name, index, text = match.groups()
            field = (name, int(index or 0))
            value = ast.literal_eval(text)
        else:
            value = ast.literal_eval(line)
        name, index = field
        if name == "msgstr":
            entry["msgstr"][index] = entry["msgstr"].get(index, "") + value
        else:
            entry[name] = entry.get(name, "") + value
    return entries


def key(entry: dict) -> str:
    # How the compiled catalogue names an entry: context, then \x04, then the id.
    return f"{entry['msgctxt']}\x04{entry['msgid']}" if "msgctxt" in entry else entry["msgid"]


@pytest.fixture(params=CATALOGUES, ids=lambda p: str(p.relative_to(LOCALES)))
def catalogue(request) -> Path:
    return request.param


def test_there_is_a_chinese_catalogue():
    assert LOCALES / "zh_Hans" / "LC_MESSAGES" / "django.po" in CATALOGUES


def test_every_entry_is_translated_and_none_is_fuzzy_or_obsolete(catalogue):
    entries = parse_po(catalogue)
    header = next(e for e in entries if e["msgid"] == "")
    assert "fuzzy" not in header["flags"], "the header is still fuzzy: msgfmt would skip the catalogue"
    problems = [e["msgid"] for e in entries if e["msgid"] and (
        "fuzzy" in e["flags"] or e["obsolete"] or not all(e["msgstr"].values()) or not e["msgstr"])]
    assert problems == [], f"untranslated, fuzzy or obsolete in {catalogue.name}: {problems}"


def test_translations_keep_every_placeholder_of_their_original(catalogue):
    wrong = []
    for entry in parse_po(catalogue):
        if not entry["msgid"]:
            continue
        original = sorted(PLACEHOLDER.findall(entry.get("msgid_plural") or entry["msgid"]))
        wrong += [entry["msgid"] for text in entry["msgstr"].values()
                  if sorted(PLACEHOLDER.findall(text)) != original]
    assert wrong == []


def test_the_committed_mo_is_the_po_compiled(catalogue):
    """A .po edited without compiling (or a stale .mo) fails here: run ``manage.py compilemessages``."""
    mo = catalogue.with_suffix(".mo")
    assert mo.is_file(), f"{mo.name} is missing: run manage.py compilemessages"
    with mo.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)._catalog
    expected = {}
    for entry in parse_po(catalogue):
        if "msgid_plural" in entry:
            for index, text in entry["msgstr"].items():
                expected[(key(entry), index)] = text
        elif entry["msgid"]:
            expected[key(entry)] = entry["msgstr"][0]
    compiled = {k: v for k, v in compiled.items() if k != ""}  # the header
    assert compiled == expected, "the .mo differs from the .po: run manage.py compilemessages"


def test_every_string_marked_in_the_code_is_in_the_catalogue(tmp_path, settings, monkeypatch):
    """makemessages, run on a copy of web/, finds no string the committed catalogue lacks (nor one it no
    longer needs): a new {% translate %} or gettext() comes with its translation."""
    assert shutil.which("xgettext") and shutil.which("msgmerge"), \
        "GNU gettext is not installed: run deploy/setup-test-tools.sh (deploy/test.sh does)"
    # A copy, because makemessages writes into whichever locale/ folder it finds beside the code.
    shutil.copytree(ROOT / "web", tmp_path / "web", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(tmp_path)
    settings.LOCALE_PATHS = [tmp_path / "web" / "locale"]
    call_command("makemessages", locale=["zh_Hans"], no_obsolete=True, add_location="file", verbosity=0)
    found = {key(e) for e in parse_po(tmp_path / "web/locale/zh_Hans/LC_MESSAGES/django.po") if e["msgid"]}
    committed = {key(e) for e in parse_po(LOCALES / "zh_Hans/LC_MESSAGES/django.po") if e["msgid"]}
    assert sorted(found - committed) == [], "marked in the code, missing from the catalogue"
    assert sorted(committed - found) == [], "in the catalogue, no longer in the code"
