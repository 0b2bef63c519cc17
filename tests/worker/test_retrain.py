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
from tests.web.helpers import png_bytes, untranslated_log_lines, uploaded
from tests.worker.processes import wait_for
from web.errors import ApplicationError
from web.registry.estimate import MIN_MEASURED_WORK, retrain_basis
from web.registry.models import ExperimentRun, ModelVersion
from web.registry.services import experiment_run_create, model_version_ensure_active, train_params
from web.uploads.owners import Owner
from web.uploads.services import (
    feedback_create,
    feedback_set_accepted,
    upload_create,
)
from worker import holdout, training
from worker.tasks import recognize

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


def _corrected_uploads(owner, count: int) -> list:
    """``count`` uploads of "123 45" read by the (tiny, wrong) model, each corrected to what it shows and
    accepted as training data."""
    uploads = []
    for _ in range(count):
        upload = upload_create(owner=Owner(user=owner), image_file=uploaded(png_bytes()), source="upload")
        recognize(str(upload.id))
        upload.refresh_from_db()
        assert len(upload.digits) == 5, upload.lines
        feedback = feedback_create(upload=upload, owner=Owner(user=owner), operations=[
            {"op": "relabel", "index": i, "digit": d} for i, d in enumerate([1, 2, 3, 4, 5])])
        feedback_set_accepted(feedback_ids=[feedback.id], accepted=True)
        uploads.append(upload)
    return uploads


@pytest.mark.django_db
def test_accepted_feedback_becomes_labelled_training_digits_each_with_its_upload(alice):
    upload = upload_create(owner=Owner(user=alice), image_file=uploaded(png_bytes()), source="upload")
    recognize(str(upload.id))
    upload.refresh_from_db()
    feedback = feedback_create(upload=upload, owner=Owner(user=alice), operations=[
        {"op": "relabel", "index": i, "digit": 7} for i in range(len(upload.digits))])
    assert len(training.feedback_digits()) == 0  # not accepted yet
    feedback_set_accepted(feedback_ids=[feedback.id], accepted=True)
    samples = training.feedback_digits()
    assert isinstance(samples, training.FeedbackSamples)
    assert samples.images.shape == (len(upload.digits), 28, 28) and samples.images.dtype == torch.uint8
    assert samples.labels.dtype == torch.int64 and samples.labels.tolist() == [7] * len(upload.digits)
    assert samples.uploads == [str(upload.id)] * len(upload.digits) and int(samples.images.max()) > 200


def _samples(uploads: list[str], labels: list[int] | None = None) -> training.FeedbackSamples:
    n = len(uploads)
    return training.FeedbackSamples(
        images=torch.arange(n, dtype=torch.uint8).reshape(n, 1, 1).expand(n, 28, 28).clone(),
        labels=torch.tensor(labels or [i % 10 for i in range(n)], dtype=torch.int64), uploads=uploads)


def test_corrections_are_held_out_by_upload_the_same_way_every_time():
    uploads = [f"upload-{i // 3}" for i in range(240)]  # 80 uploads of 3 samples each (a uint8 index each)
    to_train, held = holdout.split_by_upload(_samples(uploads))
    again_train, again_held = holdout.split_by_upload(_samples(list(reversed(uploads))))
    assert len(to_train) + len(held) == 240 and set(held.uploads) == set(again_held.uploads)
    assert not set(held.uploads) & set(to_train.uploads)  # an upload's digits stay together
    assert 8 <= len(set(held.uploads)) <= 32  # about one upload in four
    # Each sample keeps its image and label on its side.
    assert held.images[:, 0, 0].tolist() == [i for i, u in enumerate(uploads) if u in set(held.uploads)]
    assert held.labels.tolist() == [i % 10 for i, u in enumerate(uploads) if u in set(held.uploads)]
    # A new upload never moves an old one from training to held out.
    more_train, more_held = holdout.split_by_upload(_samples(uploads + [f"new-{i}" for i in range(50)]))
    assert set(held.uploads) <= set(more_held.uploads)
    assert set(to_train.uploads) <= set(more_train.uploads)


def test_with_few_uploads_one_is_still_held_out_and_one_upload_alone_trains():
    pair = ["a", "b"] if holdout.upload_hash("a") >= 0.25 and holdout.upload_hash("b") >= 0.25 else None
    if pair is None:  # find two ids that both hash above the share: the fallback case
        ids = (f"id-{i}" for i in range(1000))
        pair = [i for i in ids if holdout.upload_hash(i) >= holdout.HELD_OUT_SHARE][:2]
    to_train, held = holdout.split_by_upload(_samples([pair[0], pair[0], pair[1]]))
    assert len(set(held.uploads)) == 1 and len(set(to_train.uploads)) == 1
    alone_train, alone_held = holdout.split_by_upload(_samples([pair[0]] * 4))
    assert len(alone_train) == 4 and len(alone_held) == 0
    empty_train, empty_held = holdout.split_by_upload(_samples([]))
    assert len(empty_train) == len(empty_held) == 0


def test_a_recipe_without_the_not_a_digit_output_trains_on_the_digits_only():
    samples = _samples(["a", "a", "b", "c"], labels=[3, 10, 10, 7])
    digits = holdout.digits_only(samples)
    assert digits.labels.tolist() == [3, 7] and digits.uploads == ["a", "c"]
    assert digits.images[:, 0, 0].tolist() == [0, 3]


def test_corrections_are_scored_per_class_with_not_a_digit_as_its_own_class(shipped_model, test_digits,
                                                                             tiny_checkpoint):
    images, labels = test_digits
    samples = training.FeedbackSamples(torch.from_numpy(images[:40]), torch.from_numpy(labels[:40]).long(),
                                       [f"u{i % 4}" for i in range(40)])
    scores = holdout.correction_scores(shipped_model.classifier, samples)
    assert scores["samples"] == 40 and scores["uploads"] == 4 and scores["correct"] >= 38
    assert sum(c["samples"] for c in scores["per_class"]) == 40 and len(scores["per_class"]) == 11
    # A blank box marked "not a digit": the served model has that output, a ten-output model is wrong.
    blank = training.FeedbackSamples(torch.zeros((1, 28, 28), dtype=torch.uint8), torch.tensor([10]), ["u"])
    assert holdout.correction_scores(shipped_model.classifier, blank)["per_class"][10] == {
        "label": 10, "samples": 1, "correct": 1}
    from ml.models.checkpoint import load_checkpoint

    ten_outputs = load_checkpoint(tiny_checkpoint).classifier
    assert holdout.correction_scores(ten_outputs, blank)["correct"] == 0


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
def test_only_an_uploads_newest_correction_teaches_and_only_once_it_is_accepted(misread, alice):
    upload, page, boxes, squiggle = misread
    accepted(upload, alice, text="123 45")
    assert len(training.feedback_digits()) == 2
    # The owner then types the model's reading back: "as read". The accepted correction it replaces
    # must not teach what its owner took back, accepted or not.
    feedback_create(upload=upload, owner=Owner(user=alice), text="17 450")
    assert len(training.feedback_digits()) == 0
    # A newer correction teaches once staff accept it, in place of the old one.
    accepted(upload, alice, text="12 45")
    samples = training.feedback_digits()
    assert samples.labels.tolist() == [2, NOT_A_DIGIT]


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


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_retrain_on_the_training_queue_is_judged_on_held_out_corrections_and_recorded_for_staff(
        client, start_worker, alice, django_user_model):
    active = model_version_ensure_active()  # the untrained tiny model: ~10% on MNIST
    _corrected_uploads(alice, 4)
    start_worker(queues="training")
    inference = start_worker(queues="inference")
    run = experiment_run_create(params=TINY_RUN)
    assert run.estimate["seconds"] > 0 and run.estimate["runs"] == []  # from the shipped card's figures
    run = wait_for(lambda: ExperimentRun.objects.filter(id=run.id, status__in=["done", "failed"]).first(),
                   timeout=240, interval=0.5, what="retrain finished")
    assert run.status == "done", run.error + run.log
    results, data = run.results, run.results["data"]
    # 4 uploads × 5 corrected digits, split by upload: at least one upload held out, at least one trained on.
    assert data["corrections"] + data["held_out"] == 20 and data["held_out"] % 5 == 0
    assert data["held_out_uploads"] >= 1 and data["correction_uploads"] >= 1 and data["mnist"] == 1000
    assert results["train_samples"] == 1000 + data["corrections"] and results["epochs"] == 1
    scores = results["scores"]
    assert scores["mnist_new"]["samples"] == scores["mnist_active"]["samples"] == 500
    assert scores["held_new"]["samples"] == scores["held_active"]["samples"] == data["held_out"]
    assert scores["mnist_new"]["correct"] > scores["mnist_active"]["correct"]  # 1 epoch beats untrained
    decision = results["decision"]
    better_on_corrections = scores["held_new"]["correct"] > scores["held_active"]["correct"]
    assert decision["promoted"] is better_on_corrections is results["promoted"]
    assert decision["rule"] == ("better" if better_on_corrections else "not_better_on_corrections")
    assert ("Not promoted: not better on the held-out corrections" in run.log) is not better_on_corrections
    assert run.progress == 1.0 and "epoch 1/1" in run.log and "held-out corrections from" in run.log
    assert untranslated_log_lines(run) == []  # the log on the run's page reads in Chinese too
    version = run.model_version
    assert version.name == f"cnn-run{run.id}" and version.metrics["accuracy"] == results["accuracy"]
    assert version.training["data_summary"]["corrections"] == data["corrections"]
    now_active = ModelVersion.objects.get(is_active=True)
    assert now_active == (version if decision["promoted"] else active)

    # It recorded what later estimates are measured from; a run this small is not used for that.
    assert results["fit_seconds"] > 0 and results["seconds"] > results["fit_seconds"]
    assert results["train_samples"] * results["epochs"] < MIN_MEASURED_WORK
    assert retrain_basis("served").runs == []

    # Staff read it as tables, in words.
    client.force_login(django_user_model.objects.create_superuser("staff", password="x-long-password-9"))
    page = client.get(f"/admin/registry/experimentrun/{run.id}/change/").content.decode()
    for table in ("run-accuracy", "run-mnist-classes", "run-held-classes"):
        assert f'id="{table}"' in page
    assert f"MNIST training set, a random 1,000 images + {data['corrections']} accepted corrections" in page
    assert f"{data['held_out']} accepted corrections from {data['held_out_uploads']} uploads" in page
    assert "run-decision" in page and ("Not promoted" in page) is not decision["promoted"]

    response = client.post("/api/v1/recognitions/", {"image": SimpleUploadedFile("d.png", png_bytes())})
    url = response.json()["url"]
    data = wait_for(lambda: (d := client.get(url).json())["status"] in ("done", "failed") and d,
                    timeout=60, what=f"upload finished\n{inference.output()}")
    assert data["model_version"] == now_active.name


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
def test_a_retrain_on_the_training_queue_counts_the_feedback_samples_it_learns(misread, alice,
                                                                               start_worker):
    upload, *_ = misread
    accepted(upload, alice, text="123 45")
    model_version_ensure_active()
    start_worker(queues="training")
    run = experiment_run_create(params={"limit": 300, "epochs": 1, "test_limit": 100})
    run = wait_for(lambda: ExperimentRun.objects.filter(id=run.id, status__in=["done", "failed"]).first(),
                   timeout=240, interval=0.5, what="retrain finished")
    assert run.status == "done", run.error + run.log
    assert ("2 samples from accepted corrections: 1 digit, 1 not a digit; 1 left out "
            f"(upload {upload.id}: added 3 has no box)") in run.log
    data = run.results["data"]
    counted = (data["samples"], data["sample_digits"], data["sample_not_a_digit"], data["left_out"])
    assert counted == (2, 1, 1, 1)
    # One upload: trained on whole, or held out whole to judge on (worker.holdout, by its id's hash).
    assert data["corrections"] + data["held_out"] == 2
    assert run.results["feedback_not_a_digit"] == (1 if data["corrections"] else 0)
    assert run.results["train_samples"] == 300 + data["corrections"]
