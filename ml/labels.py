"""A labelled set of real images: a folder with a ``labels.csv`` (``file``, the ``digits`` in reading
order, spaces between lines and groups, and optionally ``source_repo``, ``kind`` and per-digit ``boxes``
``[[x, y, w, h, digit], ...]``), as ``../shared/datasets/real-photos-dev`` and
``../shared/datasets/orand-car-a-train`` are laid out. Scored by :mod:`ml.study.score_sets`, trained on
by :mod:`ml.training.real`.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LabelledImage:
    path: Path
    digits: str  # in reading order; spaces only mark lines and groups
    source: str
    kind: str
    boxes: list[list[int]] | None  # [x, y, w, h] per digit, when the label has them


def load_labels(folder: str | Path, labels: str = "labels.csv") -> list[LabelledImage]:
    """The images of ``folder`` and their labels; an image is looked for beside the labels or in
    ``images/``.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     rows = ["file,digits,boxes", 'x.jpg,42,"[[1, 2, 3, 4, 4]]"']
    ...     _ = (Path(tmp) / "labels.csv").write_text("\\n".join(rows))
    ...     [(i.path.name, i.digits, i.source, i.boxes) for i in load_labels(tmp)]
    [('x.jpg', '42', '', [[1, 2, 3, 4]])]
    """
    folder = Path(folder)
    images = []
    with open(folder / labels, newline="") as f:
        for row in csv.DictReader(f):
            path = folder / row["file"]
            if not path.exists() and (folder / "images" / row["file"]).exists():
                path = folder / "images" / row["file"]
            boxes = [b[:4] for b in json.loads(row["boxes"])] if row.get("boxes") else None
            images.append(LabelledImage(path, row["digits"].strip(), row.get("source_repo", ""),
                                        row.get("kind", ""), boxes))
    return images
