"""Abuse is bounded and every error is clear: JSON under /api/, throttles with Retry-After, sign-in
lock-out, API tokens instead of HTTP Basic, any script's digits in corrections, unreadable file names,
blank images, bodies over the limit."""

from __future__ import annotations

import base64

import cv2
import numpy as np
import pytest
from django.conf import settings
from django.test import Client

from tests.web.helpers import png_bytes, uploaded
from web.uploads.models import Feedback, Upload
from web.uploads.services import upload_finish, upload_start

pytestmark = pytest.mark.django_db

API = "/api/v1/recognitions/"


def rate(scope: str) -> int:
    return int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope].split("/")[0])


@pytest.mark.parametrize("method, path, status, code", [
    ("get", "/api/v1/nothing-here/", 404, "not_found"),
    ("get", "/api/nothing/", 404, "not_found"),
    ("delete", API, 405, "method_not_allowed"),
    ("put", "/api/v1/token/", 405, "method_not_allowed"),
])
def test_errors_under_api_are_json_in_the_error_shape(client, method, path, status, code):
    response = getattr(client, method)(path)
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == code and response.json()["error"]["message"]


def test_with_debug_on_the_api_still_answers_json_and_pages_stay_pages(client, settings):
    settings.DEBUG = True  # Django's technical 404 page would list the site's URLs
    response = client.get("/api/v1/nothing-here/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert b"urlpatterns" not in response.content and b"api-recognition" not in response.content


def test_a_crash_under_api_is_a_json_500_and_a_page_elsewhere(monkeypatch):
    import web.uploads.api as api
    import web.uploads.views as views

    def broken(**_):
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(api, "upload_list_for", broken)
    monkeypatch.setattr(views, "upload_list_for", broken)
    client = Client(raise_request_exception=False)
    response = client.get(API)
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"
    assert "fire" not in response.content.decode()  # no internals leak
    page = client.get("/history/")
    assert page.status_code == 500 and not page["Content-Type"].startswith("application/json")


def test_too_many_form_fields_is_a_json_400(client):
    fields = {f"f{i}": "x" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 10)}
    response = client.post(API, fields)
    assert response.status_code == 400 and response.json()["error"]["code"]


def test_a_body_announced_over_the_limit_is_413_before_it_is_read(client):
    # Only the header says how big the body is: the middleware must not read it to refuse it.
    too_big = str(settings.DIGITSCAN_MAX_REQUEST_BYTES + 1)
    response = client.generic("POST", API, data=b"", content_type="multipart/form-data; boundary=x",
                              CONTENT_LENGTH=too_big)
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"
    page = client.generic("POST", "/", data=b"", content_type="multipart/form-data; boundary=x",
                          CONTENT_LENGTH=too_big)
    assert page.status_code == 413 and b"limit" in page.content
    assert Upload.objects.count() == 0


def test_uploads_over_the_rate_are_429_with_retry_after(client):
    png = png_bytes()
    answers = [client.post(API, {"image": uploaded(png)}).status_code for _ in range(rate("uploads") + 2)]
    assert answers[: rate("uploads")] == [202] * rate("uploads")
    last = client.post(API, {"image": uploaded(png)})
    assert last.status_code == 429 and last.json()["error"]["code"] == "throttled"
    assert 1 <= int(last["Retry-After"]) <= 60
    assert Upload.objects.count() == rate("uploads")  # nothing over the rate was stored
    # The page counts against the same rate and says how long to wait.
    page = client.post("/", {"image": uploaded(png)})
    assert page.status_code == 429 and int(page["Retry-After"]) >= 1 and b"wait" in page.content


def test_the_rate_is_per_client(client, alice):
    png = png_bytes()
    for _ in range(rate("uploads") + 1):
        client.post(API, {"image": uploaded(png)})
    assert client.post(API, {"image": uploaded(png)}).status_code == 429
    other = Client(REMOTE_ADDR="10.0.0.7")
    assert other.post(API, {"image": uploaded(png)}).status_code == 202
    signed_in = Client()
    signed_in.force_login(alice)
    assert signed_in.post(API, {"image": uploaded(png)}).status_code == 202


def test_repeated_wrong_passwords_lock_the_sign_in_out_even_with_the_right_one(client, alice):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
        assert response.status_code in (200, 429)
    locked = client.post("/accounts/login/", {"username": "alice", "password": "a-long-password-1"})
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    assert b"try again" in locked.content
    assert "_auth_user_id" not in client.session
    api = client.post("/api/v1/token/", {"username": "alice", "password": "a-long-password-1"})
    assert api.status_code == 429 and api.json()["error"]["code"] == "locked_out"
    # Another address is not locked out of the same account.
    elsewhere = Client(REMOTE_ADDR="10.0.0.9")
    assert elsewhere.post("/accounts/login/", {"username": "alice", "password": "a-long-password-1"}
                          ).status_code == 302


def test_an_api_token_authenticates_and_http_basic_does_not(client, alice, png):
    mine = Client()
    mine.force_login(alice)
    assert mine.post(API, {"image": uploaded(png)}).status_code == 202
    token = client.post("/api/v1/token/", {"username": "alice", "password": "a-long-password-1"},
                        content_type="application/json").json()["token"]
    with_token = Client(HTTP_AUTHORIZATION=f"Token {token}")
    assert with_token.get(API).json()["count"] == 1
    basic = base64.b64encode(b"alice:a-long-password-1").decode()
    assert Client(HTTP_AUTHORIZATION=f"Basic {basic}").get(API).json()["count"] == 0
    assert Client(HTTP_AUTHORIZATION="Token not-a-key").get(API).status_code == 401
    wrong = client.post("/api/v1/token/", {"username": "alice", "password": "nope"})
    assert wrong.status_code == 400 and wrong.json() == {"error": {
        "code": "bad_credentials", "message": "that user name and password do not match an account"}}
    missing = client.post("/api/v1/token/", {"username": "alice"}, HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "missing_credentials"
    assert "non_field_errors" not in missing.json()["error"]["message"]


def test_the_key_page_makes_and_replaces_a_key(alice_client):
    assert b"no key yet" in alice_client.get("/accounts/token/").content
    alice_client.post("/accounts/token/")
    first = alice_client.get("/accounts/token/").context["token"].key
    alice_client.post("/accounts/token/")
    second = alice_client.get("/accounts/token/").context["token"].key
    assert first != second
    assert Client(HTTP_AUTHORIZATION=f"Token {first}").get(API).status_code == 401
    assert Client(HTTP_AUTHORIZATION=f"Token {second}").get(API).status_code == 200


def _done(png, client) -> str:
    upload_id = client.post(API, {"image": uploaded(png)}).json()["id"]
    upload_start(upload_id=upload_id)
    upload_finish(upload_id=upload_id, reading={"text": "72 1", "lines": ["72", "1"], "digits": []},
                  timings={}, annotated_png=png, model_version=None)
    return upload_id


@pytest.mark.parametrize("typed, stored", [
    ("72²1", "7221"), ("７２\u3000１", "72 1"), ("٧٢ ١", "72 1"), ("७२ १", "72 1"), ("72\u00a01", "72 1"),
])
def test_corrections_in_any_scripts_digits_are_stored_as_digits(client, png, typed, stored):
    upload_id = _done(png, client)
    response = client.post(f"{API}{upload_id}/feedback/", {"text": typed}, content_type="application/json")
    assert response.status_code == 201 and response.json()["text"] == stored
    assert Feedback.objects.get().text == stored


@pytest.mark.parametrize("typed", ["7a", "½", "", "  ", "7\u200b2"])
def test_corrections_that_are_not_digits_are_a_clear_400(client, png, typed):
    upload_id = _done(png, client)
    response = client.post(f"{API}{upload_id}/feedback/", {"text": typed}, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] in {"bad_feedback", "invalid"}
    assert Feedback.objects.count() == 0
    page = client.post(f"/r/{upload_id}/feedback/", {"text": typed}, follow=True)
    assert page.status_code == 200 and Feedback.objects.count() == 0


def _multipart(name: bytes, data: bytes) -> tuple[bytes, str]:
    body = (b"--B\r\nContent-Disposition: form-data; name=\"image\"; filename=\"" + name + b"\"\r\n"
            b"Content-Type: image/png\r\n\r\n" + data + b"\r\n--B--\r\n")
    return body, "multipart/form-data; boundary=B"


def test_a_file_name_that_is_not_utf8_is_said_so(client, png):
    body, kind = _multipart(b"\xff\xfe\xe9t\xe9.png", png)
    response = client.generic("POST", API, data=body, content_type=kind)
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_file_name"
    page = client.generic("POST", "/", data=body, content_type=kind)
    assert page.status_code == 400 and b"name" in page.content
    body, kind = _multipart("été.png".encode(), png)
    assert client.generic("POST", API, data=body, content_type=kind).status_code == 202


@pytest.mark.parametrize("image", [
    np.full((300, 400, 3), 255, np.uint8),                 # a blank canvas
    np.full((300, 400, 3), 37, np.uint8),                  # a black one
    np.zeros((300, 400, 4), np.uint8),                     # fully transparent
])
def test_a_blank_image_is_refused_with_a_reason(client, image):
    ok, data = cv2.imencode(".png", image)
    response = client.post(API, {"image": uploaded(data.tobytes())})
    assert response.status_code == 400 and response.json()["error"]["code"] == "blank_image"
    assert Upload.objects.count() == 0


def test_a_faint_mark_on_a_blank_page_is_not_blank(client):
    page = np.full((300, 400, 3), 255, np.uint8)
    cv2.line(page, (50, 50), (80, 200), (200, 200, 200), 3)
    ok, data = cv2.imencode(".png", page)
    assert client.post(API, {"image": uploaded(data.tobytes())}).status_code == 202
