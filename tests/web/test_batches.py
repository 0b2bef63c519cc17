"""Batches: several images sent at once, each checked on its own; one page and one status endpoint follow
them; exported like the history; nobody but their owner sees them (real PostgreSQL, real storage)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.web.helpers import csv_records, jpeg_bytes, png_bytes, uploaded
from web.uploads.models import Batch, Upload
from web.uploads.services import upload_finish, upload_start

pytestmark = pytest.mark.django_db

BATCHES = "/api/v1/batches/"


def files(*pairs: tuple[str, bytes]) -> dict:
    """A multipart form with one "image" part per (name, bytes), in order."""
    return {"image": [uploaded(data, name=name) for name, data in pairs]}


def finish(upload_id, text: str) -> None:
    upload_start(upload_id=upload_id)
    digits = [{"digit": int(c), "confidence": 0.9, "box": [0, 0, 1, 1], "line": 0, "uncertain": False}
              for c in text.replace(" ", "")]
    upload_finish(upload_id=upload_id, reading={"text": text, "lines": text.split(), "digits": digits},
                  timings={}, annotated_png=png_bytes(), thumbnail_jpeg=jpeg_bytes(),
                  screen_jpeg=jpeg_bytes(), model_version=None)


def stored_originals() -> list[Path]:
    return sorted(Path(settings.MEDIA_ROOT).glob("uploads/*/original.*"))


def make_batch(client, n: int = 2) -> dict:
    response = client.post(BATCHES, files(*[(f"page-{i}.png", png_bytes()) for i in range(n)]))
    assert response.status_code == 202, response.content
    return response.json()


def test_a_batch_keeps_the_good_files_and_says_why_each_bad_one_was_refused(client):
    response = client.post(BATCHES, files(("one.png", png_bytes()), ("notes.txt", b"not an image at all"),
                                          ("empty.png", b""), ("two.jpg", jpeg_bytes())))
    assert response.status_code == 202, response.content
    answer = response.json()
    items = answer["items"]
    assert [i["name"] for i in items] == ["one.png", "notes.txt", "empty.png", "two.jpg"]
    assert [i.get("error", {}).get("code") for i in items] == [None, "unsupported_type", "empty", None]
    assert "JPEG and PNG" in items[1]["error"]["message"]
    assert items[0]["status"] == "queued"
    assert items[0]["url"].endswith(f"/api/v1/recognitions/{items[0]['id']}/")
    batch = Batch.objects.get()
    assert answer["id"] == str(batch.id) and answer["page_url"] == f"http://testserver/b/{batch.id}/"
    assert sorted(str(u.id) for u in batch.uploads.all()) == sorted([items[0]["id"], items[3]["id"]])
    assert {u.source for u in batch.uploads.all()} == {"api"}
    # Only the two good files reached storage: nothing of a refused file is kept.
    assert len(stored_originals()) == 2 and Upload.objects.count() == 2


def test_a_batch_of_only_bad_files_makes_nothing_and_answers_each_error(client):
    response = client.post(BATCHES, files(("a.gif", b"GIF89a" + b"\0" * 40), ("b.png", b"")))
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["code"] == "unsupported_type"
    assert [i["error"]["code"] for i in body["items"]] == ["unsupported_type", "empty"]
    assert Batch.objects.count() == 0 and Upload.objects.count() == 0 and stored_originals() == []
    nothing = client.post(BATCHES, {})
    assert nothing.status_code == 400 and nothing.json()["error"]["code"] == "empty"


def test_the_batch_endpoint_follows_every_item_until_all_are_read(client):
    sent = make_batch(client, 3)
    data = client.get(sent["url"]).json()
    assert data["status"] == "running" and (data["count"], data["finished"]) == (3, 0)
    assert [i["id"] for i in data["items"]] == [i["id"] for i in sent["items"]]  # in the order sent
    assert data["export_csv_url"].endswith(f"/b/{sent['id']}/export.csv")
    for item, text in zip(sent["items"], ["12", "345", "6"]):
        finish(item["id"], text)
    data = client.get(sent["url"]).json()
    assert data["status"] == "done" and data["finished"] == 3
    assert [i["text"] for i in data["items"]] == ["12", "345", "6"]
    first = data["items"][0]
    assert first["screen_image_url"].endswith("/screen.image") and first["thumbnail_url"]
    listed = client.get(BATCHES).json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == sent["id"]
    assert listed["results"][0]["finished"] == 3


def test_images_are_added_to_a_batch_one_request_at_a_time(client, bob_client):
    sent = make_batch(client, 1)
    more = client.post(sent["url"], files(("more.png", png_bytes())))
    assert more.status_code == 202 and more.json()["id"] == sent["id"]
    refused = client.post(sent["url"], files(("bad.png", b"\x89PNG\r\n\x1a\nbroken")))
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "corrupt_image"
    assert client.get(sent["url"]).json()["count"] == 2
    # Someone else cannot add to it (or learn that it exists).
    assert bob_client.post(sent["url"], files(("x.png", png_bytes()))).status_code == 404
    assert Batch.objects.get().uploads.count() == 2


def test_a_batch_counts_each_image_against_the_upload_rate(client):
    rate = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["uploads"].split("/")[0])
    png = png_bytes()
    response = client.post(BATCHES, files(*[(f"{i}.png", png) for i in range(rate + 2)]))
    assert response.status_code == 202
    codes = [i.get("error", {}).get("code") for i in response.json()["items"]]
    assert codes == [None] * rate + ["throttled", "throttled"]
    assert "wait" in response.json()["items"][-1]["error"]["message"]
    over = client.post(BATCHES, files(("late.png", png)))
    assert over.status_code == 429 and over.json()["error"]["code"] == "throttled"
    assert 1 <= int(over["Retry-After"]) <= 60
    assert Upload.objects.count() == rate  # nothing over the rate was stored


def test_nobody_else_sees_a_batch_its_page_or_its_exports(client, bob_client):
    sent = make_batch(client)
    page, api = f"/b/{sent['id']}/", f"{BATCHES}{sent['id']}/"
    assert client.get(page).status_code == 200
    for other in (bob_client, Client()):
        for path in (page, api, page + "export.csv", page + "export.json"):
            assert other.get(path).status_code == 404, path
        assert other.get(BATCHES).json()["count"] == 0
        assert f"/b/{sent['id']}/" not in other.get("/history/").content.decode()
    assert client.get("/b/not-a-uuid/").status_code == 404


def test_a_batch_exports_its_readings_in_the_order_sent(client):
    sent = make_batch(client, 2)
    other = make_batch(client, 1)  # another batch of the same person: not in this export
    finish(sent["items"][0]["id"], "2026")
    client.post(f"/api/v1/recognitions/{sent['items'][0]['id']}/feedback/", {"text": "2027"},
                content_type="application/json")
    response = client.get(f"/b/{sent['id']}/export.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert f"digitscan-batch-{sent['id']}.csv" in response["Content-Disposition"]
    rows = csv_records(response)
    assert [r["id"] for r in rows] == [i["id"] for i in sent["items"]]
    assert rows[0]["text"] == "2026" and rows[0]["corrected"] == "2027" and rows[0]["status"] == "done"
    assert rows[1]["status"] == "queued" and {r["batch"] for r in rows} == {sent["id"]}
    data = json.loads(b"".join(client.get(f"/b/{sent['id']}/export.json").streaming_content))
    assert data["batch"] == sent["id"] and [u["id"] for u in data["uploads"]] == [r["id"] for r in rows]
    assert other["items"][0]["id"] not in {u["id"] for u in data["uploads"]}
    history = csv_records(client.get("/history/export.csv"))
    assert {r["batch"] for r in history} == {sent["id"], other["id"]}


def test_the_batch_page_lists_each_image_with_its_state_and_the_history_links_it(client):
    sent = make_batch(client, 2)
    finish(sent["items"][0]["id"], "42")
    html = client.get(f"/b/{sent['id']}/").content.decode()
    assert "1 of 2 read" in html and 'id="batch-status"' in html
    assert f'href="/r/{sent["items"][0]["id"]}/"' not in html  # absolute links, as the API's
    assert f'http://testserver/r/{sent["items"][1]["id"]}/' in html
    assert "/screen.image 1600w" in html and "export.csv" in html and "Waiting in the queue" in html
    history = client.get("/history/").content.decode()
    assert f'href="/b/{sent["id"]}/"' in history and "2 images" in history
    # Corrected, the page shows the corrected reading.
    client.post(f"/api/v1/recognitions/{sent['items'][0]['id']}/feedback/", {"text": "47"},
                content_type="application/json")
    assert '<span class="text">47</span>' in client.get(f"/b/{sent['id']}/").content.decode()


def test_the_upload_page_takes_several_files_and_offers_the_camera_beside_the_gallery(client):
    html = client.get("/").content.decode()
    picker = re.search(r'<input type="file" name="image" id="image"[^>]*>', html).group(0)
    camera = re.search(r'<input type="file" name="image" id="camera"[^>]*>', html).group(0)
    assert "multiple" in picker and "capture" not in picker  # the gallery and files stay one tap away
    assert 'capture="environment"' in camera and 'accept="image/*"' in camera
    limits = re.search(r'data-max-bytes="(\d+)" data-max-pixels="(\d+)"\s+data-shrink-side="(\d+)"', html)
    assert limits.groups() == (str(settings.DIGITSCAN_MAX_UPLOAD_BYTES), str(settings.DIGITSCAN_MAX_PIXELS),
                               "3000")
    assert 'id="upload-strings"' in html and "sending again in" in html


def test_several_files_sent_by_the_form_without_script_make_a_batch(client):
    response = client.post("/", files(("a.png", png_bytes()), ("b.txt", b"hello"), ("c.png", png_bytes())))
    batch = Batch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/b/{batch.id}/"
    assert batch.uploads.count() == 2 and {u.source for u in batch.uploads.all()} == {"upload"}
    page = client.get(response["Location"]).content.decode()
    assert "b.txt: only JPEG and PNG images are accepted" in page  # the refused file, by name
    refused = client.post("/", files(("x.txt", b"a"), ("y.txt", b"b")))
    assert refused.status_code == 400 and "x.txt:" in refused.content.decode()
    assert Batch.objects.count() == 1


def test_a_visitors_batches_become_theirs_when_they_sign_up(client):
    sent = make_batch(client)
    response = client.post("/accounts/signup/", {"username": "erin", "password1": "a-long-password-9",
                                                 "password2": "a-long-password-9"})
    assert response.status_code == 302
    batch = Batch.objects.get(id=sent["id"])
    assert batch.owner.username == "erin" and batch.session_key == ""
    assert client.get(f"/b/{sent['id']}/").status_code == 200


def test_the_schema_documents_the_batch_endpoints_and_every_field_they_answer(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths, components = schema["paths"], schema["components"]["schemas"]
    created = paths[BATCHES]["post"]
    assert set(created["responses"]) >= {"202", "400", "413", "429"}
    image = components[created["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
                       .split("/")[-1]]["properties"]["image"]
    assert image["type"] == "array" and image["items"]["format"] == "binary"
    detail = paths[BATCHES + "{batch_id}/"]
    assert set(detail) >= {"get", "post"}
    documented = set(components["Batch"]["properties"])
    sent = make_batch(client, 1)
    assert set(client.get(sent["url"]).json()) == documented
    item = set(components["BatchItem"]["properties"])
    assert set(sent["items"][0]) <= item and "error" in item


def test_a_new_batch_takes_in_the_callers_own_upload_sent_alone_before(client, bob_client):
    """The upload page sends the first of several files alone and makes the batch with the second: one
    good file among refused ones is no one-image batch."""
    alone = client.post("/api/v1/recognitions/", {"image": uploaded(png_bytes(), name="first.png")}).json()
    refused = client.post(BATCHES, {**files(("bad.txt", b"not an image")), "upload": [alone["id"]]})
    assert refused.status_code == 400 and not Batch.objects.exists()
    assert Upload.objects.get(id=alone["id"]).batch_id is None  # left as it was
    theirs = bob_client.post("/api/v1/recognitions/", {"image": uploaded(png_bytes())}).json()
    stolen = client.post(BATCHES, {**files(("b.png", png_bytes())), "upload": [theirs["id"]]})
    assert stolen.status_code == 400 and stolen.json()["error"]["code"] == "bad_upload"
    assert Upload.objects.get(id=theirs["id"]).batch_id is None and Upload.objects.count() == 2
    made = client.post(BATCHES, {**files(("second.png", png_bytes())), "upload": [alone["id"]]})
    assert made.status_code == 202, made.content
    batch = client.get(made.json()["url"]).json()
    assert [i["name"] for i in batch["items"]] == ["first.png", "second.png"] and batch["count"] == 2
    # An upload already in a batch cannot be taken into another.
    again = client.post(BATCHES, {**files(("third.png", png_bytes())), "upload": [alone["id"]]})
    assert again.status_code == 400 and again.json()["error"]["code"] == "bad_upload"


def test_a_blank_drawing_is_refused_with_draw_first(client):
    import cv2
    import numpy as np

    blank = cv2.imencode(".png", np.full((240, 600, 3), 255, np.uint8))[1].tobytes()
    response = client.post("/api/v1/recognitions/", {"image": uploaded(blank, "drawing.png"),
                                                      "source": "canvas"})
    assert response.status_code == 400
    assert response.json()["error"] == {"code": "blank_image", "message": "the drawing is empty: draw some "
                                        "digits first"}
    photo = client.post("/api/v1/recognitions/", {"image": uploaded(blank, "white.png")})
    assert "one colour throughout" in photo.json()["error"]["message"]  # a photo: why, in full
