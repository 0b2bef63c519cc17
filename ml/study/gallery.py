"""The worst pages of an evaluation set, annotated, with the truth and the reading written on top.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from ml.models.checkpoint import LoadedModel
from ml.models.linemodel import LineModel
from ml.reading.annotate import annotate
from ml.reading.decode import decode_image
from ml.reading.params import ALL_STEPS, Steps
from ml.reading.reader import read
from ml.reading.result import Reading


def gallery(folder: str | Path, failures: list[dict], out: str | Path, *, model: LoadedModel | None = None,
            steps: Steps = ALL_STEPS, max_side: int = 720, line_model: LineModel | None = None) -> Path:
    """Annotated PNGs of ``failures`` (from :func:`ml.study.score_pages.score`) with the truth and the
    reading written on top, and an ``index.md`` listing them, in ``out``. Small images (a cheque's
    amount field) are drawn three times their size.

    >>> import tempfile
    >>> from ml.synth.evalset import generate
    >>> with tempfile.TemporaryDirectory() as pages, tempfile.TemporaryDirectory() as out:
    ...     _ = generate(pages, n=1, seed=0, tier="clean")
    ...     failure = {"image": "page-0000.png", "truth": ["12"], "read": ["17"], "edits": 1}
    ...     sorted(p.name for p in gallery(pages, [failure], out).iterdir())
    ['index.md', 'page-0000.png']
    """
    folder, out = Path(folder), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for f in failures:
        image = decode_image((folder / f["image"]).read_bytes())
        reading = read(image, model=model, steps=steps, line_model=line_model)
        if max(image.shape[:2]) < max_side / 3:  # read as it is, drawn bigger
            image = cv2.resize(image, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
            reading = _scaled(reading, 3)
        drawn = annotate(image, reading)
        if max(drawn.shape[:2]) > max_side:  # small enough to keep in the repository
            factor = max_side / max(drawn.shape[:2])
            drawn = cv2.resize(drawn, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        band = np.full((56, max(drawn.shape[1], 360), 3), 255, np.uint8)
        drawn = cv2.copyMakeBorder(drawn, 0, 0, 0, band.shape[1] - drawn.shape[1], cv2.BORDER_CONSTANT,
                                   value=(255, 255, 255))
        for k, (label, text) in enumerate((("truth", f["truth"]), ("read", f["read"]))):
            cv2.putText(band, f"{label}: {' / '.join(text) or '(nothing)'}", (6, 22 + 26 * k),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
        name = Path(f["image"]).stem + ".png"
        cv2.imwrite(str(out / name), np.vstack([band, drawn]))
        truth, got = " / ".join(f["truth"]), " / ".join(f["read"])
        rows.append(f"| [{name}]({name}) | {truth} | {got} | {f['edits']} |")
    header = "| image | truth | read | edits |\n|---|---|---|---:|\n"
    (out / "index.md").write_text(header + "\n".join(rows) + "\n")
    return out


def _scaled(reading: Reading, factor: int) -> Reading:
    """``reading`` with its boxes in the pixels of its image scaled ``factor`` times."""
    digits = [replace(d, box=[v * factor for v in d.box]) for d in reading.digits]
    marks = [replace(m, box=[v * factor for v in m.box]) for m in reading.separators]
    return replace(reading, digits=digits, separators=marks,
                   size=(reading.size[0] * factor, reading.size[1] * factor))
