"""The task bodies, run in this process against the real database and storage (the flow tests run a
real worker; these pin down what one delivery does)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from django.core.files.storage import default_storage

import ml
from tests.web.helpers import digits_image, jpeg_bytes, uploaded
from web.uploads.models import Upload
from web.uploads.owners import Owner
from web.uploads.services import upload_create
from worker import model_cache
from worker.tasks import reap_stuck_uploads, recognize

pytestmark = pytest.mark.django_db


def make_upload(png: bytes) -> Upload:
    return upload_create(owner=Owner(session_key="s"), image_file=uploaded(png), source="upload")


def test_recognize_writes_the_reading_and_the_annotated_png(png):
    upload = make_upload(png)
    assert recognize(str(upload.id)) == "done"
    upload.refresh_from_db()
    assert upload.status == "done" and upload.attempts == 1
    assert upload.model_version.name == "tiny-cnn" and upload.model_version.is_active
    assert len(upload.lines) == len(upload.text.split()) and upload.digits
    assert set(upload.timings) == {"decode", "segment", "classify"}
    with default_storage.open(upload.annotated_image.name, "rb") as f:
        annotated = cv2.imdecode(np.frombuffer(f.read(), np.uint8), cv2.IMREAD_COLOR)
    assert annotated.shape[:2] == (upload.height, upload.width)
    with default_storage.open(upload.thumbnail.name, "rb") as f:
        small = cv2.imdecode(np.frombuffer(f.read(), np.uint8), cv2.IMREAD_COLOR)
    assert max(small.shape[:2]) <= 320


def photo_of_digits(width: int = 2400, height: int = 1800) -> np.ndarray:
    """Paper as a phone sees it: uneven light and sensor noise (what makes a full-size PNG weigh MBs)."""
    rng = np.random.default_rng(7)
    light = np.linspace(205, 245, width)[None, :, None] - np.linspace(0, 25, height)[:, None, None]
    page = np.clip(light + rng.normal(0, 6, (height, width, 3)), 0, 255).astype(np.uint8)
    digits = digits_image(("2026", "1234"), scale=12)
    page[300:300 + digits.shape[0], 200:200 + digits.shape[1]] = np.minimum(
        page[300:300 + digits.shape[0], 200:200 + digits.shape[1]], digits)
    return page


def test_recognize_writes_a_screen_jpeg_far_smaller_than_the_full_size_png():
    upload = upload_create(owner=Owner(session_key="s"), source="upload",
                           image_file=uploaded(jpeg_bytes(photo_of_digits()), "photo.jpg", "image/jpeg"))
    assert recognize(str(upload.id)) == "done"
    upload.refresh_from_db()
    full, screen = (default_storage.open(f.name, "rb").read() for f in (upload.annotated_image,
                                                                          upload.screen_image))
    assert full.startswith(b"\x89PNG") and screen.startswith(b"\xff\xd8\xff")
    assert cv2.imdecode(np.frombuffer(full, np.uint8), cv2.IMREAD_COLOR).shape[:2] == (1800, 2400)
    assert cv2.imdecode(np.frombuffer(screen, np.uint8), cv2.IMREAD_COLOR).shape[:2] == (1200, 1600)
    assert len(screen) <= 500 * 1024 and len(screen) * 5 < len(full)


def test_the_screen_jpeg_keeps_a_small_image_small_and_a_noisy_one_under_its_budget():
    from worker.images import screen_jpeg

    small = cv2.imdecode(np.frombuffer(screen_jpeg(digits_image()), np.uint8), cv2.IMREAD_COLOR)
    assert small.shape == digits_image().shape  # never enlarged
    noise = np.random.default_rng(3).integers(0, 256, (2000, 3000, 3), np.uint8)  # the worst case
    data = screen_jpeg(noise, budget=400 * 1024)
    assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).shape[:2] == (1067, 1600)
    assert len(data) <= 400 * 1024  # a lower quality was taken to fit


def test_thumbnails_shrink_large_images_and_keep_small_ones():
    from worker.images import thumbnail

    assert thumbnail(np.zeros((1000, 4000, 3), np.uint8)).shape == (80, 320, 3)
    assert thumbnail(np.zeros((100, 50, 3), np.uint8)).shape == (100, 50, 3)


def test_recognize_is_idempotent_by_upload_id(png):
    upload = make_upload(png)
    recognize(str(upload.id))
    first = Upload.objects.get(id=upload.id)
    assert recognize(str(upload.id)) == "skipped"
    again = Upload.objects.get(id=upload.id)
    assert (again.finished_at, again.attempts, again.text) == (first.finished_at, 1, first.text)


def test_recognize_of_a_missing_upload_is_skipped():
    assert recognize("00000000-0000-0000-0000-000000000000") == "skipped"


def test_an_image_that_vanished_from_storage_fails_with_a_readable_reason(png):
    upload = make_upload(png)
    default_storage.delete(upload.image.name)
    assert recognize(str(upload.id)) == "failed"
    upload.refresh_from_db()
    assert (upload.status, upload.error_code) == ("failed", "missing_image")
    assert "no longer in storage" in upload.error_message


def test_the_sweeper_queues_again_the_uploads_of_dead_workers_and_sends_unsent_ones(png):
    import datetime as dt

    from django.utils import timezone

    from web.uploads.services import upload_start

    dead, unsent, live = make_upload(png), make_upload(png), make_upload(png)
    upload_start(upload_id=dead.id), upload_start(upload_id=live.id)
    long_ago = timezone.now() - dt.timedelta(hours=1)
    Upload.objects.filter(id=dead.id).update(heartbeat_at=long_ago)
    Upload.objects.filter(id=unsent.id).update(enqueued_at=None, queued_at=long_ago)  # the broker was down
    # The first sweep has no previous one to compare heartbeats with: it only sends what was never sent.
    assert reap_stuck_uploads() == {"released": 0, "sent": 1, "resent": 0}
    assert Upload.objects.get(id=unsent.id).enqueued_at is not None  # sent to the (real) broker
    # The second finds the dead one's heartbeat stale at both sweeps: queued again (and sent), no attempt
    # counted yet, nothing failed; the live one is left to its process.
    assert reap_stuck_uploads() == {"released": 1, "sent": 1, "resent": 0}
    again = Upload.objects.get(id=dead.id)
    assert (again.status, again.attempts, again.error_code) == ("queued", 1, "")
    assert Upload.objects.get(id=live.id).status == "running"
    assert recognize(str(dead.id)) == "done" and Upload.objects.get(id=dead.id).attempts == 2


def test_a_delivery_resumed_after_a_database_error_counts_no_attempt_and_reads_nothing_again(png):
    from web.uploads.services import upload_start

    upload = make_upload(png)
    first = upload_start(upload_id=upload.id)
    resumed = upload_start(upload_id=upload.id, resume=first.claimed_by)
    assert resumed.attempts == 1 and resumed.claimed_by != first.claimed_by
    # A message carrying the old claim again (redelivered after its process died) is a new attempt.
    assert upload_start(upload_id=upload.id, resume=first.claimed_by).attempts == 2
    # The retry of a delivery that had read the image records the outcome it carries, without reading.
    outcome = {"fail": ["corrupt_image", "the image cannot be read: carried over"]}
    assert recognize(str(upload.id), resume={"outcome": outcome}) == "failed"
    upload.refresh_from_db()
    assert (upload.error_code, upload.error_message, upload.attempts) == (*outcome["fail"], 2)


def test_torch_threads_keep_processes_times_threads_within_the_cores(settings):
    settings.DIGITSCAN_TORCH_THREADS = 0
    assert model_cache.torch_threads(concurrency=2, cores=8) == 4
    assert model_cache.torch_threads(concurrency=3, cores=2) == 1
    settings.DIGITSCAN_TORCH_THREADS = 2
    assert model_cache.torch_threads(concurrency=4, cores=2) == 2


def test_an_image_that_no_longer_decodes_fails_as_corrupt(png):
    upload = make_upload(png)
    with default_storage.open(upload.image.name, "wb") as f:
        f.write(png[:120])  # damaged in storage after it was checked
    assert recognize(str(upload.id)) == "failed"
    upload.refresh_from_db()
    assert upload.error_code == "corrupt_image" and "cannot be read" in upload.error_message


def test_the_shipped_model_reads_a_page_of_handwritten_digits(settings, test_digits, alice):
    from ml.synth.compose import page_from_text

    settings.DIGITSCAN_DEFAULT_CHECKPOINT = str(ml.DEFAULT_CHECKPOINT)
    images, labels = test_digits
    page, truth = page_from_text(images, labels, ["9021", "3345678"], seed=11, digit_height=48)
    png = cv2.imencode(".png", page)[1].tobytes()
    upload = upload_create(owner=Owner(user=alice), image_file=uploaded(png), source="upload")
    recognize(str(upload.id))
    upload.refresh_from_db()
    assert upload.lines == truth["lines"] and upload.text == "9021 3345678"
    assert upload.model_version.name == ml.DEFAULT_CHECKPOINT.stem
    assert len(upload.digits) == 11 and all(0 < d["confidence"] <= 1 for d in upload.digits)


def test_the_sweeper_sends_again_a_message_that_is_no_longer_in_the_queue(png):
    import datetime as dt

    from django.utils import timezone

    from web.celery import app
    from web.uploads.delivery import queue_length

    waiting, lost = make_upload(png), make_upload(png)
    app.control.purge()  # the broker lost both messages (a worker died holding them, Redis restarted…)
    long_ago = timezone.now() - dt.timedelta(minutes=5)
    Upload.objects.filter(id=lost.id).update(enqueued_at=long_ago)
    assert queue_length() == 0
    # Sent 5 minutes ago and not among the messages waiting: sent again. The other went out just now.
    assert reap_stuck_uploads()["resent"] == 1
    assert queue_length() == 1 and Upload.objects.get(id=lost.id).enqueued_at > long_ago
    # One message waits in the queue: the upload sent last (lost, by now) is taken to own it and is not
    # sent again, however long ago that was; the one sent before it is.
    Upload.objects.filter(id=waiting.id).update(enqueued_at=long_ago)
    Upload.objects.filter(id=lost.id).update(enqueued_at=long_ago + dt.timedelta(seconds=1))
    assert reap_stuck_uploads()["resent"] == 1
    assert Upload.objects.get(id=waiting.id).enqueued_at > Upload.objects.get(id=lost.id).enqueued_at
    app.control.purge()


def test_each_digits_alternatives_agree_with_it_after_the_line_reader_raised_its_confidence(settings, alice,
                                                                                               client):
    """The shipped model on the sample page: the line reader confirms most boxes at a higher confidence
    than the classifier's (0.9996 for a 7 the classifier gave 0.9648); the stored reading and the API
    say the same number twice, and the alternatives stay a distribution (ml.reading.result.agreeing)."""
    from pathlib import Path

    settings.DIGITSCAN_DEFAULT_CHECKPOINT = str(ml.DEFAULT_CHECKPOINT)
    sample = Path(__file__).resolve().parents[2] / "docs" / "samples" / "digits.png"
    client.force_login(alice)
    upload_id = client.post("/api/v1/recognitions/", {"image": uploaded(sample.read_bytes())}).json()["id"]
    assert recognize(upload_id) == "done"
    digits = client.get(f"/api/v1/recognitions/{upload_id}/").json()["digits"]
    assert len(digits) == 17
    for d in digits:
        best = d["alternatives"][0]
        assert (best["digit"], best["confidence"]) == (d["digit"], d["confidence"]), d
        named = [a["digit"] for a in d["alternatives"]]
        assert len(named) <= 3 and len(set(named)) == len(named)
        assert sum(a["confidence"] for a in d["alternatives"]) <= 1.0 + 1e-3, d
