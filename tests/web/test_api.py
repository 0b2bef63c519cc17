"""The JSON API of DESIGN.md: create (202), status, own history, feedback, errors, the schema."""

from __future__ import annotations

import pytest

from tests.web.helpers import jpeg_bytes, png_bytes, uploaded
from web.uploads.models import Upload
from web.uploads.services import upload_finish, upload_start

pytestmark = pytest.mark.django_db

API = "/api/v1/recognitions/"


def post_image(client, data: bytes, name: str = "d.png"):
    return client.post(API, {"image": uploaded(data, name)})


def test_create_answers_202_with_id_status_and_url(client):
    response = post_image(client, png_bytes())
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued"
    assert body["url"] == f"http://testserver{API}{body['id']}/"
    assert Upload.objects.get().source == "api"


@pytest.mark.parametrize("data, name, code", [
    (b"", "e.png", "empty"),
    (b"GIF89a....", "x.png", "unsupported_type"),
    (png_bytes()[:100], "t.png", "corrupt_image"),
    (png_bytes() + b"\0" * (2 * 1024 * 1024), "big.png", "too_large"),
])
def test_bad_input_is_a_400_with_the_error_shape(client, data, name, code):
    response = post_image(client, data, name)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code and response.json()["error"]["message"]
    assert Upload.objects.count() == 0


def test_no_file_at_all_is_empty(client):
    response = client.post(API, {})
    assert response.status_code == 400 and response.json()["error"]["code"] == "empty"


def test_too_many_pixels_is_a_400(client, settings):
    settings.DIGITSCAN_MAX_PIXELS = 1000
    assert post_image(client, jpeg_bytes()).json()["error"]["code"] == "too_many_pixels"


def test_status_shows_the_reading_once_done(client, png):
    upload_id = post_image(client, png).json()["id"]
    upload_start(upload_id=upload_id)
    reading = {"text": "7", "lines": ["7"], "digits": [
        {"digit": 7, "confidence": 0.5, "box": [1, 2, 3, 4], "line": 0, "uncertain": True}]}
    upload_finish(upload_id=upload_id, reading=reading, timings={}, annotated_png=png, model_version=None)
    body = client.get(f"{API}{upload_id}/").json()
    assert body["status"] == "done" and body["text"] == "7" and body["lines"] == ["7"]
    assert body["digits"][0]["uncertain"] is True and body["error"] is None
    assert body["annotated_image_url"].endswith(f"/r/{upload_id}/annotated.image")
    assert body["created"] and body["finished"]
    assert body["display"] == ["7"] and body["separators"] == []  # a reading stored without them


def test_a_reading_with_separators_shows_each_line_as_written(client, png):
    upload_id = post_image(client, png).json()["id"]
    upload_start(upload_id=upload_id)
    digits = [{"digit": d, "confidence": 0.99, "box": [10 * k, 2, 8, 20], "line": 0, "uncertain": False}
              for k, d in enumerate([1, 5, 0, 0])]
    reading = {"text": "1500", "lines": ["1500"], "display": ["1.500"], "digits": digits,
               "separators": [{"char": ".", "box": [9, 18, 2, 2], "line": 0}]}
    upload_finish(upload_id=upload_id, reading=reading, timings={}, annotated_png=png, model_version=None)
    body = client.get(f"{API}{upload_id}/").json()
    assert body["text"] == "1500" and body["display"] == ["1.500"]
    assert body["separators"] == [{"char": ".", "box": [9, 18, 2, 2], "line": 0}]
    page = client.get(body["page_url"]).content.decode()
    assert ">1.500</li>" in page


def test_history_lists_only_the_callers_uploads_newest_first(alice_client, bob_client, png):
    first = post_image(alice_client, png).json()["id"]
    second = post_image(alice_client, png).json()["id"]
    post_image(bob_client, png)
    body = alice_client.get(API).json()
    assert body["count"] == 2 and [r["id"] for r in body["results"]] == [second, first]


def test_an_anonymous_caller_keeps_its_uploads_through_its_session_cookie(client, png):
    upload_id = post_image(client, png).json()["id"]
    assert client.get(f"{API}{upload_id}/").status_code == 200
    assert client.get(API).json()["count"] == 1


def test_feedback_is_201_and_bad_feedback_400(alice_client, png):
    upload_id = post_image(alice_client, png).json()["id"]
    early = alice_client.post(f"{API}{upload_id}/feedback/", {"text": "12 3"},
                              content_type="application/json")
    assert early.status_code == 400 and early.json()["error"]["code"] == "not_done"
    upload_start(upload_id=upload_id)
    upload_finish(upload_id=upload_id, reading={"text": "", "lines": [], "digits": []}, timings={},
                  annotated_png=png, model_version=None)
    response = alice_client.post(f"{API}{upload_id}/feedback/", {"text": "12 3"},
                                 content_type="application/json")
    assert response.status_code == 201 and response.json()["text"] == "12 3"
    bad = alice_client.post(f"{API}{upload_id}/feedback/", {"text": "abc"}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_feedback"
    missing = alice_client.post(f"{API}{upload_id}/feedback/", {}, content_type="application/json")
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "invalid"


def test_unknown_ids_are_404_in_the_error_shape(client):
    response = client.get(f"{API}00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_the_openapi_schema_describes_the_endpoints(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {API, API + "{upload_id}/", API + "{upload_id}/feedback/"} <= set(paths)


def test_the_schema_documents_every_field_the_status_endpoint_answers(client, png):
    upload_id = post_image(client, png).json()["id"]
    answered = set(client.get(f"{API}{upload_id}/").json())
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    documented = set(schema["components"]["schemas"]["Recognition"]["properties"])
    assert answered == documented


def test_the_interactive_api_docs_are_served_offline(client):
    import re

    html = client.get("/api/docs/").content.decode()
    assert "swagger" in html.lower() and "/api/schema/" in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and not [s for s in sources if s.startswith(("http:", "https:", "//"))], sources
    for path in [s for s in sources if s.startswith("/static/")]:
        response = client.get(path)
        assert response.status_code == 200, path


def test_the_schema_says_the_list_is_paginated_and_digits_have_alternatives(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    listed = schema["paths"][API]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    page = schema["components"]["schemas"][listed["$ref"].split("/")[-1]]
    assert {"count", "next", "previous", "results"} <= set(page["properties"])
    digit = schema["components"]["schemas"]["Digit"]["properties"]
    assert "alternatives" in digit
    created = schema["paths"][API]["post"]["responses"]
    assert {"202", "400", "413", "429"} <= set(created)
    error = created["429"]["content"]["application/json"]["schema"]
    assert error["$ref"].endswith("/Error")


def test_the_schema_validates_without_warnings():
    import subprocess
    import sys

    from tests.worker.processes import ROOT, child_env

    result = subprocess.run([sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env=child_env(DJANGO_SETTINGS_MODULE="web.settings"))
    assert result.returncode == 0, result.stderr
