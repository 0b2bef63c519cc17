"""The name a person gave each file is kept (made safe) and shown wherever its reading is: the result page,
the batch page, the history, the exports and the API, so that a batch's readings can be matched to the
files. It is only ever shown: the file is stored under a name of our own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings

from tests.web.helpers import csv_records, png_bytes, uploaded
from web.uploads.filenames import NAME_LENGTH
from web.uploads.models import Upload
from web.uploads.services import upload_finish, upload_start

pytestmark = pytest.mark.django_db

TRICKY = "..\\..\\etc/学生证   0869\u202egnp.exe.png"  # a path, spaces, a direction override, Chinese


def finish(upload_id, text: str) -> None:
    upload_start(upload_id=upload_id)
    digits = [{"digit": int(c), "confidence": 0.9, "box": [4 * i, 0, 3, 3], "line": 0, "uncertain": False}
              for i, c in enumerate(text)]
    upload_finish(upload_id=upload_id, reading={"text": text, "lines": [text], "digits": digits},
                  timings={}, annotated_png=png_bytes(), model_version=None)


def test_a_batchs_file_names_are_kept_safe_and_shown_on_every_page_and_export(client):
    sent = client.post("/api/v1/batches/", {"image": [
        uploaded(png_bytes(), name="IMG_0001.png"), uploaded(png_bytes(), name=TRICKY)]}).json()
    first, second = (item["id"] for item in sent["items"])
    safe = "学生证 0869gnp.exe.png"
    assert [item["name"] for item in sent["items"]] == ["IMG_0001.png", safe]
    assert list(Upload.objects.order_by("queued_at").values_list("name", flat=True)) == ["IMG_0001.png", safe]
    # Stored under names of our own, whatever the person called the file.
    stored = sorted(p.relative_to(settings.MEDIA_ROOT) for p in Path(settings.MEDIA_ROOT).rglob("original.*"))
    assert stored == sorted(Path("uploads") / i / "original.png" for i in (first, second))
    finish(first, "0869")

    assert client.get(f"/api/v1/recognitions/{second}/").json()["name"] == safe
    assert [i["name"] for i in client.get(sent["url"]).json()["items"]] == ["IMG_0001.png", safe]
    assert "IMG_0001.png" in client.get(f"/r/{first}/").content.decode()
    batch_page = client.get(f"/b/{sent['id']}/").content.decode()
    assert all(f'<span class="name">{name}</span>' in batch_page for name in ("IMG_0001.png", safe))
    assert "IMG_0001.png" in client.get("/history/").content.decode()
    rows = csv_records(client.get(f"/b/{sent['id']}/export.csv"))
    assert [(r["name"], r["text"]) for r in rows] == [("IMG_0001.png", "0869"), (safe, "")]
    exported = json.loads(b"".join(client.get("/history/export.json").streaming_content))
    assert {u["name"] for u in exported["uploads"]} == {"IMG_0001.png", safe}


def test_a_long_name_is_cut_in_the_middle_keeping_its_extension(client):
    long = "scan-" + "九" * 300 + ".jpeg"
    upload_id = client.post("/api/v1/recognitions/", {"image": uploaded(png_bytes(), name=long)}).json()["id"]
    name = Upload.objects.get(id=upload_id).name
    assert len(name) == NAME_LENGTH and name.startswith("scan-九") and name.endswith("….jpeg")


def test_a_name_is_escaped_on_the_pages(client):
    name = "<img src=x onerror=alert(1)>.png"
    response = client.post("/", {"image": uploaded(png_bytes(), name=name), "source": "upload"})
    upload_id = response.url.split("/")[2]
    assert Upload.objects.get(id=upload_id).name == name
    for page in (client.get(f"/r/{upload_id}/"), client.get("/history/")):
        html = page.content.decode()
        assert "&lt;img src=x onerror=alert(1)&gt;.png" in html and "<img src=x" not in html
