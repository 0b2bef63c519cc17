"""Nobody sees another person's uploads: every page, API endpoint and file URL answers 404."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.web.helpers import uploaded
from web.uploads.models import Upload
from web.uploads.owners import Owner
from web.uploads.services import upload_create, upload_finish, upload_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def alices_upload(alice, png) -> Upload:
    upload = upload_create(owner=Owner(user=alice), image_file=uploaded(png), source="upload")
    upload_start(upload_id=upload.id)
    return upload_finish(upload_id=upload.id, reading={"text": "1", "lines": ["1"], "digits": []}, timings={},
                         annotated_png=png, thumbnail_jpeg=png, model_version=None)


def urls(upload: Upload) -> list[tuple[str, str]]:
    return [
        ("get", f"/r/{upload.id}/"),
        ("get", f"/r/{upload.id}/original.image"),
        ("get", f"/r/{upload.id}/annotated.image"),
        ("get", f"/r/{upload.id}/thumbnail.image"),
        ("post", f"/r/{upload.id}/feedback/"),
        ("get", f"/api/v1/recognitions/{upload.id}/"),
        ("post", f"/api/v1/recognitions/{upload.id}/feedback/"),
    ]


def test_the_owner_can_open_everything(alice_client, alices_upload):
    for n, (method, url) in enumerate(urls(alices_upload)):
        data = {"text": str(n)} if method == "post" else None  # each correction a new one
        response = getattr(alice_client, method)(url, data)
        assert response.status_code in (200, 201, 302), (url, response.status_code)


@pytest.mark.parametrize("who", ["another user", "an anonymous visitor",
                                 "an anonymous visitor with a session"])
def test_everyone_else_gets_404_everywhere(who, bob_client, alices_upload, png):
    client = bob_client if who == "another user" else Client()
    if who == "an anonymous visitor with a session":
        client.post("/", {"image": uploaded(png), "source": "upload"})
    for method, url in urls(alices_upload):
        data = {"text": "1"} if method == "post" else None
        response = getattr(client, method)(url, data)
        assert response.status_code == 404, (who, url, response.status_code)
    assert str(alices_upload.id) not in client.get("/history/").content.decode()
    own = 1 if who.endswith("with a session") else 0
    assert client.get("/api/v1/recognitions/").json()["count"] == own
    assert alices_upload.feedback.count() == 0


def test_files_are_not_served_from_a_public_media_url(client, alices_upload):
    assert client.get("/media/" + alices_upload.image.name).status_code == 404


def test_a_file_kind_that_does_not_exist_is_404(alice_client, alices_upload):
    assert alice_client.get(f"/r/{alices_upload.id}/secret.image").status_code == 404
