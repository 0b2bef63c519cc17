"""Retraining: parameters, feedback digits as training data, the admin's start button, and a real run on
the training queue whose version a running inference worker then uses."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import torch
from django.core.files.uploadedfile import SimpleUploadedFile

from ml.data import Split
from ml.models.checkpoint import load_checkpoint
from ml.models.config import NOT_A_DIGIT
from ml.reading.recrop import crops_at
from ml.training.recipes import TrainRequest
from ml.training.run import train_checkpoint, training_splits
from tests.web.helpers import page_with_a_squiggle, png_bytes, uploaded
from tests.worker.processes import wait_for
from web.errors import ApplicationError
from web.registry.models import ExperimentRun, ModelVersion
from web.registry.services import (
    experiment_run_create,
    model_version_ensure_active,
    model_version_promote_if_better,
    train_params,
)
from web.uploads.owners import Owner
from web.uploads.services import (
    feedback_create,
    feedback_set_accepted,
    upload_create,
    upload_finish,
    upload_start,
)
from worker import training

TINY_RUN = {"limit": 1000, "epochs": 1, "test_limit": 500}


def test_train_params_fill_defaults_and_refuse_unknown_or_bad_ones():
    assert train_params({"epochs": 2})["epochs"] == 2 and train_params(None)["feedback"] is True
    for bad in ({"epoch": 2}, {"epochs": 0}, {"limit": "all"}):
        with pytest.raises(ApplicationError):
            train_params(bad)


@pytest.mark.django_db
def test_a_retrain_is_queued_only_after_the_transaction_commits(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = experiment_run_create(params={"dry_run": True})
    assert len(callbacks) == 1 and run.status == "queued" and run.params["dry_run"] is True


@pytest.mark.django_db
def test_a_new_version_is_activated_only_if_it_is_not_worse():
    active = model_version_ensure_active()
    assert model_version_promote_if_better(version=active, accuracy=0.5, baseline=0.6) is False
    assert model_version_promote_if_better(version=active, accuracy=0.6, baseline=0.6) is True


@pytest.mark.django_db
def test_staff_start_a_retrain_from_the_admin(client, django_user_model, django_capture_on_commit_callbacks):
    client.force_login(django_user_model.objects.create_superuser("staff", password="x-long-password-9"))
    assert client.get("/admin/registry/experimentrun/add/").status_code == 200
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/admin/registry/experimentrun/add/", {"params": '{"epochs": 1}'})
    assert response.status_code == 302, response.content.decode()[:2000]
    run = ExperimentRun.objects.get()
    assert run.kind == "train" and run.params["epochs"] == 1 and run.created_by.username == "staff"
    assert len(callbacks) == 1
    bad = client.post("/admin/registry/experimentrun/add/", {"params": '{"epochz": 1}'})
    assert bad.status_code == 200 and "unknown retrain parameters" in bad.content.decode()


@pytest.fixture
def misread(alice):
    """An upload of that page read as "17 450": its 2 taken for a 7, its 3 missed, the squiggle taken for
    a 0."""
    page, boxes, squiggle = page_with_a_squiggle()
    upload = upload_create(owner=Owner(user=alice), image_file=uploaded(png_bytes(page)), source="upload")
    upload_start(upload_id=upload.id)
    read = [(1, boxes[0], 0), (7, boxes[1], 0), (4, boxes[3], 1), (5, boxes[4], 1), (0, squiggle, 1)]
    digits = [{"digit": d, "confidence": 0.9, "box": box, "line": line, "uncertain": False,
               "alternatives": []} for d, box, line in read]
    upload = upload_finish(upload_id=upload.id, reading={"text": "17 450", "lines": ["17", "450"],
                                                         "digits": digits}, timings={},
                           annotated_png=png_bytes(page), model_version=None)
    return upload, page, boxes, squiggle


def accepted(upload, alice, **correction):
    feedback = feedback_create(upload=upload, owner=Owner(user=alice), **correction)
    feedback_set_accepted(feedback_ids=[feedback.id], accepted=True)
    return feedback


@pytest.mark.django_db
def test_a_correction_of_another_length_yields_labelled_samples_and_a_not_a_digit_one(misread, alice):
    upload, page, boxes, squiggle = misread
    feedback = feedback_create(upload=upload, owner=Owner(user=alice), text="123 45")
    assert len(training.feedback_digits()) == 0  # not accepted yet
    feedback_set_accepted(feedback_ids=[feedback.id], accepted=True)
    skipped: list[str] = []
    samples = training.feedback_digits(skipped=skipped)
    assert isinstance(samples, training.FeedbackSamples)
    assert samples.images.shape == (2, 28, 28) and samples.images.dtype == torch.uint8
    assert samples.labels.dtype == torch.int64 and samples.labels.tolist() == [2, NOT_A_DIGIT]
    assert samples.uploads == [str(upload.id)] * 2
    assert (samples.digit_count, samples.not_a_digit_count) == (1, 1)
    # cut where the reading boxed them: the 2 read as a 7, the squiggle read as a 0
    two, mark = crops_at(page, [boxes[1], squiggle])
    assert torch.equal(samples.images[0], torch.from_numpy(two))
    assert torch.equal(samples.images[1], torch.from_numpy(mark))
    # the 3 the reading missed was typed, not boxed: said, not cut out of thin air
    assert skipped == [f"upload {upload.id}: added 3 has no box"]


@pytest.mark.django_db
def test_a_missed_digit_boxed_on_the_image_yields_a_sample_cut_at_that_box(misread, alice):
    upload, page, boxes, squiggle = misread
    accepted(upload, alice, text="123 45")
    three = boxes[2]
    accepted(upload, alice, operations=[{"op": "relabel", "index": 1, "digit": 2},
                                        {"op": "not_a_digit", "index": 4},
                                        {"op": "add", "digit": 3, "box": three}])
    samples = training.feedback_digits()
    # the newest accepted correction of the upload only: it replaced the one before
    assert samples.labels.tolist() == [2, NOT_A_DIGIT, 3]
    assert torch.equal(samples.images[2], torch.from_numpy(crops_at(page, [three])[0]))
    assert int(samples.images[2].max()) > 200


@pytest.mark.django_db
def test_an_image_gone_from_storage_is_left_out_and_said(misread, alice):
    from django.core.files.storage import default_storage

    upload, *_ = misread
    accepted(upload, alice, text="123 45")
    default_storage.delete(upload.image.name)
    skipped: list[str] = []
    assert len(training.feedback_digits(skipped=skipped)) == 0
    assert any(f"upload {upload.id}: its image cannot be read" in reason for reason in skipped)


@pytest.mark.django_db
def test_not_a_digit_samples_train_a_reject_model_end_to_end(misread, alice):
    upload, _, boxes, _ = misread
    accepted(upload, alice, operations=[{"op": "not_a_digit", "index": i} for i in range(5)])
    samples = training.feedback_digits()
    assert samples.labels.tolist() == [NOT_A_DIGIT] * 5
    request = TrainRequest(limit=300, test_limit=100, epochs=1)
    train, test = training_splits(request, Split(samples.images, samples.labels, "feedback samples"))
    assert len(train) == 305 and train.describe()["label_counts"][NOT_A_DIGIT] == 5
    with tempfile.TemporaryDirectory() as tmp:
        trained = train_checkpoint(request, Path(tmp) / "cnn.pt", train, test)
        reloaded = load_checkpoint(trained.path)
    assert reloaded.classifier.outputs == NOT_A_DIGIT + 1
    assert trained.training["data"]["label_counts"][NOT_A_DIGIT] == 5
    assert 0 <= trained.metrics["accuracy"] <= 1


@pytest.mark.django_db
def test_a_model_without_the_reject_output_is_trained_on_the_digits_only(misread, alice):
    upload, *_ = misread
    accepted(upload, alice, text="123 45")
    samples, skipped = training._feedback_for(TrainRequest(recipe="thesis"))
    assert samples.labels.tolist() == [2]
    assert "1 not-a-digit samples (the thesis recipe's model" in skipped[-1]


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_retrain_on_the_training_queue_registers_a_version_the_inference_worker_then_uses(
        client, start_worker):
    model_version_ensure_active()  # the untrained tiny model: any training beats its ~10% accuracy
    start_worker(queues="training")
    inference = start_worker(queues="inference")
    run = experiment_run_create(params=TINY_RUN)
    run = wait_for(lambda: ExperimentRun.objects.filter(id=run.id, status__in=["done", "failed"]).first(),
                   timeout=240, interval=0.5, what="retrain finished")
    assert run.status == "done", run.error + run.log
    assert run.results["promoted"] is True and run.results["accuracy"] > run.results["baseline_accuracy"]
    assert run.progress == 1.0 and "epoch 1/1" in run.log and "test accuracy" in run.log
    version = ModelVersion.objects.get(is_active=True)
    assert version == run.model_version and version.name == f"cnn-run{run.id}"
    assert version.metrics["accuracy"] == run.results["accuracy"]

    response = client.post("/api/v1/recognitions/", {"image": SimpleUploadedFile("d.png", png_bytes())})
    url = response.json()["url"]
    data = wait_for(lambda: (d := client.get(url).json())["status"] in ("done", "failed") and d,
                    timeout=60, what=f"upload finished\n{inference.output()}")
    assert data["model_version"] == version.name


@pytest.mark.django_db
def test_periodic_retraining_is_a_beat_schedule_created_disabled():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="worker.tasks.retrain_periodically")
    assert task.enabled is False and task.crontab is not None and task.queue == "training"


@pytest.mark.django_db
def test_the_scheduled_task_queues_one_retrain(django_capture_on_commit_callbacks):
    from worker.tasks import retrain_periodically

    with django_capture_on_commit_callbacks(execute=False):
        run_id = retrain_periodically(feedback=True, dry_run=True)
    assert ExperimentRun.objects.get(id=run_id).params["dry_run"] is True


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_retrain_on_the_training_queue_counts_the_feedback_samples_it_learns(misread, alice, start_worker):
    upload, *_ = misread
    accepted(upload, alice, text="123 45")
    model_version_ensure_active()
    start_worker(queues="training")
    run = experiment_run_create(params={"limit": 300, "epochs": 1, "test_limit": 100})
    run = wait_for(lambda: ExperimentRun.objects.filter(id=run.id, status__in=["done", "failed"]).first(),
                   timeout=240, interval=0.5, what="retrain finished")
    assert run.status == "done", run.error + run.log
    assert ("2 feedback samples from accepted corrections: 1 digit, 1 not a digit; 1 left out "
            f"(upload {upload.id}: added 3 has no box)") in run.log
    assert run.results["feedback_digits"] == 1 and run.results["feedback_not_a_digit"] == 1
    assert run.results["train_samples"] == 302
