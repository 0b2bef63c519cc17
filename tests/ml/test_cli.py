import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "docs" / "samples" / "digits.png"


def run_ml(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "ml", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_read_json_prints_one_object_per_image_in_the_contract_shape(tmp_path):
    other = tmp_path / "copy.png"
    other.write_bytes(SAMPLE.read_bytes())
    result = run_ml("read", str(SAMPLE), str(other), "--json")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["file"] for r in records] == [str(SAMPLE), str(other)]
    rec = records[0]
    assert set(rec) >= {"file", "text", "lines", "digits"}
    assert rec["text"] == " ".join(rec["lines"])
    assert rec["lines"] == ["75013", "20261125", "4096"]
    for d in rec["digits"]:
        assert set(d) >= {"digit", "confidence", "box", "line", "uncertain"}
        assert 0 <= d["digit"] <= 9 and 0 <= d["confidence"] <= 1
        assert len(d["box"]) == 4 and all(isinstance(v, int) for v in d["box"])
        assert isinstance(d["uncertain"], bool)
        assert [a["digit"] for a in d["alternatives"]][0] == d["digit"]


def test_a_bad_file_gets_a_one_line_error_the_others_are_read_and_exit_is_nonzero(tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("this is not an image")
    missing = tmp_path / "missing.jpg"
    result = run_ml("read", str(bad), str(SAMPLE), str(missing), "--json")
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == 1
    assert json.loads(result.stdout)["file"] == str(SAMPLE)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors[0] == f"error: {bad}: not a readable image (JPEG, PNG or another common format)"
    assert errors[1].startswith(f"error: {missing}: ") and "No such file" in errors[1]


def test_read_writes_annotated_images(tmp_path):
    import cv2

    result = run_ml("read", str(SAMPLE), "--annotate", str(tmp_path))
    assert result.returncode == 0, result.stderr
    out = tmp_path / "digits.annotated.png"
    assert f"annotated image: {out}" in result.stdout
    image = cv2.imread(str(out))
    assert image.shape == cv2.imread(str(SAMPLE)).shape


def test_benchmark_dry_run_writes_table_json_and_chart(tmp_path):
    result = run_ml("benchmark", "--dry-run", "--per-epoch", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    assert [r["family"] for r in results["rows"]] == ["logreg", "mlp", "knn", "svm", "rnn", "cnn"]
    curves = {r["family"]: r.get("test_accuracy_per_epoch") for r in results["rows"]}
    assert len(curves["cnn"]) == 1 and curves["knn"] is None
    table = (tmp_path / "results.md").read_text()
    assert "| Convolutional network |" in table and "99.34" in table and "Best epoch" in table
    assert (tmp_path / "benchmark.png").stat().st_size > 10_000
    assert "epoch 1/1" in result.stderr  # progress is shown


def test_train_dry_run_writes_a_checkpoint_that_evaluate_reads(tmp_path):
    out = tmp_path / "m.pt"
    result = run_ml("train", "--dry-run", "--out", str(out), "--seed", "3")
    assert result.returncode == 0, result.stderr
    evaluated = run_ml("evaluate", str(out), "--limit", "300")
    assert evaluated.returncode == 0, evaluated.stderr
    assert "confusion matrix" in evaluated.stdout and "per-class accuracy" in evaluated.stdout
    card = (tmp_path / "m.md").read_text()  # train writes the card beside the checkpoint
    assert "train --dry-run --seed 3`" in card and "Confusion matrix" in card
    assert str(tmp_path) not in card and "`m.pt`" in card  # the file, not the folder it was written to
    printed = run_ml("card", str(out))
    assert printed.returncode == 0 and printed.stdout.startswith("# Model card: m")


def test_train_on_a_labelled_real_set_adds_its_boxes_labelled_by_alignment(tmp_path):
    import shutil

    real = tmp_path / "real"
    real.mkdir()
    shutil.copy("docs/samples/digits.png", real)
    # The label says the page's fourth digit is a 7 (it reads 1): the box is learned as a 7.
    (real / "labels.csv").write_text("file,digits\ndigits.png,75073 20261125 4096\n")
    out = tmp_path / "m.pt"
    result = run_ml("train", "--dry-run", "--out", str(out), "--real", str(real), "--real-repeats", "3")
    assert result.returncode == 0, result.stderr
    assert "17 real boxes from" in result.stderr
    card = (tmp_path / "m.md").read_text()
    assert "60,000 images + 17 boxes read in the real set real, each shown 3 times" in card
    assert "--real-repeats 3" in card and str(real) not in card

    from ml.models.checkpoint import load_checkpoint
    from ml.training.real import real_samples

    samples = real_samples(real, load_checkpoint("ml/checkpoints/digitscan-cnn.pt"))
    assert samples.labels.tolist()[:5] == [7, 5, 0, 7, 3]


def test_evaluate_of_a_missing_checkpoint_says_so(tmp_path):
    result = run_ml("evaluate", str(tmp_path / "nope.pt"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr


@pytest.mark.parametrize("args", [["--help"], ["read", "--help"], ["train", "--help"]])
def test_help_lists_defaults(args):
    result = run_ml(*args)
    assert result.returncode == 0
    assert "usage: python -m ml" in result.stdout
