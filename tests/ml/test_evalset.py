import json

import numpy as np
import pytest

from ml.study.score_pages import box_matches, edit_distance, score
from ml.synth.evalset import generate
from ml.synth.photo import make_page
from tests.ml.test_cli import run_ml


@pytest.mark.parametrize("tier", ["photo", "clean"])
def test_pages_are_reproducible_and_their_truth_fits_the_page(tier, test_digits):
    images, labels = test_digits
    a, truth, quality = make_page(images, labels, seed=5, tier=tier)
    b, _, _ = make_page(images, labels, seed=5, tier=tier)
    assert np.array_equal(a, b)
    assert 1 <= len(truth["lines"]) <= 3 and all(1 <= len(line) <= 8 for line in truth["lines"])
    assert len(truth["digits"]) == sum(len(line) for line in truth["lines"])
    h, w = a.shape[:2]
    for d in truth["digits"]:
        x, y, bw, bh = d["box"]
        assert 0 <= x and 0 <= y and x + bw <= w and y + bh <= h
        # The box holds ink: darker than the page's median brightness.
        assert a[y : y + bh, x : x + bw].min() < np.median(a) - 40
        # And names the MNIST test digit drawn there (to tell a misread page digit from a digit
        # the classifier misreads on MNIST itself).
        assert labels[d["mnist_test_index"]] == d["digit"]
    assert (quality == 0) == (tier == "clean") and (tier == "clean" or 55 <= quality <= 95)


def test_edit_distance_and_box_matching():
    assert edit_distance("12345", "12345") == 0
    assert edit_distance("1245", "12345") == 1 and edit_distance("99", "") == 2
    truth = [[0, 0, 10, 10], [20, 0, 10, 10]]
    assert box_matches([[1, 1, 10, 10], [21, 0, 10, 10], [50, 50, 5, 5]], truth) == 2
    assert box_matches([[0, 0, 10, 10], [0, 0, 10, 10]], truth) == 1  # one-to-one


def test_scorer_counts_a_wrong_page_as_not_exact(tmp_path, shipped_model):
    generate(tmp_path, n=6, seed=3, tier="clean")
    honest = score(tmp_path, model=shipped_model, tesseract=False)["digitscan"]
    assert honest["pages"] == 6 and honest["digit_accuracy"] > 0.9 and honest["box_recall"] > 0.9
    truth_file = tmp_path / "page-0000.json"
    truth = json.loads(truth_file.read_text())
    truth["lines"][0] = "0" * (len(truth["lines"][0]) + 2)  # truth that the page does not say
    truth_file.write_text(json.dumps(truth))
    broken = score(tmp_path, model=shipped_model, tesseract=False)
    assert broken["digitscan"]["digit_accuracy"] < honest["digit_accuracy"]
    assert any(f["image"] == "page-0000.png" for f in broken["failures"])


def test_pages_and_score_pages_commands(tmp_path):
    made = run_ml("pages", str(tmp_path), "--n", "3", "--seed", "1", "--tier", "photo")
    assert made.returncode == 0, made.stderr
    assert len(list(tmp_path.glob("page-*.jpg"))) == 3
    scored = run_ml("score-pages", str(tmp_path), "--no-tesseract")
    assert scored.returncode == 0, scored.stderr
    assert "| digit accuracy |" in scored.stdout and "box recall" in scored.stdout


def test_scenes_cover_every_situation_with_digit_only_truth(test_digits):
    from ml.synth.scenes import KINDS, make_scene

    images, labels = test_digits
    for k, kind in enumerate(KINDS):
        page, truth, quality = make_scene(images, labels, seed=k, kind=kind)
        assert truth["kind"] == kind and page.ndim == 3
        assert all(line.isdigit() for line in truth["lines"])
        assert len(truth["digits"]) == sum(len(line) for line in truth["lines"])
        h, w = page.shape[:2]
        for d in truth["digits"]:
            x, y, bw, bh = d["box"]
            assert 0 <= x and 0 <= y and x + bw <= w and y + bh <= h
        assert 30 <= quality <= 95
    # The cheque writes separators that are not in the truth.
    _, cheque, _ = make_scene(images, labels, seed=1, kind="cheque")
    assert len(cheque["lines"]) == 2 and len(cheque["lines"][0]) == 8  # a date dd.mm.yyyy, digits only


def test_pages_of_one_scene_kind(tmp_path):
    made = run_ml("pages", str(tmp_path), "--n", "2", "--seed", "4", "--tier", "scenes", "--kind", "form")
    assert made.returncode == 0, made.stderr
    truths = [json.loads(p.read_text()) for p in sorted(tmp_path.glob("page-*.json"))]
    assert [t["kind"] for t in truths] == ["form", "form"] and all(len(t["lines"]) >= 2 for t in truths)
    assert run_ml("pages", str(tmp_path), "--kind", "nonsense").returncode != 0


def test_score_pages_ablation_switches_gallery_and_json(tmp_path):
    pages = tmp_path / "pages"
    assert run_ml("pages", str(pages), "--n", "4", "--seed", "2", "--tier", "scenes").returncode == 0
    out = tmp_path / "score.json"
    scored = run_ml("score-pages", str(pages), "--no-tesseract", "--without", "cut,choose", "--out", str(out),
                    "--gallery", str(tmp_path / "gallery"), "--worst", "2")
    assert scored.returncode == 0, scored.stderr
    result = json.loads(out.read_text())
    assert result["without"] == ["cut", "choose"] and set(result["by_kind"]) <= {
        "cheque", "sheet", "closeup", "marker"}
    assert "| kind |" in scored.stdout and "threshold" in scored.stdout
    drawn = sorted((tmp_path / "gallery").glob("*.png"))
    assert len(drawn) == min(2, len(result["failures"]))
    assert (tmp_path / "gallery" / "index.md").exists()
    bad = run_ml("score-pages", str(pages), "--without", "magic")
    assert bad.returncode == 2 and "unknown step(s) magic" in bad.stderr


def test_bench_read_prints_read_time_beside_decode_time(tmp_path):
    out = tmp_path / "bench.json"
    ran = run_ml("bench-read", "--runs", "3", "--size", "800x600", "--digits", "6", "--out", str(out))
    assert ran.returncode == 0, ran.stderr
    figures = json.loads(out.read_text())
    for key in ("decode_ms", "read_ms", "decode_and_read_ms"):
        assert figures[key]["p50"] > 0 and figures[key]["p95"] >= figures[key]["p50"]
    assert figures["read_over_decode_p50"] > 0 and "800x600" in figures["image"]
    assert "| decode |" in ran.stdout and "read / decode" in ran.stdout
