"""Nobody but staff sees another person's uploads: every page, API endpoint and file URL answers 404;
staff may look at any upload and its images (DESIGN.md), but correcting and deleting stay the owner's."""

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


@pytest.fixture
def staff_client(django_user_model):
    staff = Client()
    staff.force_login(django_user_model.objects.create_user("sam", password="s-long-password-3",
                                                            is_staff=True))
    return staff


def test_staff_may_look_at_anyones_upload_and_its_images_but_not_change_it(staff_client, alices_upload):
    page = staff_client.get(f"/r/{alices_upload.id}/")
    assert page.status_code == 200
    html = page.content.decode()
    # Seen as it is, without the owner's editor, correction form or delete button.
    assert 'id="staff-view"' in html and 'id="overlay"' not in html and 'id="text-form"' not in html
    assert "upload-delete" not in html and f"/r/{alices_upload.id}/delete/" not in html
    for kind in ("original", "annotated", "thumbnail"):
        response = staff_client.get(f"/r/{alices_upload.id}/{kind}.image")
        assert response.status_code == 200 and b"".join(response.streaming_content), kind
    assert staff_client.get(f"/api/v1/recognitions/{alices_upload.id}/").json()["id"] == str(alices_upload.id)
    # Correcting or deleting stays the owner's: to staff it does not exist.
    assert staff_client.post(f"/r/{alices_upload.id}/feedback/", {"text": "7"}).status_code == 404
    api = f"/api/v1/recognitions/{alices_upload.id}/"
    assert staff_client.post(f"{api}feedback/", {"text": "7"}).status_code == 404
    assert staff_client.post(f"/r/{alices_upload.id}/delete/").status_code == 404
    assert staff_client.delete(api).status_code == 404
    assert Upload.objects.filter(id=alices_upload.id).exists() and alices_upload.feedback.count() == 0
    # Their own history and API list stay their own.
    assert str(alices_upload.id) not in staff_client.get("/history/").content.decode()
    assert staff_client.get("/api/v1/recognitions/").json()["count"] == 0


def test_a_staff_flag_on_an_inactive_account_opens_nothing(django_user_model, alices_upload):
    former = Client()
    user = django_user_model.objects.create_user("old", password="o-long-password-4", is_staff=True)
    former.force_login(user)
    django_user_model.objects.filter(id=user.id).update(is_active=False)
    assert former.get(f"/r/{alices_upload.id}/").status_code == 404
