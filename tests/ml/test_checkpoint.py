import numpy as np
import pytest
import torch

from ml.models import checkpoint, preprocess
from ml.models.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from ml.models.classifiers import build
from ml.training.train import fit, pixels


@pytest.fixture
def small_cnn(mnist):
    train, _ = mnist
    return fit(build("cnn", {"channels": (8, 16), "linear": 32}), train.subset(256), dry_run=True)


def test_round_trip_rebuilds_the_model_from_the_file_alone(small_cnn, mnist, tmp_path):
    _, test = mnist
    path = save_checkpoint(small_cnn, tmp_path / "m.pt", metrics={"accuracy": 0.5},
                           training={"command": "python -m ml train"})
    loaded = load_checkpoint(path)
    x = pixels(test.images[:32])
    assert np.allclose(loaded.predict_proba(x), small_cnn.predict_proba(x), atol=2e-3)
    assert loaded.meta["config"]["channels"] == (8, 16)
    assert loaded.meta["preprocess"]["signature"] == preprocess.SIGNATURE
    assert loaded.meta["classes"] == list(range(10))
    assert loaded.meta["training"]["command"] == "python -m ml train"


def test_sklearn_checkpoint_round_trip(mnist, tmp_path):
    train, test = mnist
    knn = fit(build("knn"), train.subset(300))
    loaded = load_checkpoint(save_checkpoint(knn, tmp_path / "knn.pt"))
    x = pixels(test.images[:20])
    assert (loaded.predict_proba(x).argmax(1) == knn.predict_proba(x).argmax(1)).all()


def test_preprocessing_signature_mismatch_fails_loudly(small_cnn, tmp_path, monkeypatch):
    path = save_checkpoint(small_cnn, tmp_path / "m.pt")
    monkeypatch.setattr(preprocess, "SIGNATURE", "0123456789abcdef")
    with pytest.raises(CheckpointError, match="preprocessing signature mismatch") as err:
        load_checkpoint(path)
    assert "0123456789abcdef" in str(err.value)


def test_unreadable_and_foreign_files_are_refused(tmp_path):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not readable"):
        load_checkpoint(junk)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(CheckpointError, match="has format None"):
        load_checkpoint(foreign)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")


def test_shipped_checkpoint_is_small_and_self_describing():
    path = checkpoint.DEFAULT_CHECKPOINT
    assert path.stat().st_size < 5 * 1024 * 1024
    meta = checkpoint.read_meta(path)
    assert meta["family"] == "cnn"
    assert meta["training"]["command"].startswith("python -m ml train")
    assert meta["metrics"]["accuracy"] >= 0.996


@pytest.mark.slow
def test_shipped_checkpoint_still_reaches_its_recorded_accuracy(shipped_model, mnist):
    from ml.training.evaluate import evaluate

    _, test = mnist
    metrics = evaluate(shipped_model.classifier, test)
    assert metrics["accuracy"] >= shipped_model.meta["metrics"]["accuracy"] - 1e-4
