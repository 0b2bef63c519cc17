"""Services and selectors on the real test database: create, the worker's outcomes, claiming, privacy."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.web.helpers import uploaded
from web.errors import ApplicationError
from web.registry.models import ModelVersion
from web.registry.services import model_version_activate, model_version_ensure_active, model_version_register
from web.uploads import selectors, services
from web.uploads.models import Upload
from web.uploads.owners import Owner

pytestmark = pytest.mark.django_db

READING = {"text": "12 3", "lines": ["12", "3"], "digits": [
    {"digit": d, "confidence": 0.9, "box": [0, 0, 5, 5], "line": line, "uncertain": False}
    for d, line in ((1, 0), (2, 0), (3, 1))]}


def make_upload(owner: Owner, png: bytes) -> Upload:
    return services.upload_create(owner=owner, image_file=uploaded(png), source="upload")


def test_recognition_is_enqueued_only_after_the_transaction_commits(django_capture_on_commit_callbacks, png):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        upload = make_upload(Owner(session_key="s1"), png)
    assert len(callbacks) == 1
    assert Upload.objects.get().id == upload.id


def test_start_counts_attempts_and_marks_running(png):
    upload = make_upload(Owner(session_key="s1"), png)
    started = services.upload_start(upload_id=upload.id)
    assert started.status == "running" and started.attempts == 1 and started.started_at


def test_finish_records_the_reading_once(png):
    upload = make_upload(Owner(session_key="s1"), png)
    services.upload_start(upload_id=upload.id)
    done = services.upload_finish(upload_id=upload.id, reading=READING, timings={"segment": 1.0},
                                  annotated_png=png, model_version=None)
    assert done.status == "done" and done.text == "12 3" and done.lines == ["12", "3"]
    assert done.annotated_image.name == f"uploads/{upload.id}/annotated.png"
    # A second delivery finishing later changes nothing.
    again = services.upload_finish(upload_id=upload.id, reading={**READING, "text": "9"}, timings={},
                                   annotated_png=png, model_version=None)
    assert again is None and Upload.objects.get().text == "12 3"
    assert services.upload_start(upload_id=upload.id) is None


def test_redeliveries_are_capped_and_the_upload_fails_with_a_reason(settings, png):
    settings.DIGITSCAN_MAX_ATTEMPTS = 2
    upload = make_upload(Owner(session_key="s1"), png)
    assert services.upload_start(upload_id=upload.id).attempts == 1
    assert services.upload_start(upload_id=upload.id).attempts == 2
    assert services.upload_start(upload_id=upload.id) is None
    upload.refresh_from_db()
    assert upload.status == "failed" and upload.error_code == "gave_up" and "2 times" in upload.error_message


def test_a_running_upload_is_taken_back_only_from_a_process_that_stopped_beating(png):
    from web.uploads.delivery import upload_sweep

    stale, fresh = make_upload(Owner(session_key="s"), png), make_upload(Owner(session_key="s"), png)
    for upload in (stale, fresh):
        services.upload_start(upload_id=upload.id)
    Upload.objects.filter(id=stale.id).update(heartbeat_at=timezone.now() - dt.timedelta(minutes=10))
    assert upload_sweep()["released"] == 0  # the first sweep: no earlier one to be sure it was stale then
    assert upload_sweep()["released"] == 1
    stale.refresh_from_db(), fresh.refresh_from_db()
    assert (stale.status, stale.error_code, stale.attempts) == ("queued", "", 1)  # not failed
    assert fresh.status == "running"
    # A duplicate for the live one does nothing, unless it is this very process's own (its task is over).
    assert services.claim_is_alive(fresh) is False
    Upload.objects.filter(id=fresh.id).update(claimed_by="elsewhere:1:token")
    assert services.upload_start(upload_id=fresh.id) is None


def test_start_of_an_unknown_upload_is_a_no_op():
    assert services.upload_start(upload_id="00000000-0000-0000-0000-000000000000") is None


def test_owners_see_only_their_own_uploads_newest_first(alice, bob, png):
    a1, a2 = make_upload(Owner(user=alice), png), make_upload(Owner(user=alice), png)
    make_upload(Owner(user=bob), png)
    anon = make_upload(Owner(session_key="anon"), png)
    assert list(selectors.upload_list_for(owner=Owner(user=alice))) == [a2, a1]
    assert list(selectors.upload_list_for(owner=Owner(session_key="anon"))) == [anon]
    assert selectors.upload_get_for(owner=Owner(user=bob), upload_id=a1.id) is None
    assert selectors.upload_get_for(owner=Owner(session_key="other"), upload_id=anon.id) is None
    assert selectors.upload_get_for(owner=Owner(user=alice), upload_id="not-a-uuid") is None
    assert list(selectors.upload_list_for(owner=None)) == []


def test_claim_moves_anonymous_uploads_to_the_account(alice, png):
    anon = make_upload(Owner(session_key="tok"), png)
    assert services.upload_claim(session_key="tok", user=alice) == 1
    anon.refresh_from_db()
    assert anon.owner == alice and anon.session_key == ""
    assert services.upload_claim(session_key="", user=alice) == 0


def test_feedback_is_stored_digit_by_digit_whatever_its_length(alice, png):
    upload = make_upload(Owner(user=alice), png)
    services.upload_start(upload_id=upload.id)
    upload = services.upload_finish(upload_id=upload.id, reading=READING, timings={}, annotated_png=png,
                                    model_version=None)
    feedback = services.feedback_create(upload=upload, owner=Owner(user=alice), text=" 17  3 ", comment="x")
    assert feedback.text == "17 3" and feedback.author == alice
    assert feedback.operations == [{"op": "relabel", "index": 1, "digit": 7, "read": 2}]
    # Shorter than the reading (it used to be stored without per-digit data): the boxes left over are no
    # digits, each correction complete by itself.
    shorter = services.feedback_create(upload=upload, owner=Owner(user=alice), text="1")
    assert shorter.text == "1" and shorter.operations == [
        {"op": "not_a_digit", "index": 1, "read": 2}, {"op": "not_a_digit", "index": 2, "read": 3}]
    with pytest.raises(ApplicationError):
        services.feedback_create(upload=upload, owner=Owner(user=alice), text="12a")


def test_the_default_checkpoint_is_registered_once_and_active(tiny_checkpoint):
    first = model_version_ensure_active()
    assert first.is_active and first.family == "cnn" and first.preprocess_signature
    assert first.metrics == {"accuracy": 0.1}
    assert model_version_ensure_active() == first
    assert model_version_register(path=tiny_checkpoint) == first  # same bytes, same row
    assert ModelVersion.objects.count() == 1


def test_exactly_one_version_is_active(tmp_path, tiny_checkpoint):
    from ml.models.checkpoint import save_checkpoint
    from ml.models.classifiers import build

    first = model_version_ensure_active()
    other = model_version_register(path=save_checkpoint(build("cnn", {"channels": (8, 16), "linear": 16}),
                                                        tmp_path / "other.pt"))
    model_version_activate(version=other)
    assert list(ModelVersion.objects.filter(is_active=True)) == [other]
    first.refresh_from_db()
    assert not first.is_active
