"""MNIST as in-memory tensors, read straight from the IDX files.

Search order (DESIGN.md): ``$MNIST_DIR``, then ``../shared/datasets/mnist`` relative to the project
root, then torchvision's download into a cache folder (for users with internet). Everything lands in
memory as ``uint8`` tensors so training loops index whole batches, never single Python samples.

>>> train, test = load_mnist()
>>> train.images.shape, test.labels.shape
(torch.Size([60000, 28, 28]), torch.Size([10000]))
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ml import paths

# Mean and standard deviation of MNIST training pixels scaled to [0, 1]. Defined once, used by every
# torch model and by preprocessing at read time, so training and serving can never disagree.
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081

SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 60000),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 10000),
}

# IDX magic numbers: 0x00000803 = unsigned bytes, 3 dims; 0x00000801 = unsigned bytes, 1 dim.
_IMAGES_MAGIC = 2051
_LABELS_MAGIC = 2049


class DataNotFoundError(FileNotFoundError):
    """No MNIST copy could be found or downloaded; the message names every place tried."""


@dataclass(frozen=True)
class Split:
    """One MNIST split: ``images`` uint8 (N, 28, 28) with ink high, ``labels`` int64 (N,)."""

    images: torch.Tensor
    labels: torch.Tensor
    source: str

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, n: int | None, *, seed: int = 0) -> Split:
        """A random, class-mixed subset of ``n`` samples (all of them when ``n`` is None)."""
        if n is None or n >= len(self):
            return self
        idx = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))[:n]
        return Split(self.images[idx], self.labels[idx], f"{self.source} (random {n})")

    def describe(self) -> dict:
        counts = torch.bincount(self.labels, minlength=10).tolist()
        return {"source": self.source, "samples": len(self), "label_counts": counts}


def _open(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def _find(directory: Path, stem: str) -> Path | None:
    return paths.mnist_file(directory, stem)


def read_idx(path: Path, *, magic: int) -> np.ndarray:
    """Parse one IDX file (optionally gzipped) into a numpy array, checking its header.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "labels-idx1-ubyte"
    ...     _ = path.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 9]))
    ...     read_idx(path, magic=2049).tolist()
    [7, 2, 9]
    """
    with _open(path) as f:
        raw = f.read()
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise ValueError(f"{path}: IDX magic number is {found}, expected {magic}")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: header says {dims} ({np.prod(dims)} bytes), file holds {data.size}")
    return data.reshape(dims)


def _load_split(directory: Path, split: str) -> Split:
    images_stem, labels_stem, expected = SPLITS[split]
    images_path, labels_path = _find(directory, images_stem), _find(directory, labels_stem)
    if images_path is None or labels_path is None:
        raise FileNotFoundError(f"{directory}: no {images_stem}[.gz] / {labels_stem}[.gz]")
    images = read_idx(images_path, magic=_IMAGES_MAGIC)
    labels = read_idx(labels_path, magic=_LABELS_MAGIC)
    if images.shape != (expected, 28, 28) or labels.shape != (expected,):
        raise ValueError(
            f"{directory}: {split} split has images {images.shape} and labels {labels.shape}, "
            f"expected ({expected}, 28, 28) and ({expected},)"
        )
    if labels.max() > 9:
        raise ValueError(f"{labels_path}: label {labels.max()} is outside 0..9")
    counts = np.bincount(labels, minlength=10)
    if counts.min() < expected // 20:
        raise ValueError(f"{labels_path}: suspicious label counts {counts.tolist()}")
    return Split(
        torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64)), paths.shown(directory)
    )


def _download_cache() -> Path:
    return paths.mnist_download_cache()


def _download(cache: Path) -> Path:
    from torchvision.datasets import MNIST  # local import: only users with internet get here

    MNIST(root=str(cache), train=True, download=True)
    MNIST(root=str(cache), train=False, download=True)
    return cache / "MNIST" / "raw"


def find_mnist(*, download: bool = True) -> Path:
    """The first folder holding all four IDX files, downloading as a last resort.

    >>> find_mnist(download=False).is_dir()
    True
    """
    tried = []
    for directory in paths.mnist_places():
        if all(_find(directory, stem) for pair in SPLITS.values() for stem in pair[:2]):
            return directory
        tried.append(f"{directory} (missing or incomplete)")
    if download:
        try:
            return _download(_download_cache())
        except Exception as exc:  # noqa: BLE001 - any failure becomes part of the one clear error
            tried.append(f"torchvision download into {_download_cache()} ({type(exc).__name__}: {exc})")
    raise DataNotFoundError(
        "MNIST not found. Tried:\n  - " + "\n  - ".join(tried)
        + "\nSet MNIST_DIR to a folder holding the four IDX files (optionally .gz)."
    )


_CACHE: dict[str, tuple[Split, Split]] = {}


def load_mnist(directory: str | Path | None = None, *, download: bool = True) -> tuple[Split, Split]:
    """Return ``(train, test)``; cached per folder for the life of the process.

    >>> train, test = load_mnist()
    >>> len(train), len(test), test.images.dtype
    (60000, 10000, torch.uint8)
    """
    folder = Path(directory) if directory else find_mnist(download=download)
    key = str(folder)
    if key not in _CACHE:
        _CACHE[key] = (_load_split(folder, "train"), _load_split(folder, "test"))
    return _CACHE[key]
