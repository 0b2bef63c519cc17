"""Real digits as training data: a labelled set of real images (a folder with ``labels.csv``: ``file``,
``digits``, as ``python -m ml score-set`` reads it) read by a model, each reading aligned to its label
by edit distance, and each box the reading found cut out again as the reader cuts it
(:func:`ml.reading.recrop.crops_at`): a box aligned to a true digit is that digit (read right or not),
a box the label has no digit for is *not a digit* (an operator, a printed letter, a grid's side read as
a 1). Digits the reading missed have no box and teach nothing.

This is what a person's correction teaches (``web``'s retraining), made from a development set's
labels instead: train on one real set, score on another.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ml.data import Split
from ml.labels import load_labels
from ml.models.checkpoint import LoadedModel
from ml.models.config import NOT_A_DIGIT
from ml.progress import Progress, quiet
from ml.reading.decode import decode_image
from ml.reading.reader import read
from ml.reading.recrop import crops_at


def align(truth: str, read_digits: list[int]) -> list[int | None]:
    """For each digit read, the digit of ``truth`` (digits only) it stands for, or None where the
    reading has a digit too many; by edit distance, a match preferred to a substitution.

    >>> align("8134", [8, 1, 1, 3, 4]), align("207", [1, 7, 6, 2, 0, 7]), align("12", [7, 2])
    ([8, None, 1, 3, 4], [None, None, None, 2, 0, 7], [1, 2])
    """
    want = [int(c) for c in truth]
    n, m = len(read_digits), len(want)
    cost = np.zeros((n + 1, m + 1), np.int32)
    cost[:, 0], cost[0, :] = np.arange(n + 1), np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost[i, j] = min(cost[i - 1, j] + 1, cost[i, j - 1] + 1,
                             cost[i - 1, j - 1] + (read_digits[i - 1] != want[j - 1]))
    out: list[int | None] = [None] * n
    i, j = n, m
    while i > 0:
        if j > 0 and cost[i, j] == cost[i - 1, j - 1] + (read_digits[i - 1] != want[j - 1]):
            out[i - 1], i, j = want[j - 1], i - 1, j - 1
        elif cost[i, j] == cost[i - 1, j] + 1:
            i -= 1  # a digit too many: None
        else:
            j -= 1  # a digit missed
    return out


def real_samples(folder: str | Path, model: LoadedModel, *, repeats: int = 1,
                 progress: Progress = quiet) -> Split:
    """The boxes ``model`` reads in the labelled images of ``folder`` as 28×28 training samples, each
    ``repeats`` times, labelled by :func:`align` (None: *not a digit*).

    >>> import shutil, tempfile
    >>> from ml.reading.reader import default_model
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = shutil.copy("docs/samples/digits.png", tmp)
    ...     _ = Path(tmp, "labels.csv").write_text("file,digits\\ndigits.png,75013 20261125 4096\\n")
    ...     samples = real_samples(tmp, default_model(), repeats=2)
    >>> len(samples), samples.images.shape[1:], samples.labels[:5].tolist()
    (34, torch.Size([28, 28]), [7, 5, 0, 1, 3])
    """
    images, labels = [], []
    found = load_labels(folder)
    for k, item in enumerate(found):
        pixels = decode_image(Path(item.path).read_bytes())
        reading = read(pixels, model=model)
        truth = "".join(c for c in item.digits if c.isdigit())
        meant = align(truth, [d.digit for d in reading.digits])
        for crop, digit in zip(crops_at(pixels, [d.box for d in reading.digits]), meant):
            if crop is not None:
                images.append(crop)
                labels.append(NOT_A_DIGIT if digit is None else digit)
        progress({"event": "real", "image": k + 1, "images": len(found), "samples": len(images)})
    x = torch.from_numpy(np.stack(images)) if images else torch.zeros((0, 28, 28), torch.uint8)
    y = torch.tensor(labels, dtype=torch.long)
    name = Path(folder).resolve().name  # the set's name, never its folder (ml.models.card.data_text)
    return Split(x.repeat(repeats, 1, 1), y.repeat(repeats), f"real boxes of {name} × {repeats}")
