"""The task bodies, run in this process against the real database and storage (the flow tests run a
real worker; these pin down what one delivery does)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from django.core.files.storage import default_storage

import ml
from tests.web.helpers import uploaded
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


def test_thumbnails_shrink_large_images_and_keep_small_ones():
    from worker.tasks import thumbnail

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


def test_the_reaper_fails_stuck_uploads_and_queues_lost_ones_again(png):
    import datetime as dt

    from django.utils import timezone

    from web.uploads.services import upload_start

    stuck, lost, fresh = make_upload(png), make_upload(png), make_upload(png)
    upload_start(upload_id=stuck.id)
    long_ago = timezone.now() - dt.timedelta(hours=1)
    Upload.objects.filter(id=stuck.id).update(started_at=long_ago)
    Upload.objects.filter(id=lost.id).update(queued_at=long_ago)
    assert reap_stuck_uploads() == {"failed": 1, "requeued": 1}  # lost is sent to the (real) broker again
    assert Upload.objects.get(id=stuck.id).error_code == "stuck"
    assert Upload.objects.get(id=fresh.id).status == Upload.objects.get(id=lost.id).status == "queued"


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
