import gzip

import numpy as np
import pytest
import torch

from ml import data, paths


def test_real_mnist_has_the_documented_shapes_and_label_counts(mnist):
    train, test = mnist
    assert train.images.shape == (60000, 28, 28) and train.images.dtype == torch.uint8
    assert test.images.shape == (10000, 28, 28)
    # Counts from ../shared/datasets/mnist/README.md.
    train_counts = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert torch.bincount(train.labels).tolist() == train_counts
    assert torch.bincount(test.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def _write_idx(path, array, magic):
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def _fake_mnist(folder, n_train=200, n_test=100):
    rng = np.random.default_rng(0)
    for stem, n in (("train", n_train), ("t10k", n_test)):
        _write_idx(folder / f"{stem}-images-idx3-ubyte.gz", rng.integers(0, 255, (n, 28, 28)), 2051)
        _write_idx(folder / f"{stem}-labels-idx1-ubyte.gz", np.arange(n) % 10, 2049)


def test_mnist_dir_takes_precedence_and_wrong_sizes_are_rejected(tmp_path, monkeypatch):
    _fake_mnist(tmp_path)
    monkeypatch.setenv("MNIST_DIR", str(tmp_path))
    assert data.find_mnist(download=False) == tmp_path
    with pytest.raises(ValueError, match=r"expected \(60000, 28, 28\)"):
        data.load_mnist(tmp_path)


def test_missing_data_names_every_place_tried(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setattr(paths, "PROJECT_ROOT", tmp_path / "project")
    monkeypatch.setenv("DIGITSCAN_CACHE", str(tmp_path / "cache"))
    # deploy/test.sh points DIGITSCAN_DATASETS at the real sets when run from a clone without ../shared.
    monkeypatch.delenv("DIGITSCAN_DATASETS", raising=False)
    with pytest.raises(data.DataNotFoundError) as err:
        data.find_mnist(download=False)
    message = str(err.value)
    assert str(tmp_path / "nowhere") in message
    assert str(tmp_path / "shared" / "datasets" / "mnist") in message
    assert str(tmp_path / "cache") in message
    assert "MNIST_DIR" in message


def test_corrupt_idx_header_is_reported(tmp_path):
    path = tmp_path / "x-idx3-ubyte"
    path.write_bytes((1234).to_bytes(4, "big") + b"\0" * 20)
    with pytest.raises(ValueError, match="magic number is 1234"):
        data.read_idx(path, magic=2051)


def test_subset_is_random_and_reproducible(mnist):
    train, _ = mnist
    a, b = train.subset(500, seed=3), train.subset(500, seed=3)
    assert torch.equal(a.labels, b.labels)
    assert len(torch.unique(a.labels)) == 10
