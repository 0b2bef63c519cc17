"""Retraining: parameters, feedback digits as training data, the admin's start button, and a real run on
the training queue whose version a running inference worker then uses."""

from __future__ import annotations

import pytest
import torch
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.web.helpers import png_bytes, uploaded
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
from web.uploads.services import feedback_create, feedback_set_accepted, upload_create
from worker import training
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


@pytest.mark.django_db
def test_accepted_feedback_becomes_labelled_training_digits(alice):
    upload = upload_create(owner=Owner(user=alice), image_file=uploaded(png_bytes()), source="upload")
    recognize(str(upload.id))
    upload.refresh_from_db()
    corrected = " ".join("7" * len(line) for line in upload.lines)
    feedback = feedback_create(upload=upload, owner=Owner(user=alice), text=corrected)
    assert training.feedback_digits()[0].shape[0] == 0  # not accepted yet
    feedback_set_accepted(feedback_ids=[feedback.id], accepted=True)
    images, labels = training.feedback_digits()
    assert images.shape == (len(upload.digits), 28, 28) and images.dtype == torch.uint8
    assert labels.tolist() == [7] * len(upload.digits) and int(images.max()) > 200


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
