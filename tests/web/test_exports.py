"""A visitor's history as CSV and JSON: their own readings only, with what was read and corrected."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from django.test import Client

from tests.web.helpers import csv_records, png_bytes, uploaded
from web.uploads.services import upload_finish, upload_start

pytestmark = pytest.mark.django_db

API = "/api/v1/recognitions/"


def read_as(client, text: str) -> str:
    upload_id = client.post(API, {"image": uploaded(png_bytes())}).json()["id"]
    upload_start(upload_id=upload_id)
    digits = [{"digit": int(c), "confidence": 0.5 if i == 0 and n == 0 else 0.99, "box": [i, n, 1, 1],
               "line": n, "uncertain": i == 0 and n == 0}
              for n, line in enumerate(text.split()) for i, c in enumerate(line)]
    display = ["1.500,00"] if text == "150000" else text.split()
    upload_finish(upload_id=upload_id, reading={"text": text, "lines": text.split(), "digits": digits,
                                                "display": display},
                  timings={}, annotated_png=png_bytes(), model_version=None)
    return upload_id


def csv_rows(response) -> list[dict]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return csv_records(response)


def test_the_csv_holds_the_visitors_own_readings_newest_first(alice_client, bob_client):
    first, second = read_as(alice_client, "150000"), read_as(alice_client, "72 1")
    theirs = read_as(bob_client, "999")
    alice_client.post(f"{API}{second}/feedback/", {"text": "73 1"}, content_type="application/json")
    rows = csv_rows(alice_client.get("/history/export.csv"))
    assert [r["id"] for r in rows] == [second, first] and theirs not in {r["id"] for r in rows}
    newest, oldest = rows
    assert newest["text"] == "72 1" and newest["corrected"] == "73 1" and newest["status"] == "done"
    assert oldest["lines_as_written"] == "1.500,00" and oldest["digits"] == "6" and oldest["uncertain"] == "1"
    assert newest["result_url"] == f"http://testserver/r/{second}/"
    assert [r["id"] for r in csv_rows(bob_client.get("/history/export.csv"))] == [theirs]


def test_an_anonymous_visitor_exports_their_session_and_nobody_else_gets_anything(bob_client):
    anonymous = Client()
    mine = read_as(anonymous, "42")
    read_as(bob_client, "7")
    assert [r["id"] for r in csv_rows(anonymous.get("/history/export.csv"))] == [mine]
    assert csv_rows(Client().get("/history/export.csv")) == []  # a stranger: the header only


def test_the_json_export_matches_the_csv(alice_client):
    upload_id = read_as(alice_client, "2026")
    response = alice_client.get("/history/export.json")
    data = json.loads(b"".join(response.streaming_content))
    assert response["Content-Type"] == "application/json"
    assert [u["id"] for u in data["uploads"]] == [upload_id]
    assert data["uploads"][0]["text"] == "2026" and data["uploads"][0]["mean_confidence"] == 0.8675


def test_the_history_page_links_both_exports(alice_client):
    html = alice_client.get("/history/").content.decode()
    assert 'href="/history/export.csv"' in html and 'href="/history/export.json"' in html


def test_the_csv_opens_right_in_a_spreadsheet_and_stays_plain_for_programs(alice_client):
    """A byte-order mark (else Excel reads UTF-8 in the legacy code page), digit strings that Excel would
    turn into numbers kept as text by a leading tab, and UTC times that say they are UTC."""
    read_as(alice_client, "0869 20261125123456")
    body = b"".join(alice_client.get("/history/export.csv").streaming_content)
    assert body.startswith(b"\xef\xbb\xbfid,name,uploaded_utc,")
    raw = next(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert raw["text"] == "\t0869 20261125123456" and raw["lines_as_written"] == "\t0869 | 20261125123456"
    assert raw["digits"] == "18" and raw["id"][0] != "\t"  # numbers and ids as they are
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", raw["uploaded_utc"])
    # A program gets the digits back with a strip, or as they are: Python's int() ignores the tab.
    assert [int(part) for part in raw["text"].split()] == [869, 20261125123456]
    assert csv_records(alice_client.get("/history/export.csv"))[0]["text"] == "0869 20261125123456"
