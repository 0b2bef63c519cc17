"""How well ``read`` reads a labelled set of real images: a folder with a ``labels.csv`` (``file``, the
``digits`` in reading order, spaces between lines and groups, and optionally ``source_repo``, ``kind``
and per-digit ``boxes`` ``[[x, y, w, h, digit], ...]``), as ``../shared/datasets/real-photos-dev`` and
``../shared/datasets/orand-car-a-train`` are laid out.

Per image: the digits read against the label with the spaces removed (1 − edit distance / digits,
never below 0 for one image, so an image read as 30 digits costs what an image read as none does),
whether it is exact, how many digit boxes were found for how many digits, and where the label has
boxes, how many of them a box read matches (IoU ≥ 0.5). Tallied for the whole set, per source
repository and per kind; with ``tesseract`` on the PATH, Tesseract's digits beside ours.

>>> image = LabelledImage(Path("a.png"), "12 3", "repo", "photo", None)
>>> row = _row(image, "1 23", [[0, 0, 5, 5]] * 3, [], 1.0)
>>> row["exact"], row["digit_accuracy"], _tally([row])["digit_accuracy"]
(True, 1.0, 1.0)
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ml.labels import LabelledImage, load_labels
from ml.models.checkpoint import LoadedModel
from ml.models.linemodel import LineModel
from ml.reading.decode import ImageError, decode_image
from ml.reading.params import ALL_STEPS, READER, ReaderParams, Steps
from ml.reading.reader import read

from .score_pages import calibration, edit_distance, match_boxes, reliability, tesseract_lines


def _row(image: LabelledImage, text: str, found: list[list[int]], confident: list[tuple[float, bool]],
         ms: float) -> dict[str, Any]:
    want, got = image.digits.replace(" ", ""), text.replace(" ", "")
    edits = edit_distance(got, want)
    row = {"file": str(image.path), "source": image.source, "kind": image.kind, "truth": image.digits,
           "read": text, "digits": len(want), "edits": edits, "exact": edits == 0,
           "digit_accuracy": max(0.0, 1 - edits / max(len(want), 1)), "found_boxes": len(found), "ms": ms,
           "confidences": confident}
    if image.boxes is not None:
        row["matched_boxes"] = len(match_boxes(found, image.boxes))
    return row


def _tally(rows: list[dict]) -> dict[str, Any]:
    digits = sum(r["digits"] for r in rows)
    summary: dict[str, Any] = {
        "images": len(rows), "digits": digits,
        "digit_accuracy": sum(r["digit_accuracy"] * r["digits"] for r in rows) / max(digits, 1),
        "exact_images": sum(r["exact"] for r in rows) / max(len(rows), 1),
        "boxes_found": sum(r["found_boxes"] for r in rows) / max(digits, 1),
        "ms_per_image_p50": float(np.median([r["ms"] for r in rows])) if rows else 0.0,
    }
    if any("matched_boxes" in r for r in rows):
        matched = sum(r.get("matched_boxes", 0) for r in rows)
        summary["box_recall"] = matched / max(digits, 1)
        summary["box_precision"] = matched / max(sum(r["found_boxes"] for r in rows), 1)
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in summary.items()}


def _confidences(image: LabelledImage, reading) -> list[tuple[float, bool]]:
    """(confidence, right) per digit read, where it can be told which truth digit it read: by its box,
    or, without boxes, position by position when the count of digits read is right."""
    if image.boxes is not None:
        truth = image.digits.replace(" ", "")
        return [(reading.digits[i].confidence, str(reading.digits[i].digit) == truth[j])
                for i, j in match_boxes([d.box for d in reading.digits], image.boxes)]
    want = image.digits.replace(" ", "")
    if len(want) != len(reading.digits):
        return []
    return [(d.confidence, str(d.digit) == w) for d, w in zip(reading.digits, want)]


def score_set(folder: str | Path, *, labels: str = "labels.csv", model: LoadedModel | None = None,
              steps: Steps = ALL_STEPS, params: ReaderParams = READER, tesseract: bool = True,
              progress: Callable[[int], None] | None = None, line_model: LineModel | None = None,
              only: Callable[[LabelledImage], bool] | None = None) -> dict[str, Any]:
    """Read every labelled image of ``folder`` (those ``only`` keeps) and score it (see the module's
    docstring); ``line_model`` overrides the shipped line reader.

    >>> import tempfile, cv2
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = cv2.imwrite(f"{tmp}/sample.png", cv2.imread("docs/samples/digits.png"))
    ...     _ = Path(tmp, "labels.csv").write_text("file,digits\\nsample.png,75013 20261125 4096\\n")
    ...     result = score_set(tmp, tesseract=False)
    >>> result["digitscan"]["exact_images"], result["failures"]
    (1.0, [])
    """
    rows, theirs = [], []
    images = [i for i in load_labels(folder, labels) if only is None or only(i)]
    for k, image in enumerate(images):
        start = time.perf_counter()
        try:
            reading = read(decode_image(image.path.read_bytes()), model=model, steps=steps, params=params,
                           line_model=line_model)
            text, found, pairs = reading.text, [d.box for d in reading.digits], _confidences(image, reading)
        except (OSError, ImageError) as exc:
            text, found, pairs = f"(unreadable: {exc})", [], []
        rows.append(_row(image, text, found, pairs, (time.perf_counter() - start) * 1e3))
        if tesseract and shutil.which("tesseract"):
            lines = tesseract_lines(image.path) or []
            theirs.append(_row(image, " ".join(lines), [], [], 0.0))
        if progress:
            progress(k + 1)
    result = _summary(rows, folder)
    if theirs:
        result["tesseract"] = _tally(theirs)
        result["tesseract_by_source"] = _grouped(theirs, "source")
    return result


def _grouped(rows: list[dict], key: str) -> dict[str, dict]:
    return {name: _tally([r for r in rows if r[key] == name]) for name in sorted({r[key] for r in rows})}


def _summary(rows: list[dict], folder: str | Path) -> dict[str, Any]:
    pairs = [p for r in rows for p in r["confidences"]]
    failures = sorted((r for r in rows if not r["exact"]), key=lambda r: -r["edits"])
    return {"folder": str(folder), "digitscan": _tally(rows), "by_source": _grouped(rows, "source"),
            "by_kind": _grouped(rows, "kind"), "calibration": calibration(pairs) if pairs else [],
            "reliability": reliability(pairs) if pairs else {},
            "failures": [{"image": str(Path(r["file"]).relative_to(folder)), "truth": [r["truth"]],
                          "read": [r["read"]], "edits": r["edits"]} for r in failures],
            "rows": [{k: v for k, v in r.items() if k != "confidences"} for r in rows]}


def score_set_tables(result: dict[str, Any]) -> str:
    """:func:`score_set`'s result as ``python -m ml score-set`` prints it: the whole set, each source
    and each kind, Tesseract beside where it ran.

    >>> tally = {"images": 2, "digits": 5, "digit_accuracy": 0.8, "exact_images": 0.5, "boxes_found": 1.0}
    >>> table = score_set_tables({"digitscan": tally, "by_source": {"a/b": tally}, "by_kind": {}})
    >>> print(table.splitlines()[2])
    | all | 2 | 5 | 80.00 % | 50.0 % | 1.00 | — | — |
    """
    theirs = result.get("tesseract_by_source", {})
    out = ["| images | count | digits | digit accuracy | exact images | boxes found per digit | box recall "
           "| Tesseract digits / exact |", "|---|---:|---:|---:|---:|---:|---:|---:|"]

    def line(name: str, t: dict, other: dict | None) -> str:
        recall = f"{100 * t['box_recall']:.1f} %" if "box_recall" in t else "—"
        them = (f"{100 * other['digit_accuracy']:.1f} % / {100 * other['exact_images']:.1f} %"
                if other else "—")
        return (f"| {name} | {t['images']} | {t['digits']} | {100 * t['digit_accuracy']:.2f} % "
                f"| {100 * t['exact_images']:.1f} % | {t['boxes_found']:.2f} | {recall} | {them} |")

    out.append(line("all", result["digitscan"], result.get("tesseract")))
    out += [line(f"source {name}", t, theirs.get(name)) for name, t in result["by_source"].items() if name]
    out += [line(f"kind {name}", t, None) for name, t in result["by_kind"].items() if name]
    return "\n".join(out)
