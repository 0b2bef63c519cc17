"""Where the project's files are: the checkout, the shipped checkpoints, the shared datasets. No
imports beyond the standard library's os and pathlib, so the web process can name the default model
without loading torch.

>>> DEFAULT_CHECKPOINT.name, DEFAULT_CHECKPOINT.parent == CHECKPOINT_DIR
('digitscan-cnn.pt', True)
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"
DEFAULT_CHECKPOINT = CHECKPOINT_DIR / "digitscan-cnn.pt"
LINE_CHECKPOINT = CHECKPOINT_DIR / "digitscan-lines.pt"


def dataset(name: str) -> Path:
    """The folder of a shared dataset (``orand-car-a-train``, ``real-photos-dev``): under
    ``$DIGITSCAN_DATASETS`` when set, else in ``../shared/datasets`` beside the checkout (never
    committed; ``deploy/test.sh`` points a scratch clone at the one beside its origin).

    >>> dataset("orand-car-a-train").name
    'orand-car-a-train'
    """
    root = os.environ.get("DIGITSCAN_DATASETS")
    return (Path(root) if root else PROJECT_ROOT.parent / "shared" / "datasets") / name


def shown(path: str | Path) -> str:
    """``path`` as a record should give it: relative to the checkout when it lies beside it (the
    shared datasets, another checkout's data), so no machine's own folders end up in a checkpoint or
    a card; elsewhere as it is.

    >>> shown(PROJECT_ROOT.parent / "shared" / "datasets" / "mnist")
    '../shared/datasets/mnist'
    >>> shown("/somewhere/else")
    '/somewhere/else'
    """
    resolved = Path(path).resolve()
    if resolved.is_relative_to(PROJECT_ROOT.parent):
        return os.path.relpath(resolved, PROJECT_ROOT)
    return str(path)


# MNIST's four IDX files (each may also be gzipped), and where they are looked for (DESIGN.md: data).
MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
               "t10k-labels-idx1-ubyte")


def mnist_download_cache() -> Path:
    """Where torchvision's download of MNIST goes (``$DIGITSCAN_CACHE/mnist``, else ``~/.cache/digitscan``).

    >>> mnist_download_cache().name
    'mnist'
    """
    return Path(os.environ.get("DIGITSCAN_CACHE", Path.home() / ".cache" / "digitscan")) / "mnist"


def mnist_places() -> list[Path]:
    """Where a copy of MNIST is looked for, in order: ``$MNIST_DIR``, the shared datasets' ``mnist``
    (:func:`dataset`), then the download cache's raw folder.

    >>> mnist_places()[-1].parts[-2:]
    ('MNIST', 'raw')
    """
    places = []
    if os.environ.get("MNIST_DIR"):
        places.append(Path(os.environ["MNIST_DIR"]).expanduser())
    places.append(dataset("mnist"))
    return places + [mnist_download_cache() / "MNIST" / "raw"]


def mnist_file(directory: Path, stem: str) -> Path | None:
    """``directory/stem``, or its ``.gz``, if either is a file.

    >>> mnist_file(Path("/nowhere"), MNIST_FILES[0]) is None
    True
    """
    for name in (stem, stem + ".gz"):
        if (directory / name).is_file():
            return directory / name
    return None


def mnist_folder() -> Path | None:
    """The first place holding all four MNIST files, without downloading (and without numpy or torch: the
    site asks this before it queues a retrain); None when there is none.

    >>> found = mnist_folder()
    >>> found is None or mnist_file(found, MNIST_FILES[0]) is not None
    True
    """
    for directory in mnist_places():
        if all(mnist_file(directory, stem) for stem in MNIST_FILES):
            return directory
    return None
