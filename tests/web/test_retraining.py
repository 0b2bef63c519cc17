"""Retraining as staff drive it: the typed add form with its estimate, progress in percent, the promotion
rule and its reason, results as tables, and no machine path on any page they read."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from ml.training.recipes import MEASURED_TRAINING
from web.registry.estimate import EVAL_SECONDS_PER_IMAGE, SETUP_SECONDS, retrain_basis, retrain_estimate
from web.registry.models import ExperimentRun, ModelVersion
from web.registry.params import train_params
from web.registry.promotion import Score, decide
from web.registry.services import (
    experiment_run_finish,
    experiment_run_report,
    experiment_run_start,
    model_version_promote_if_better,
)

pytestmark = pytest.mark.django_db

ADD = "/admin/registry/experimentrun/add/"
PROGRESS = "/admin/registry/experimentrun/progress/"
ESTIMATE = "/admin/registry/experimentrun/estimate/"
# What a path of the machine that trained looks like: its folders, or a checkpoint file.
MACHINE_PATH = re.compile(r"var/|/srv/|\.\./|/tmp/|shared/datasets|/home/|[\w.-]+\.pth?\b")


@pytest.fixture
def staff_client(django_user_model):
    """Its own client: ``alice_client`` and ``client`` share pytest-django's."""
    from django.test import Client

    staff = Client()
    staff.force_login(django_user_model.objects.create_superuser("staff", password="x-long-password-9"))
    return staff


def open_run(**params) -> ExperimentRun:
    """A retrain as queued (the row, not sent to a broker: these tests run no worker)."""
    return ExperimentRun.objects.create(kind="train", params=train_params(params),
                                        estimate=retrain_estimate(params=train_params(params)).as_dict())


# --- the add form -------------------------------------------------------------------------------------

def test_the_add_form_asks_for_each_option_with_help_and_shows_an_estimate_before_submitting(staff_client):
    html = staff_client.get(ADD).content.decode()
    for name in ("recipe", "epochs", "limit", "test_limit", "seed", "feedback", "dry_run"):
        assert f'name="{name}"' in html, name
    assert 'name="params"' not in html  # no JSON box
    for words in ("passes over the training images; blank: the recipe's own (served 13, thesis 10)",
                  "random subset of this many of MNIST", "held out instead, to judge the new model on",
                  "two batches of one epoch"):
        assert words in html, words
    assert 'id="retrain-estimate"' in html and f'data-estimate-url="{ESTIMATE}"' in html
    default = retrain_estimate(params=train_params({}))
    assert f"{int(default.seconds // 60)} min" in html and "shipped model card" in html
    assert "1,596.9 s for 13 epochs × 60,000 images" in html


def test_the_form_queues_a_retrain_with_the_typed_params_and_records_its_estimate(
        staff_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = staff_client.post(ADD, {"recipe": "thesis", "epochs": "2", "limit": "1000",
                                           "test_limit": "500", "seed": "3", "feedback": "on"})
    assert response.status_code == 302, response.content.decode()[:3000]
    run = ExperimentRun.objects.get()
    assert run.kind == "train" and run.status == "queued" and run.created_by.username == "staff"
    assert run.params == {"recipe": "thesis", "epochs": 2, "limit": 1000, "test_limit": 500, "seed": 3,
                          "dry_run": False, "feedback": True}
    assert run.estimate["seconds"] == round(retrain_estimate(params=run.params).seconds, 1)
    estimate = run.estimate
    assert (estimate["epochs"], estimate["train_images"], estimate["recipe"]) == (2, 1000, "thesis")
    assert len(callbacks) == 1


@pytest.mark.parametrize(("fields", "words"), [
    ({"epochs": "0"}, "greater than or equal to 1"),
    ({"limit": "all"}, "Enter a whole number"),
    ({"recipe": "fastest"}, "Select a valid choice"),
    ({"seed": ""}, "This field is required"),
    ({"limit": "70000"}, "less than or equal to 60000"),
])
def test_bad_fields_are_refused_at_once_with_the_form_kept(staff_client, fields, words):
    data = {"recipe": "served", "seed": "0", "epochs": "5", **fields}
    response = staff_client.post(ADD, data)
    html = response.content.decode()
    assert response.status_code == 200 and words in html and ExperimentRun.objects.count() == 0
    assert 'value="5"' in html or fields.get("epochs") == "0"  # what was typed is still there


# --- the estimate -------------------------------------------------------------------------------------

def test_the_estimate_follows_the_recipe_the_epochs_and_the_subset():
    served = MEASURED_TRAINING["served"].seconds_per_image_epoch
    base = retrain_estimate(params=train_params({"feedback": False}))
    assert base.seconds == pytest.approx(served * 60_000 * 13 + 2 * EVAL_SECONDS_PER_IMAGE * 10_000
                                         + SETUP_SECONDS)
    assert base.basis.runs == [] and base.epochs == 13 and base.train_images == 60_000
    double = retrain_estimate(params=train_params({"feedback": False, "epochs": 26}))
    assert double.seconds - base.seconds == pytest.approx(served * 60_000 * 13)
    small = retrain_estimate(params=train_params({"feedback": False, "limit": 6000, "test_limit": 1000}))
    assert small.seconds == pytest.approx(served * 6000 * 13 + 2 * EVAL_SECONDS_PER_IMAGE * 1000
                                          + SETUP_SECONDS)
    thesis = retrain_estimate(params=train_params({"feedback": False, "recipe": "thesis"}))
    assert thesis.epochs == 10 and thesis.seconds == pytest.approx(
        MEASURED_TRAINING["thesis"].seconds_per_image_epoch * 60_000 * 10
        + 2 * EVAL_SECONDS_PER_IMAGE * 10_000 + SETUP_SECONDS)
    dry = retrain_estimate(params=train_params({"dry_run": True}))
    assert dry.epochs == 1 and dry.test_images == 500 and dry.seconds < 10  # measured: 5 to 8 s
    with_corrections = retrain_estimate(params=train_params({}), corrections=600)
    assert with_corrections.train_images == 60_600 and with_corrections.seconds > base.seconds


def finished_retrain(*, recipe: str = "served", fit: float, samples: int, epochs: int, seconds: float,
                     dry_run: bool = False) -> ExperimentRun:
    run = ExperimentRun.objects.create(kind="train", status="done", finished=timezone.now(),
                                       params=train_params({"recipe": recipe, "dry_run": dry_run}))
    run.results = {"fit_seconds": fit, "train_samples": samples, "epochs": epochs, "seconds": seconds,
                   "test_samples": 1000}
    run.save()
    return run


def test_the_estimate_rests_on_the_last_finished_retrains_here_once_there_are_some():
    first = finished_retrain(fit=100.0, samples=10_000, epochs=2, seconds=130.0)
    second = finished_retrain(fit=300.0, samples=10_000, epochs=3, seconds=330.0)
    finished_retrain(fit=1.0, samples=256, epochs=1, seconds=20.0, dry_run=True)  # not a measure of speed
    finished_retrain(recipe="thesis", fit=50.0, samples=10_000, epochs=2, seconds=60.0)  # another recipe
    finished_retrain(fit=30.0, samples=1_000, epochs=1, seconds=45.0)  # too small to measure the rate by
    basis = retrain_basis("served")
    assert sorted(basis.runs) == [first.id, second.id]
    assert basis.seconds_per_image_epoch == pytest.approx(400.0 / 50_000)
    assert basis.setup_seconds == pytest.approx(30.0 - 2 * EVAL_SECONDS_PER_IMAGE * 1000)
    assert "last 2 finished retrains with this recipe here" in basis.text()
    estimate = retrain_estimate(params=train_params({"feedback": False, "epochs": 1}))
    assert estimate.basis == basis and estimate.seconds == pytest.approx(
        400.0 / 50_000 * 60_000 + 2 * EVAL_SECONDS_PER_IMAGE * 10_000 + basis.setup_seconds)
    assert retrain_basis("thesis").seconds_per_image_epoch == pytest.approx(50.0 / 20_000)


def test_the_estimate_endpoint_answers_the_forms_fields_for_staff_only(staff_client, alice_client):
    answer = staff_client.get(ESTIMATE, {"recipe": "served", "epochs": "26", "seed": "0"}).json()
    assert answer["seconds"] == round(retrain_estimate(params=train_params({"epochs": 26})).seconds, 1)
    assert "26 epochs × 60,000 training images" in answer["detail"]
    assert "shipped model card" in answer["basis"]
    bad = staff_client.get(ESTIMATE, {"recipe": "served", "epochs": "0", "seed": "0"})
    assert bad.status_code == 400 and "greater than or equal to 1" in bad.json()["error"]["message"]
    assert alice_client.get(ESTIMATE, {"recipe": "served"}).status_code == 302  # to the admin's login


# --- progress -----------------------------------------------------------------------------------------

def test_the_progress_endpoint_is_staff_only_and_reports_percent_and_times(staff_client, alice_client,
                                                                           client):
    run = open_run(epochs=1)
    queued = staff_client.get(PROGRESS, {"ids": str(run.id)}).json()["runs"][0]
    assert queued["status"] == "queued" and queued["open"] is True and queued["percent"] == 0
    assert "waiting for the training worker" in queued["text"]
    assert queued["estimate_s"] == run.estimate["seconds"]
    experiment_run_start(run_id=run.id)
    experiment_run_report(run_id=run.id, progress=0.11225504533489325)
    running = staff_client.get(PROGRESS, {"ids": f"{run.id},999999"}).json()["runs"]
    assert len(running) == 1 and running[0]["percent"] == 11 and running[0]["percent_text"] == "11 %"
    assert running[0]["status"] == "running"
    assert "running for" in running[0]["text"] and "left" in running[0]["text"]
    assert running[0]["remaining_s"] is not None and running[0]["elapsed_s"] >= 0
    experiment_run_finish(run_id=run.id, results={})
    done = staff_client.get(PROGRESS, {"ids": str(run.id)}).json()["runs"][0]
    assert done["open"] is False and done["percent"] == 100 and "finished in" in done["text"]
    assert staff_client.get(PROGRESS, {"ids": "x"}).status_code == 400
    for outsider in (alice_client, client.__class__()):
        response = outsider.get(PROGRESS, {"ids": str(run.id)})
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_run_page_and_list_show_percent_not_a_fraction_and_poll_only_while_open(staff_client):
    run = open_run(epochs=1)
    experiment_run_start(run_id=run.id)
    experiment_run_report(run_id=run.id, progress=0.11225504533489325)
    for url in ("/admin/registry/experimentrun/", f"/admin/registry/experimentrun/{run.id}/change/"):
        html = staff_client.get(url).content.decode()
        assert "0.1122" not in html and "11 %" in html and f'data-run-progress="{run.id}"' in html
        assert 'data-open="1"' in html and "registry/runs.js" in html
        assert f'data-progress-url="{PROGRESS}"' in html
    experiment_run_finish(run_id=run.id, results={})
    html = staff_client.get(f"/admin/registry/experimentrun/{run.id}/change/").content.decode()
    assert 'data-open="0"' in html and 'data-open="1"' not in html and "100 %" in html


# --- the promotion rule -------------------------------------------------------------------------------

MNIST = Score(correct=9_950, samples=10_000)


@pytest.mark.parametrize(("mnist_new", "held_new", "held_active", "promoted", "rule", "words"), [
    (MNIST, Score(9, 12), Score(7, 12), True, "better",
     "Promoted: better on the held-out corrections (9 of 12"),
    (Score(9_960, 10_000), Score(7, 12), Score(7, 12), False, "not_better_on_corrections",
     "a tie is not better"),
    (Score(9_949, 10_000), Score(12, 12), Score(7, 12), False, "worse_on_mnist",
     "Not promoted: worse on MNIST (9,949 of 10,000 (99.49 %) read right, against 9,950 of 10,000"),
    (Score(9_949, 10_000), Score(6, 12), Score(7, 12), False, "not_better_on_either", "and worse on MNIST"),
    (MNIST, Score(0, 0), Score(0, 0), False, "no_held_out_not_better_on_mnist",
     "no held-out corrections to judge on, so it had to be strictly better on MNIST, and it is not"),
    (Score(9_951, 10_000), Score(0, 0), Score(0, 0), True, "no_held_out_better_on_mnist", "and it is (9,951"),
])
def test_a_new_model_is_promoted_only_when_better_on_the_corrections_and_not_worse_on_mnist(
        mnist_new, held_new, held_active, promoted, rule, words):
    from web.registry.services import model_version_ensure_active

    active = model_version_ensure_active()
    new = ModelVersion.objects.create(name="cnn-new", checkpoint="models/cnn-new.pt", sha256="f" * 64,
                                      family="cnn", preprocess_signature=active.preprocess_signature)
    decision = model_version_promote_if_better(version=new, mnist_new=mnist_new, mnist_active=MNIST,
                                               held_new=held_new, held_active=held_active)
    assert (decision.promoted, decision.rule) == (promoted, rule) and words in decision.reason()
    assert ModelVersion.objects.get(is_active=True) == (new if promoted else active)


def test_with_no_active_model_to_compare_with_the_new_one_is_promoted():
    decision = decide(mnist_new=Score(10, 100), mnist_active=None, held_new=Score(0, 0), held_active=None)
    assert decision.promoted and "no active model to compare with" in decision.reason()


def retrain_results(decision) -> dict:
    """What worker.tasks records for a finished retrain, around ``decision``."""
    per_class = (lambda n, right: [{"label": c, "samples": n, "correct": right} for c in range(10)])
    return {
        "promoted": decision.promoted, "decision": decision.as_dict(), "active_version": "digitscan-cnn",
        "accuracy": 0.995, "baseline_accuracy": 0.995, "seconds": 95.0, "fit_seconds": 80.0,
        "train_samples": 1041, "epochs": 1, "test_samples": 1000,
        "data": {"mnist": 1000, "mnist_test": 1000, "corrections": 41, "correction_uploads": 9,
                 "held_out": 12, "held_out_uploads": 3, "not_a_digit_left_out": 0, "feedback": True},
        "scores": {"mnist_new": {"samples": 1000, "correct": 995, "per_class": per_class(100, 99)},
                   "mnist_active": {"samples": 1000, "correct": 995, "per_class": per_class(100, 99)},
                   "held_new": {"samples": 12, "correct": 7, "uploads": 3, "per_class": [
                       {"label": 3, "samples": 8, "correct": 5}, {"label": 10, "samples": 4, "correct": 2}]},
                   "held_active": {"samples": 12, "correct": 7, "uploads": 3, "per_class": [
                       {"label": 3, "samples": 8, "correct": 6}, {"label": 10, "samples": 4, "correct": 1}]}},
    }


def test_a_finished_retrain_shows_its_results_as_tables_and_the_reason_for_its_decision(staff_client):
    run = open_run(limit=1000, test_limit=1000)
    experiment_run_start(run_id=run.id)
    decision = decide(mnist_new=Score(995, 1000), mnist_active=Score(995, 1000), held_new=Score(7, 12),
                      held_active=Score(7, 12))
    experiment_run_finish(run_id=run.id, results=retrain_results(decision))
    html = staff_client.get(f"/admin/registry/experimentrun/{run.id}/change/").content.decode()
    for text in ("MNIST training set, a random 1,000 images + 41 accepted corrections",
                 "12 accepted corrections from 3 uploads, held out from training",
                 "Not promoted: not better on the held-out corrections (7 of 12 (58.33 %) read right",
                 "a tie is not better", "before: the active model (digitscan-cnn)", "after: the new model",
                 "not a digit", "+0.00 points", "served (the model DigitScan serves)", "a random 1,000",
                 'id="run-held-classes"'):
        assert text in html, text
    assert '"decision"' not in html and "{&quot;" not in html  # no raw JSON


# --- no machine paths -----------------------------------------------------------------------------------

def test_no_page_staff_or_visitors_read_shows_a_path_of_the_machine_that_trained(staff_client, client):
    """The Model page, the model versions' and the runs' admin pages, with versions whose recorded
    training names the folders and files of the machine that trained them."""
    shipped = ModelVersion.objects.create(
        name="reject5-s0", checkpoint="models/reject5-s0-0123456789ab.pt", sha256="a" * 64, family="cnn",
        preprocess_signature="50f03a26d6106d8d", is_active=True, config={"reject": True},
        metrics={"accuracy": 0.9966, "per_class_accuracy": [0.99] * 10, "samples": 10000},
        training={"command": "python -m ml train --out var/ck/reject5-s0.pt --seed 0", "recipe": "served",
                  "seed": 0, "seconds": 1596.9, "machine": "x86_64, 2 torch threads",
                  "train_config": {"epochs": 13},
                  "data": {"source": "../shared/datasets/mnist", "samples": 60000}})
    retrained = ModelVersion.objects.create(
        name="cnn-run7", checkpoint="models/cnn-run7-0123456789ab.pt", sha256="b" * 64, family="cnn",
        preprocess_signature="50f03a26d6106d8d", metrics={"accuracy": 0.99},
        training={"command": "DigitScan retrain (ExperimentRun #7)", "recipe": "served", "seed": 0,
                  "data": {"source": "/srv/x/shared/datasets/mnist (random 1000) + 41 accepted corrections",
                           "samples": 1041},
                  "data_summary": {"mnist": 1000, "corrections": 41}})
    run = open_run(limit=1000)
    experiment_run_start(run_id=run.id)
    decision = decide(mnist_new=Score(995, 1000), mnist_active=Score(990, 1000), held_new=Score(9, 12),
                      held_active=Score(7, 12))
    experiment_run_finish(run_id=run.id, results=retrain_results(decision), version=retrained)
    pages = {
        "/model/": client, "/admin/registry/modelversion/": staff_client,
        f"/admin/registry/modelversion/{shipped.id}/change/": staff_client,
        f"/admin/registry/modelversion/{retrained.id}/change/": staff_client,
        "/admin/registry/experimentrun/": staff_client, f"/admin/registry/experimentrun/{run.id}/change/":
            staff_client, ADD: staff_client,
    }
    for url, who in pages.items():
        response = who.get(url)
        html = response.content.decode()
        assert response.status_code == 200, url
        assert MACHINE_PATH.findall(html) == [], url
    model_page = client.get("/model/").content.decode()
    assert "MNIST training set, 60,000 images" in model_page and "python -m ml train --seed 0" in model_page
    assert "cnn-run7" not in model_page  # never active, read nothing: staff's record only (admin)
    version_page = staff_client.get(f"/admin/registry/modelversion/{retrained.id}/change/").content.decode()
    assert "retrain #7 on this site" in version_page
    assert "MNIST training set, a random 1,000 images + 41 accepted corrections" in version_page


def test_a_version_trained_on_a_real_sets_boxes_says_so_in_either_language_without_its_folder():
    from django.utils import translation

    from web.registry.words import version_data_text

    source = "/srv/x/../shared/datasets/mnist + 6245 real boxes of real-photos-more × 5"
    training = {"data": {"source": source, "samples": 66245}}
    with translation.override("en"):
        assert version_data_text(training) == (
            "MNIST training set, 60,000 images + 1,249 boxes read in the real set real-photos-more")
    with translation.override("zh-hans"):
        assert version_data_text(training) == (
            "MNIST 训练集，60,000 张图片 + 真实图像集 real-photos-more 中读出的 1,249 个框")
