"""The server-rendered pages: upload, result, history, accounts; messages in words for bad input."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.web.helpers import png_bytes, uploaded
from web.uploads.models import Upload
from web.uploads.services import upload_finish, upload_start

pytestmark = pytest.mark.django_db


def upload_page_post(client, data: bytes, name: str = "d.png"):
    return client.post("/", {"image": uploaded(data, name), "source": "upload"})


def test_the_upload_page_offers_a_file_picker_and_drop_zone(client):
    html = client.get("/").content.decode()
    assert 'type="file"' in html and 'id="drop"' in html and 'enctype="multipart/form-data"' in html


def test_a_good_upload_redirects_to_its_result_page(client):
    response = upload_page_post(client, png_bytes())
    upload = Upload.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/r/{upload.id}/"
    assert upload.source == "upload"


@pytest.mark.parametrize("data, words", [
    (b"", "The file is empty."),
    (b"GIF89a......", "Only JPEG and PNG images are accepted"),
    (png_bytes()[:100], "The image cannot be decoded"),
    (png_bytes() + b"\0" * (2 * 1024 * 1024), "the limit is 2.0 MB"),
])
def test_bad_input_is_explained_on_the_page(client, data, words):
    response = upload_page_post(client, data)
    assert response.status_code == 400
    assert words in response.content.decode()
    assert Upload.objects.count() == 0


def test_the_result_page_polls_the_status_endpoint_while_queued(client):
    upload_page_post(client, png_bytes())
    upload = Upload.objects.get()
    html = client.get(f"/r/{upload.id}/").content.decode()
    assert f'data-status-url="http://testserver/api/v1/recognitions/{upload.id}/"' in html
    assert 'data-status="queued"' in html and "result.js" in html


def test_the_result_page_shows_digits_confidences_and_uncertain_marks(client, png):
    upload_page_post(client, png)
    upload = Upload.objects.get()
    upload_start(upload_id=upload.id)
    digits = [{"digit": 4, "confidence": 0.97, "box": [0, 0, 5, 5], "line": 0, "uncertain": False},
              {"digit": 2, "confidence": 0.41, "box": [9, 0, 5, 5], "line": 0, "uncertain": True}]
    upload_finish(upload_id=upload.id, reading={"text": "42", "lines": ["42"], "digits": digits},
                  timings={}, annotated_png=png, model_version=None)
    html = client.get(f"/r/{upload.id}/").content.decode()
    assert ">42?</li>" in html and "97%" in html and "41%" in html
    assert 'class="uncertain"' in html and "2?" in html
    assert f"/r/{upload.id}/annotated.image" in html
    assert 'value="42?"' in html  # the correction form is prefilled with the reading, marks and all


def test_a_reading_with_no_digits_says_so_with_a_hint(client, png):
    upload_page_post(client, png)
    upload = Upload.objects.get()
    upload_start(upload_id=upload.id)
    upload_finish(upload_id=upload.id, reading={"text": "", "lines": [], "digits": []}, timings={},
                  annotated_png=png, model_version=None)
    html = client.get(f"/r/{upload.id}/").content.decode()
    assert "Done: no digits found." in html
    hint = re.search(r'<p id="no-digits"[^>]*>', html).group(0)
    assert "hidden" not in hint and "sharper picture" in html


def test_feedback_from_the_result_page_is_stored_and_shown(client, png):
    upload_page_post(client, png)
    upload = Upload.objects.get()
    upload_start(upload_id=upload.id)
    upload_finish(upload_id=upload.id, reading={"text": "11", "lines": ["11"], "digits": [
        {"digit": 1, "confidence": 0.9, "box": [10 * i, 0, 8, 8], "line": 0, "uncertain": False}
        for i in range(2)]}, timings={}, annotated_png=png, model_version=None)
    response = client.post(f"/r/{upload.id}/feedback/", {"text": "17", "comment": "the 7 is crossed"},
                           follow=True)
    html = response.content.decode()
    assert "your correction is saved" in html and "the 7 is crossed" in html
    assert upload.feedback.get().text == "17"


def test_history_is_newest_first_paginated_with_thumbnails(alice_client, png):
    for _ in range(13):
        upload_page_post(alice_client, png)
    ordered = list(Upload.objects.order_by("-queued_at"))
    first_page = alice_client.get("/history/").content.decode()
    assert first_page.count('class="thumb"') == 12 and "page 1 of 2" in first_page
    assert first_page.index(f"/r/{ordered[0].id}/") < first_page.index(f"/r/{ordered[1].id}/")
    assert f"/r/{ordered[0].id}/original.image" in first_page  # not read yet: no thumbnail
    assert f"/r/{ordered[-1].id}/" not in first_page
    assert alice_client.get("/history/?page=2").content.decode().count('class="thumb"') == 1


def test_anonymous_uploads_move_to_the_account_at_sign_up(client, png):
    upload_page_post(client, png)
    response = client.post(reverse("signup"), {"username": "carol", "password1": "a-long-password-3",
                                               "password2": "a-long-password-3"})
    assert response.status_code == 302
    assert Upload.objects.get().owner.username == "carol"
    assert client.get("/history/").content.decode().count('class="thumb"') == 1


def test_anonymous_uploads_move_to_the_account_at_login(client, alice, png):
    upload_page_post(client, png)
    response = client.post(reverse("login"), {"username": "alice", "password": "a-long-password-1"})
    assert response.status_code == 302
    assert Upload.objects.get().owner == alice


def test_logout_starts_a_fresh_anonymous_session(alice_client, png):
    upload_page_post(alice_client, png)
    alice_client.post(reverse("logout"))
    assert "Nothing yet" in alice_client.get("/history/").content.decode()


def test_sign_up_errors_are_shown(client):
    response = client.post(reverse("signup"), {"username": "x", "password1": "a", "password2": "b"})
    assert response.status_code == 400 and re.search(r"password", response.content.decode(), re.I)


def test_the_upload_page_offers_a_canvas_that_posts_to_the_api(client):
    html = client.get("/").content.decode()
    assert '<canvas id="canvas"' in html and 'data-api="/api/v1/recognitions/"' in html


def test_a_canvas_drawing_is_recorded_with_its_source(alice_client, png):
    response = alice_client.post("/api/v1/recognitions/", {"image": uploaded(png, "drawing.png"),
                                                           "source": "canvas"})
    assert response.status_code == 202 and Upload.objects.get().source == "canvas"


def test_a_failed_upload_says_why_on_its_result_page(client, png):
    from web.uploads.services import upload_fail

    upload_page_post(client, png)
    upload = Upload.objects.get()
    upload_fail(upload_id=upload.id, code="timeout", message="reading took longer than 30 s")
    html = client.get(f"/r/{upload.id}/").content.decode()
    assert 'data-status="failed"' in html and "reading took longer than 30 s" in html


def test_history_shows_the_reading_and_thumbnail_of_a_finished_upload(client, png):
    upload_page_post(client, png)
    upload = Upload.objects.get()
    upload_start(upload_id=upload.id)
    upload_finish(upload_id=upload.id, reading={"text": "305", "lines": ["305"], "digits": []}, timings={},
                  annotated_png=png, thumbnail_jpeg=png, model_version=None)
    html = client.get("/history/").content.decode()
    assert f"/r/{upload.id}/thumbnail.image" in html and ">305<" in html
    assert client.get(f"/r/{upload.id}/thumbnail.image").status_code == 200


def test_the_result_shows_the_screen_jpeg_and_links_the_full_size_and_an_old_png_only_upload_still_shows(
        client, png):
    from tests.web.helpers import jpeg_bytes

    ids = []
    for screen in (jpeg_bytes(), b""):  # read now; read before screen images existed
        upload_page_post(client, png)
        upload = Upload.objects.filter(status="queued").get()
        upload_start(upload_id=upload.id)
        upload_finish(upload_id=upload.id, reading={"text": "7", "lines": ["7"], "digits": []}, timings={},
                      annotated_png=png, thumbnail_jpeg=jpeg_bytes(), screen_jpeg=screen, model_version=None)
        ids.append(upload.id)
    new, old = (client.get(f"/r/{i}/").content.decode() for i in ids)
    shown = re.compile(r'<img id="annotated"[^>]*src="([^"]+)"')
    assert shown.search(new).group(1) == f"http://testserver/r/{ids[0]}/screen.image"
    assert f'id="full-size" href="http://testserver/r/{ids[0]}/annotated.image"' in new
    screen = client.get(f"/r/{ids[0]}/screen.image")
    assert screen["Content-Type"] == "image/jpeg" and b"".join(screen.streaming_content) == jpeg_bytes()
    assert shown.search(old).group(1) == f"http://testserver/r/{ids[1]}/annotated.image"
    assert client.get(f"/r/{ids[1]}/screen.image").status_code == 404
    assert client.get(f"/api/v1/recognitions/{ids[1]}/").json()["screen_image_url"] is None


@pytest.mark.parametrize("url", ["/accounts/login/", "/accounts/signup/", "/history/"])
def test_account_and_history_pages_render_for_anonymous_visitors(client, url):
    response = client.get(url)
    assert response.status_code == 200 and "DigitScan" in response.content.decode()


def test_the_home_page_feedback_form_is_stored_for_staff(client, alice, django_user_model):
    from web.uploads.models import SiteFeedback

    html = client.get("/").content.decode()
    assert "问题反馈" in html and 'action="/feedback/"' in html
    note = {"message": "  The canvas is too small on my phone. ", "contact": "a@b.c", "page": "/"}
    page = client.post("/feedback/", note, follow=True)
    assert page.status_code == 200 and "Thank you" in page.content.decode()
    stored = SiteFeedback.objects.get()
    assert stored.message == "The canvas is too small on my phone." and stored.contact == "a@b.c"
    empty = client.post("/feedback/", {"message": "   "}, follow=True)
    assert "empty" in empty.content.decode() and SiteFeedback.objects.count() == 1
    staff = django_user_model.objects.create_superuser("root", password="a-long-password-3")
    admin = Client()
    admin.force_login(staff)
    listing = admin.get("/admin/uploads/sitefeedback/").content.decode()
    assert "The canvas is too small" in listing


def test_the_feedback_form_is_rate_limited(client, settings):
    from web.uploads.models import SiteFeedback

    limit = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["site_feedback"].split("/")[0])
    for i in range(limit + 3):
        client.post("/feedback/", {"message": f"note {i}"})
    assert SiteFeedback.objects.count() == limit


def test_uncertain_marks_stay_wherever_the_text_appears(client, png):
    upload_page_post(client, png)
    upload = Upload.objects.get()
    upload_start(upload_id=upload.id)
    digits = [{"digit": d, "confidence": 0.4 if d == 5 else 0.99, "box": [10 * i, 20 * n, 5, 5], "line": n,
               "uncertain": d == 5, "alternatives": []}
              for n, ds in enumerate([[1, 5, 0, 0], [7]]) for i, d in enumerate(ds)]
    upload_finish(upload_id=upload.id, reading={"text": "1500 7", "lines": ["1500", "7"], "digits": digits,
                                                "display": ["1.500", "7"],
                                                "separators": [{"char": ".", "box": [6, 3, 2, 2],
                                                                "line": 0}]},
                  timings={}, annotated_png=png, model_version=None)
    result = client.get(f"/r/{upload.id}/").content.decode()
    assert ">1.5?00</li>" in result and 'value="15?00 7"' in result
    assert "1.5?00 7" in client.get("/history/").content.decode()  # as the result page shows it
    assert client.get(f"/api/v1/recognitions/{upload.id}/").json()["marked"] == ["1.5?00", "7"]
    # Sent back as it stands, nothing changes: said so, nothing stored. The ? deleted confirms the digit.
    same = client.post(f"/r/{upload.id}/feedback/", {"text": "15?00 7"}, follow=True).content.decode()
    assert "those are the digits as read" in same.lower() and not upload.feedback.exists()
    client.post(f"/r/{upload.id}/feedback/", {"text": "1500 7"})
    assert upload.feedback.get().text == "1500 7"
    # Once corrected, the reading is the corrected digits (a correction says nothing of the dots).
    assert ">1500</li>" in client.get(f"/r/{upload.id}/").content.decode()


def test_an_upload_is_deleted_with_its_files_and_only_by_its_owner(client, bob_client, png, settings):
    from pathlib import Path

    upload_page_post(client, png)
    upload = Upload.objects.get()
    assert client.post(f"/r/{upload.id}/delete/", follow=True).status_code == 200
    assert Upload.objects.filter(id=upload.id).exists()  # still queued: not deleted under a worker
    upload_start(upload_id=upload.id)
    upload_finish(upload_id=upload.id, reading={"text": "4", "lines": ["4"], "digits": []}, timings={},
                  annotated_png=png, model_version=None, thumbnail_jpeg=b"\xff\xd8\xff",
                  screen_jpeg=b"\xff\xd8\xff")
    upload.refresh_from_db()
    fields = (upload.image, upload.annotated_image, upload.screen_image, upload.thumbnail)
    files = [Path(settings.MEDIA_ROOT) / f.name for f in fields]
    assert all(f.exists() for f in files)
    download = client.get(f"/r/{upload.id}/annotated.image?download")
    assert "attachment" in download["Content-Disposition"] and ".png" in download["Content-Disposition"]
    assert bob_client.post(f"/r/{upload.id}/delete/").status_code == 404
    client.post(f"/r/{upload.id}/delete/")
    assert not Upload.objects.filter(id=upload.id).exists() and not any(f.exists() for f in files)


def test_the_api_deletes_a_finished_upload(client, png):
    upload_id = client.post("/api/v1/recognitions/", {"image": uploaded(png)}).json()["id"]
    url = f"/api/v1/recognitions/{upload_id}/"
    assert client.delete(url).json()["error"]["code"] == "busy"
    upload_start(upload_id=upload_id)
    upload_finish(upload_id=upload_id, reading={"text": "", "lines": [], "digits": []}, timings={},
                  annotated_png=png, model_version=None)
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
