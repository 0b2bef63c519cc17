"""The Experiments and Model pages: stored results as tables and pictures; the committed study as fallback."""

from __future__ import annotations

import json
import re
import shutil
from html import unescape
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from ml.study.thesis import THESIS_ACCURACY
from tests.web.helpers import png_bytes
from web.registry.models import ExperimentRun, ModelVersion
from web.uploads.models import Upload

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n"
MACHINE = {"processor": "test-cpu-9000", "cpu_threads": 2, "platform": "Linux-test", "python": "3.11",
           "torch": "2.x"}


def store(run_id: int, name: str, data: bytes) -> str:
    return default_storage.save(f"experiments/run-{run_id}/{name}", ContentFile(data))


def finished_run(kind: str, results: dict, files: dict[str, bytes], params: dict) -> ExperimentRun:
    run = ExperimentRun.objects.create(kind=kind, params=params, status="done", progress=1.0,
                                       results=results, finished=timezone.now())
    run.artifacts = [store(run.id, name, data) for name, data in files.items()]
    run.save()
    return run


def image_urls(html: str) -> list[str]:
    return re.findall(r'<img[^>]* src="([^"]+)"', html)


BENCHMARK_RESULTS = {
    "kind": "benchmark", "created": "2030-01-02 03:04:05 UTC", "machine": MACHINE, "seed": 0,
    "dry_run": False, "train_samples": 300, "test_samples": 200, "rows": [
        {"family": "logreg", "name": "Logistic regression", "train_seconds": 12.34, "test_seconds": 0.01,
         "accuracy": 81.23, "thesis_accuracy": 92.45, "meets_bar": False},
        {"family": "cnn", "name": "Convolutional network", "train_seconds": 345.67, "test_seconds": 0.07,
         "accuracy": 99.71, "thesis_accuracy": 99.34, "meets_bar": True},
    ],
}


def ablation_results(study_accuracy: float = 97.12) -> dict:
    row = {"parameters": 1234567, "flops": 2_500_000, "train_seconds_per_epoch": 1.5, "test_seconds": 0.2,
           "accuracy_std": 0.05, "seeds_done": 2}
    return {"kind": "ablation", "created": "2030-02-03 04:05:06 UTC", "machine": MACHINE, "epochs": 1,
            "seeds": [0, 1], "studies": {"pool": [
                {"variant": "max", "reference": True, **row, "accuracy_mean": study_accuracy},
                {"variant": "avg", "reference": False, **row, "accuracy_mean": 96.5},
                {"variant": "none", "reference": False, **row, "accuracy_mean": 95.25},
            ]}}


def test_the_nav_links_the_experiments_and_model_pages(client):
    html = client.get("/").content.decode()
    assert 'href="/experiments/"' in html and 'href="/model/"' in html


def test_the_experiments_page_shows_the_latest_benchmark_as_table_3_3_beside_the_thesis(client):
    finished_run("benchmark", {**BENCHMARK_RESULTS, "rows": BENCHMARK_RESULTS["rows"][:1]},
                 {"benchmark.png": png_bytes()}, {"families": ["logreg"]})  # an older run: not shown
    run = finished_run("benchmark", BENCHMARK_RESULTS, {"benchmark.png": png_bytes(), "results.md": b"# t\n"},
                       {"families": ["logreg", "cnn"], "limit": 300, "epochs": 1})
    html = unescape(client.get("/experiments/").content.decode())
    for text in ("Logistic regression", "Convolutional network", "81.23", "99.71", "12.3", "345.7",
                 f"{THESIS_ACCURACY['logreg']:.2f}", f"{THESIS_ACCURACY['cnn']:.2f}", "-11.22", "+0.37",
                 f"experiment run #{run.id}", "only Logistic regression, Convolutional network",
                 "300 training images, 200 test images", "this site's training worker, 2 cores"):
        assert text in html, text
    assert "no benchmark run in this installation" not in html
    # The setting in words: no platform string, no processor name, no raw parameter names.
    assert "test-cpu-9000" not in html and "Linux-test" not in html and "torch threads" not in html
    # The chart is drawn by the page (its words are the page's): a bar per family, ours and the thesis'.
    chart = html[html.index('id="benchmark-chart"'):].split("</figure>")[0]
    assert chart.count('class="bar ours"') == 2 and chart.count('class="bar thesis"') == 2
    assert "Logistic regression" in chart and "81.23" in chart
    figure = f"/experiments/runs/{run.id}/benchmark.png"
    assert figure in html and figure not in image_urls(html)  # ml's English plot: among the files
    response = client.get(figure)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(PNG) and "max-age" in response["Cache-Control"]
    markdown = client.get(f"/experiments/runs/{run.id}/results.md")
    assert b"".join(markdown.streaming_content) == b"# t\n" and "text/markdown" in markdown["Content-Type"]


def test_the_experiments_page_shows_the_latest_ablation_figures_and_tables(client):
    run = finished_run("ablate", ablation_results(), {"pool.png": png_bytes(), "ablation.md": b"# CNN\n"},
                       {"studies": ["pool"], "epochs": 1, "seeds": 2})
    html = unescape(client.get("/experiments/").content.decode())
    for text in ("Pooling after each conv block", "97.12 ± 0.05", "96.50 ± 0.05", "1234567", "2.50",
                 "max pooling (full)", "average pooling", "no pooling", f"experiment run #{run.id}",
                 "seeds 0, 1 (2 runs of each variant)", "this site's training worker, 2 cores"):
        assert text in html, text
    assert "test-cpu-9000" not in html and "pool: " not in html
    chart = html[html.index('id="study-pool"'):].split("</figure>")[0]
    assert chart.count('class="bar accuracy"') == 3 and "no pooling" in chart
    figure = f"/experiments/runs/{run.id}/pool.png"
    assert figure in html and figure not in image_urls(html)
    assert b"".join(client.get(figure).streaming_content).startswith(PNG)


def test_the_ablation_tables_compare_each_variant_with_the_full_network(client, settings, tmp_path):
    results = ablation_results()
    pool = results["studies"]["pool"]
    # Stored before the comparison existed: the page works it out from the per-seed accuracies.
    for row, accuracy in zip(pool, ([99.10, 99.12, 99.14], [99.30, 99.35, 99.40], [99.0])):
        row["per_seed"] = [{"seed": i, "accuracy": a} for i, a in enumerate(accuracy)]
    settings.DIGITSCAN_COMMITTED_RESULTS = str(tmp_path)
    (tmp_path / "ablation").mkdir()
    (tmp_path / "ablation/results.json").write_text(json.dumps(results))
    html = client.get("/experiments/").content.decode()
    assert "Δ vs full (points)" in html and "Welch" in html
    table = html[html.index('role="region" aria-label="Pooling'):]
    cells = {name: table[table.index(f"<td>{label}"):].split("</tr>")[0]
             for name, label in (("max", "max pooling"), ("avg", "average pooling"), ("none", "no pooling"))}
    assert "+0.23 (p 0.008)" in cells["avg"]  # three seeds each: the t-test's p
    assert "−0.12" in cells["none"] and "(p" not in cells["none"]  # one seed: no test
    assert "(p" not in cells["max"] and "+" not in cells["max"]  # the reference row


def test_a_study_stopped_part_way_with_a_timing_pass_shows_its_times_ratios_and_dashes(client, settings,
                                                                                       tmp_path):
    results = ablation_results(98.76)
    pool = results["studies"]["pool"]
    # "none" not trained yet; every config timed in the quiet pass.
    pool[2].update({"seeds_done": 0, "accuracy_mean": None, "accuracy_std": None,
                    "train_seconds_per_epoch": None, "test_seconds": None})
    for row, (seconds, ratio) in zip(pool, [(70.25, 1.0), (71.5, 1.02), (228.75, 3.26)]):
        row["timing"] = {"train_seconds_per_epoch": seconds, "train_ratio": ratio, "test_seconds": 2.5,
                         "test_ratio": 1.0}
    settings.DIGITSCAN_COMMITTED_RESULTS = str(tmp_path)
    (tmp_path / "ablation").mkdir()
    (tmp_path / "ablation/results.json").write_text(json.dumps(results))
    html = client.get("/experiments/").content.decode()
    assert "× full" in html and "228.75" in html and "3.26" in html  # the untrained variant is timed
    none_row = html[html.index("<td>no pooling</td>"):].split("</tr>")[0]
    assert "—" in none_row and "98.76" not in none_row  # no accuracy before its first seed
    assert "70.25" in html and ">1.50<" not in html  # the timing pass's times replace the runs' own


def test_only_a_finished_runs_own_files_are_served(client):
    run = finished_run("benchmark", BENCHMARK_RESULTS, {"benchmark.png": png_bytes()}, {})
    default_storage.save("uploads/secret.png", ContentFile(png_bytes()))
    assert client.get(f"/experiments/runs/{run.id}/secret.png").status_code == 404
    assert client.get(f"/experiments/runs/{run.id}/..%2F..%2Fuploads%2Fsecret.png").status_code == 404
    ExperimentRun.objects.filter(id=run.id).update(status="running")
    assert client.get(f"/experiments/runs/{run.id}/benchmark.png").status_code == 404


def test_without_runs_the_page_shows_the_committed_benchmark_and_says_so(client):
    committed = json.loads((ROOT / "docs/results/benchmark/results.json").read_text())
    html = unescape(client.get("/experiments/").content.decode())
    assert "no benchmark run in this installation yet" in html and "the study committed with the code" in html
    # In words: no repository path, no command, no platform string.
    assert "seed 0; 60,000 training images, 10,000 test images" in html and "project's 2-core machine" in html
    for raw in ("docs/results", "python -m ml", "--out", "glibc", "Linux-", "dry_run", "train_samples"):
        assert raw not in html, raw
    for row in committed["rows"]:
        assert row["name"] in html and f"{row['accuracy']:.2f}" in html
    assert f"{THESIS_ACCURACY['svm']:.2f}" in html
    figure = "/experiments/committed/benchmark/benchmark.png"
    assert figure in html and 'id="benchmark-chart"' in html
    assert b"".join(client.get(figure).streaming_content).startswith(PNG)
    assert client.get("/experiments/committed/benchmark/..%2F..%2F..%2Fpyproject.toml").status_code == 404
    assert client.get("/experiments/committed/web/results.json").status_code == 404


def test_the_committed_ablation_is_the_fallback_when_present(client, settings, tmp_path):
    shutil.copytree(ROOT / "docs/results/benchmark", tmp_path / "benchmark")
    settings.DIGITSCAN_COMMITTED_RESULTS = tmp_path
    assert "No ablation has run yet" in client.get("/experiments/").content.decode()
    (tmp_path / "ablation").mkdir()
    (tmp_path / "ablation/results.json").write_text(json.dumps(ablation_results(98.76)))
    (tmp_path / "ablation/pool.png").write_bytes(png_bytes())
    html = client.get("/experiments/").content.decode()
    assert "no ablation run in this installation yet" in html and "98.76 ± 0.05" in html
    assert "/experiments/committed/ablation/pool.png" in html and 'class="bar accuracy"' in html
    assert b"".join(client.get("/experiments/committed/ablation/pool.png").streaming_content).startswith(PNG)


def confusion(accuracy: float = 0.99) -> list[list[int]]:
    matrix = [[0] * 10 for _ in range(10)]
    for digit in range(10):
        matrix[digit][digit] = 100
    matrix[9][4] = 7  # nines read as fours: the page names the worst confusion of each digit
    return matrix


def version(name: str, *, active: bool = False, matrix: bool = True, reject: bool = False) -> ModelVersion:
    metrics = {"accuracy": 0.9972, "samples": 1007, "per_class_accuracy": [1.0] * 9 + [100 / 107]}
    if matrix:
        metrics["confusion_matrix"] = confusion()
    return ModelVersion.objects.create(
        name=name, checkpoint=f"models/{name}.pt", sha256=name.ljust(64, "0"), family="cnn",
        config={"reject": reject}, metrics=metrics, preprocess_signature="50f03a26d6106d8d", is_active=active,
        training={"command": f"python -m ml train --out {name}.pt", "recipe": "served", "seconds": 797.2,
                  "machine": "x86_64, 2 torch threads", "data": {"samples": 60000}})


def test_the_model_page_shows_the_active_versions_card_classes_confusion_matrix_and_history(client):
    old = version("cnn-old")
    Upload.objects.create(image="uploads/x/original.png", status="done", model_version=old)  # it read one
    version("cnn-run2")  # a dry run, never promoted: read nothing, so visitors never met it
    active = version("cnn-active", active=True, reject=True)
    html = unescape(client.get("/model/").content.decode())
    for text in ("cnn-active", "served recipe · python -m ml train", "served (the model DigitScan serves)",
                 "13 min 17 s, on a machine with 2 cores", "99.72%", "1007 images", "60,000 images",
                 "not a digit", "93.46", "4 (7×)"):
        assert text in html, text
    # The preprocessing signature is the admin's (explained there); threads and platforms are not words.
    assert "50f03a26d6106d8d" not in html and "torch threads" not in html
    assert "--out" not in html and ".pt" not in html  # the training machine's file is no one's business
    history = html[html.index("Version history"):]
    assert history.index("cnn-active") < history.index("cnn-old") and "<strong>active</strong>" in history
    assert "cnn-run2" not in html
    url = f"/model/{active.id}/confusion.png"
    assert url in image_urls(html)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.content.startswith(PNG) and len(response.content) > 5000
    assert "max-age" in response["Cache-Control"] and response["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    assert client.get(f"/model/{old.id}/confusion.png").content.startswith(PNG)


def test_a_version_without_a_confusion_matrix_has_no_picture(client):
    plain = version("cnn-plain", active=True, matrix=False)
    html = client.get("/model/").content.decode()
    assert "cnn-plain" in html and "/confusion.png" not in html
    assert client.get(f"/model/{plain.id}/confusion.png").status_code == 404
    assert client.get("/model/999999/confusion.png").status_code == 404


def test_the_model_page_before_any_version(client):
    html = client.get("/model/").content.decode()
    assert "No model version is registered yet" in html and "No versions yet" in html


def test_the_thesis_figures_are_table_3_3_as_printed_and_the_mark_follows_them(client):
    assert THESIS_ACCURACY == {"logreg": 92.45, "mlp": 98.23, "knn": 97.05, "svm": 93.02, "rnn": 97.65,
                               "cnn": 99.34}
    # A run stored before the fix judged 99.24 % short of a wrong 99.64 %: the page judges it anew.
    rows = [{"family": "cnn", "name": "Convolutional network", "train_seconds": 1.0, "test_seconds": 0.1,
             "accuracy": 99.24, "thesis_accuracy": 99.64, "meets_bar": False},
            {"family": "mlp", "name": "Multilayer perceptron", "train_seconds": 1.0, "test_seconds": 0.1,
             "accuracy": 97.80, "thesis_accuracy": 98.23, "meets_bar": True}]
    finished_run("benchmark", {**BENCHMARK_RESULTS, "rows": rows}, {"benchmark.png": png_bytes()}, {})
    html = client.get("/experiments/").content.decode()
    assert "99.24 ⚠" not in html and "99.34" in html and "-0.10" in html
    assert "97.80 ⚠" in html  # 0.43 points below the thesis' 98.23 %


def test_the_thesis_times_stand_beside_ours_per_epoch(client):
    # The CNN row trained 10 epochs in 345.67 s: 34.6 s per epoch, beside the thesis' span of times.
    rows = [{**BENCHMARK_RESULTS["rows"][1], "train_config": {"epochs": 10}}, BENCHMARK_RESULTS["rows"][0]]
    finished_run("benchmark", {**BENCHMARK_RESULTS, "rows": rows}, {"benchmark.png": png_bytes()}, {})
    html = client.get("/experiments/").content.decode()
    assert "34.6" in html  # ours, per epoch
    thesis_row = html[html.index('id="thesis-times"'):]
    thesis_row = thesis_row[:thesis_row.index("</tr>")]
    assert "8.84–70.51" in thesis_row and "1.44–5.57" in thesis_row and "Ryzen 7 4800H" in thesis_row
    chinese = client.get("/experiments/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "笔记本电脑" in chinese and "8.84–70.51" in chinese
