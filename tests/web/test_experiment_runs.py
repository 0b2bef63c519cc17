"""Benchmark and ablation runs: their parameters, one of a kind at a time, admin forms, schedules."""

from __future__ import annotations

import logging

import pytest
from django.db import IntegrityError, transaction

from web.errors import ApplicationError
from web.registry.models import ExperimentRun
from web.registry.params import ablation_params, benchmark_params, train_params
from web.registry.services import experiment_run_create

pytestmark = pytest.mark.django_db

TINY_BENCHMARK = {"families": "logreg,cnn", "limit": 300, "epochs": 1}
TINY_ABLATION = {"studies": "pool", "limit": 300, "epochs": 1, "seeds": 2}


@pytest.fixture
def staff_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("staff", password="x-long-password-9"))
    return client


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, int]]:
    """(task name, run id) of every run queued, instead of sending it to the broker."""
    from web.registry import services

    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(services, "enqueue", lambda name, run_id: calls.append((name, run_id)))
    return calls


def test_params_are_stored_complete_with_lists_from_comma_separated_names():
    params = benchmark_params(TINY_BENCHMARK)
    assert params == {"families": ["logreg", "cnn"], "limit": 300, "epochs": 1, "seed": 0, "dry_run": False}
    params = ablation_params({"studies": ["pool", "dropout", "pool"]})
    assert params["studies"] == ["pool", "dropout"] and params["epochs"] == 10 and params["seeds"] == 3


@pytest.mark.parametrize(("check", "params", "words"), [
    (benchmark_params, {"families": "logreg,nope"}, "unknown families: nope (choose from logreg, mlp"),
    (benchmark_params, {"epochs": 0}, "epochs must be a positive integer"),
    (benchmark_params, {"models": "cnn"}, "unknown benchmark parameters: models"),
    (ablation_params, {"studies": "pool,depth"}, "unknown studies: depth (choose from pool, layers"),
    (ablation_params, {"seeds": "3"}, "seeds must be a positive integer, not '3'"),
    (ablation_params, {"dry_run": "yes"}, "dry_run must be true or false"),
])
def test_bad_params_are_refused_with_a_message_that_says_which(check, params, words):
    with pytest.raises(ApplicationError, match=words.replace("(", r"\(")):
        check(params)


def test_each_kind_is_queued_to_its_own_task_after_the_commit(sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        benchmark = experiment_run_create(kind="benchmark", params=TINY_BENCHMARK)
        ablation = experiment_run_create(kind="ablate", params=TINY_ABLATION)
        train = experiment_run_create(params={"dry_run": True})
    assert sent == [("worker.tasks.run_benchmark", benchmark.id), ("worker.tasks.run_ablation", ablation.id),
                    ("worker.tasks.train_model", train.id)]
    assert benchmark.params["families"] == ["logreg", "cnn"] and ablation.params["studies"] == ["pool"]


def test_a_second_benchmark_is_refused_while_one_is_queued_or_running(sent):
    first = experiment_run_create(kind="benchmark", params=TINY_BENCHMARK)
    for status in ("queued", "running"):
        ExperimentRun.objects.filter(id=first.id).update(status=status)
        busy = rf"already queued or running \(#{first.id}, {status}"
        with pytest.raises(ApplicationError, match=busy) as exc:
            experiment_run_create(kind="benchmark", params=TINY_BENCHMARK)
        assert exc.value.code == "busy"
    experiment_run_create(kind="ablate", params=TINY_ABLATION)  # another kind may run beside it
    ExperimentRun.objects.filter(id=first.id).update(status="done")
    experiment_run_create(kind="benchmark", params=TINY_BENCHMARK)  # free again once it finished
    assert ExperimentRun.objects.filter(kind="benchmark").count() == 2


def test_retrains_are_not_limited_to_one_at_a_time(sent):
    experiment_run_create(params={"dry_run": True})
    experiment_run_create(params={"dry_run": True})
    assert ExperimentRun.objects.filter(kind="train", status="queued").count() == 2


def test_the_database_itself_refuses_a_second_open_run_of_a_kind():
    ExperimentRun.objects.create(kind="ablate", status="running")
    with pytest.raises(IntegrityError), transaction.atomic():
        ExperimentRun.objects.create(kind="ablate", status="queued")
    ExperimentRun.objects.create(kind="ablate", status="failed")  # closed runs are not counted


def test_staff_start_a_benchmark_from_its_admin_form(staff_client, django_capture_on_commit_callbacks):
    url = "/admin/registry/benchmarkrun/add/"
    form = staff_client.get(url).content.decode()
    assert 'name="families"' in form and 'name="limit"' in form and 'name="epochs"' in form
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = staff_client.post(url, {"families": ["logreg", "cnn"], "limit": "300", "epochs": "1",
                                           "seed": "0"})
    assert response.status_code == 302, response.content.decode()[:3000]
    run = ExperimentRun.objects.get()
    assert run.kind == "benchmark" and run.created_by.username == "staff" and len(callbacks) == 1
    assert run.params == {"families": ["logreg", "cnn"], "limit": 300, "epochs": 1, "seed": 0,
                          "dry_run": False}
    again = staff_client.post(url, {"families": ["logreg"], "seed": "0"})
    assert again.status_code == 200 and "already queued or running" in again.content.decode()
    for page in ("/admin/registry/benchmarkrun/", f"/admin/registry/benchmarkrun/{run.id}/change/"):
        assert staff_client.get(page).status_code == 200, page


def test_staff_start_an_ablation_from_its_admin_form(staff_client, django_capture_on_commit_callbacks):
    url = "/admin/registry/ablationrun/add/"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = staff_client.post(url, {"studies": ["pool"], "limit": "300", "epochs": "1", "seeds": "2",
                                           "seed0": "0"})
    assert response.status_code == 302, response.content.decode()[:3000]
    run = ExperimentRun.objects.get()
    assert run.kind == "ablate" and len(callbacks) == 1
    assert run.params == {"studies": ["pool"], "limit": 300, "epochs": 1, "seeds": 2, "seed0": 0,
                          "dry_run": False}
    bad = staff_client.post(url, {"studies": ["depth"], "epochs": "1", "seeds": "0", "seed0": "0"})
    assert bad.status_code == 200 and ExperimentRun.objects.count() == 1
    assert staff_client.get("/admin/registry/ablationrun/").status_code == 200


def test_staff_mark_a_run_whose_worker_is_gone_failed_and_may_start_another(staff_client, sent):
    stuck = experiment_run_create(kind="benchmark", params=TINY_BENCHMARK)
    ExperimentRun.objects.filter(id=stuck.id).update(status="running")
    staff_client.post("/admin/registry/experimentrun/", {"action": "abandon", "_selected_action": [stuck.id]})
    stuck.refresh_from_db()
    assert stuck.status == "failed" and "marked failed by staff" in stuck.error
    experiment_run_create(kind="benchmark", params=TINY_BENCHMARK)


def test_weekly_benchmark_and_monthly_ablation_schedules_exist_disabled():
    from django_celery_beat.models import PeriodicTask

    benchmark = PeriodicTask.objects.get(task="worker.tasks.benchmark_periodically")
    ablation = PeriodicTask.objects.get(task="worker.tasks.ablate_periodically")
    assert benchmark.crontab.day_of_week == "6" and ablation.crontab.day_of_month == "1"
    for task in (benchmark, ablation):
        assert task.enabled is False and task.queue == "training"


def test_a_scheduled_study_is_skipped_with_a_log_line_while_one_runs(sent, caplog):
    from worker.tasks import ablate_periodically, benchmark_periodically

    run_id = benchmark_periodically(**TINY_BENCHMARK)
    assert ExperimentRun.objects.get(id=run_id).params["families"] == ["logreg", "cnn"]
    with caplog.at_level(logging.WARNING, logger="worker.tasks"):
        assert benchmark_periodically(**TINY_BENCHMARK) is None
    assert "scheduled benchmark skipped: a benchmark run is already queued or running" in caplog.text
    assert ablate_periodically(**TINY_ABLATION) is not None
    assert ExperimentRun.objects.count() == 2


def test_a_retrain_still_runs_through_the_shared_job_wrapper():
    from web.registry.services import model_version_ensure_active
    from worker.tasks import train_model

    model_version_ensure_active()
    run = ExperimentRun.objects.create(kind="train", params=train_params(
        {"dry_run": True, "limit": 300, "test_limit": 200, "epochs": 1, "feedback": False}))
    assert train_model(run.id) in ("promoted", "kept")
    run.refresh_from_db()
    assert run.status == "done" and run.model_version is not None and run.progress == 1.0


def test_a_run_given_to_the_wrong_task_or_killed_at_the_hard_limit_is_failed_with_the_reason():
    from celery.exceptions import TimeLimitExceeded

    from worker.tasks import run_ablation, run_benchmark

    run = ExperimentRun.objects.create(kind="benchmark", params={})
    assert run_ablation(run.id) == "failed"
    run.refresh_from_db()
    assert run.status == "failed"
    assert run.error == f"run #{run.id} is a benchmark run; this task runs ablate runs"
    other = ExperimentRun.objects.create(kind="ablate", status="running", params={})
    run_benchmark.on_failure(TimeLimitExceeded(3060), "task-id", (other.id,), {}, None)
    other.refresh_from_db()
    assert other.status == "failed" and other.error == "killed after the hard time limit of 3060 s"


def test_studies_have_their_own_long_limit_and_are_acknowledged_on_receipt(settings):
    from web.celery import app
    from worker.tasks import run_ablation, run_benchmark, train_model

    assert settings.DIGITSCAN_STUDY_TIME_LIMIT_S == 48 * 3600 and settings.DIGITSCAN_RUN_STALE_AFTER_S == 1800
    app.finalize()  # tasks take acks_late and friends from the configuration when the app is finalized
    for study in (run_benchmark, run_ablation):
        assert study.soft_time_limit == settings.DIGITSCAN_STUDY_TIME_LIMIT_S
        assert study.time_limit == settings.DIGITSCAN_STUDY_TIME_LIMIT_S + 60
        # Never delivered twice: not acknowledged late, not requeued when its process dies.
        assert study.acks_late is False and study.reject_on_worker_lost is False
    # A retrain keeps the shared limit and the app's delivery guarantees.
    assert train_model.soft_time_limit == settings.DIGITSCAN_TRAIN_TIME_LIMIT_S
    assert train_model.acks_late is True and train_model.reject_on_worker_lost is True
    # Sent by a process that has the task (beat, a worker), the limits travel in the message; sent by
    # name from the site, the worker applies these same ones.
    assert run_ablation._get_exec_options()["soft_time_limit"] == settings.DIGITSCAN_STUDY_TIME_LIMIT_S
    # The reaper runs on beat's schedule, on the inference queue (the training worker is the one gone).
    assert settings.CELERY_BEAT_SCHEDULE["reap-stuck-runs"]["task"] == "worker.tasks.reap_stuck_runs"
    assert settings.CELERY_TASK_ROUTES["worker.tasks.reap_stuck_runs"]["queue"] == "inference"


def test_a_study_whose_worker_stopped_reporting_is_failed_by_the_reaper_and_frees_its_kind(sent, caplog):
    import datetime as dt

    from django.utils import timezone

    from worker.tasks import reap_stuck_runs

    now = timezone.now()
    ago, seen = now - dt.timedelta(hours=5), now - dt.timedelta(minutes=31)
    stale = ExperimentRun.objects.create(kind="benchmark", status="running", started=ago, heartbeat=seen)
    fresh = ExperimentRun.objects.create(kind="ablate", status="running", started=ago,
                                         heartbeat=now - dt.timedelta(minutes=29))
    # A retrain is left to the broker, which delivers it again when its worker died.
    retrain = ExperimentRun.objects.create(kind="train", status="running", started=ago, heartbeat=seen)
    with caplog.at_level(logging.WARNING, logger="worker.tasks"):
        assert reap_stuck_runs() == {"failed": 1}
    assert f"#{stale.id}" in caplog.text

    stale.refresh_from_db()
    assert stale.status == "failed" and stale.finished is not None
    assert stale.error == (f"the worker stopped reporting at {seen:%Y-%m-%d %H:%M} UTC (31 minutes before "
                           "this check) — it probably died; start the run again")
    assert ExperimentRun.objects.get(id=fresh.id).status == "running"
    assert ExperimentRun.objects.get(id=retrain.id).status == "running"
    # The benchmark's slot is free again; the ablation that still reports keeps its own.
    assert experiment_run_create(kind="benchmark", params=TINY_BENCHMARK).status == "queued"
    with pytest.raises(ApplicationError, match="an ablation run is already queued or running"):
        experiment_run_create(kind="ablate", params=TINY_ABLATION)

    # A run with no heartbeat at all (started before there was one) is judged by its start.
    ExperimentRun.objects.filter(id=fresh.id).update(heartbeat=None, started=now - dt.timedelta(hours=1))
    assert reap_stuck_runs() == {"failed": 1}
    assert "stopped reporting" in ExperimentRun.objects.get(id=fresh.id).error
    assert reap_stuck_runs() == {"failed": 0}


def test_starting_and_reporting_move_the_heartbeat_and_a_running_study_is_not_started_twice(monkeypatch):
    import datetime as dt

    from django.utils import timezone

    from web.registry.services import experiment_run_report, experiment_run_start
    from worker import experiments
    from worker.tasks import run_benchmark

    long_ago = timezone.now() - dt.timedelta(hours=3)
    run = ExperimentRun.objects.create(kind="benchmark", params=benchmark_params(TINY_BENCHMARK))
    beats = []

    def job(*, params, out, report, command):  # the benchmark, without the training
        beats.append(ExperimentRun.objects.get(id=run.id).heartbeat)  # set when the run started
        for progress in (0.25, None):
            ExperimentRun.objects.filter(id=run.id).update(heartbeat=long_ago)
            report(progress=progress, line="logreg: epoch 1/1")
            beats.append(ExperimentRun.objects.get(id=run.id).heartbeat)
        return {"rows": []}

    monkeypatch.setattr(experiments, "benchmark", job)
    before = timezone.now()
    assert run_benchmark(run.id) == "done"
    assert len(beats) == 3 and all(beat is not None and beat >= before for beat in beats), beats

    # A duplicate message of a running study (it is never redelivered on purpose) does not start it again.
    ExperimentRun.objects.filter(id=run.id).update(status="running", heartbeat=long_ago)
    assert experiment_run_start(run_id=run.id) is None
    assert ExperimentRun.objects.get(id=run.id).heartbeat == long_ago
    experiment_run_report(run_id=run.id, progress=0.5)
    run.refresh_from_db()
    assert run.heartbeat >= before and run.progress == 0.5
    # A retrain whose worker died is delivered again by the broker, and starts again.
    retrain = ExperimentRun.objects.create(kind="train", status="running", params={})
    assert experiment_run_start(run_id=retrain.id) is not None
