"""How well ``read`` reads an evaluation set (``ml.synth.evalset``): digit accuracy (1 − edit distance
/ digits), exact pages, exact lines, box precision and recall at IoU ≥ 0.5, milliseconds per page, the
confidence-threshold table, and with ``tesseract`` on the PATH the same for Tesseract.

>>> edit_distance("1234", "1334"), edit_distance("", "12"), round(iou([0, 0, 10, 10], [5, 0, 10, 10]), 3)
(1, 2, 0.333)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ml.models.checkpoint import LoadedModel
from ml.models.linemodel import LineModel
from ml.models.linenet import edit_distance
from ml.reading.decode import decode_image
from ml.reading.params import ALL_STEPS, Steps
from ml.reading.reader import read


def iou(a: list[int], b: list[int]) -> float:
    """Intersection over union of two [x, y, w, h] boxes.

    >>> round(iou([0, 0, 10, 10], [5, 0, 10, 10]), 3)
    0.333
    """
    w = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    h = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = w * h
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union else 0.0


def match_boxes(found: list[list[int]], truth: list[list[int]], *, threshold: float = 0.5
                ) -> list[tuple[int, int]]:
    """Greedy one-to-one matching of boxes at IoU ≥ threshold: (found index, truth index) pairs.

    >>> match_boxes([[0, 0, 10, 10], [50, 0, 10, 10]], [[1, 0, 10, 10], [90, 0, 10, 10]])
    [(0, 0)]
    """
    pairs = sorted(((iou(f, t), i, j) for i, f in enumerate(found) for j, t in enumerate(truth)),
                   reverse=True)
    used_f, used_t, matched = set(), set(), []
    for score, i, j in pairs:
        if score < threshold:
            break
        if i not in used_f and j not in used_t:
            used_f.add(i)
            used_t.add(j)
            matched.append((i, j))
    return matched


def box_matches(found: list[list[int]], truth: list[list[int]], *, threshold: float = 0.5) -> int:
    """The number of boxes matched one-to-one at IoU ≥ threshold.

    >>> box_matches([[0, 0, 10, 10], [0, 0, 10, 10]], [[0, 0, 10, 10]])   # one to one
    1
    """
    return len(match_boxes(found, truth, threshold=threshold))


def calibration(pairs: list[tuple[float, bool]], thresholds=(0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)
                ) -> list[dict[str, float]]:
    """For each threshold: the share of digits it flags as uncertain, and the error rate among the
    digits it flags and among those it passes. ``pairs`` are (confidence, read correctly).

    >>> row = calibration([(0.99, True), (0.6, False), (0.7, True)], thresholds=(0.8,))[0]
    >>> round(row["flagged"], 3), row["error_flagged"], row["errors_caught"]
    (0.667, 0.5, 1.0)
    """
    conf = np.array([c for c, _ in pairs], np.float64)
    right = np.array([ok for _, ok in pairs], bool)
    rows = []
    for t in thresholds:
        low = conf < t
        rows.append({"threshold": t, "flagged": float(low.mean()) if len(conf) else 0.0,
                     "error_flagged": float((~right[low]).mean()) if low.any() else 0.0,
                     "error_passed": float((~right[~low]).mean()) if (~low).any() else 0.0,
                     "errors_caught": float((~right & low).sum() / max((~right).sum(), 1))})
    return rows


def reliability(pairs: list[tuple[float, bool]], bins: int = 10) -> dict[str, Any]:
    """The reliability table of ``pairs`` (confidence, read correctly): per confidence bin the digits
    in it, their mean confidence and their accuracy; and the expected calibration error (the gap
    between confidence and accuracy, averaged over digits).

    >>> table = reliability([(0.95, True), (0.91, False), (0.55, True)], bins=4)
    >>> [(b["digits"], b["accuracy"]) for b in table["bins"]], table["ece"]
    ([(1, 1.0), (2, 0.5)], 0.4367)
    """
    conf = np.array([c for c, _ in pairs], np.float64)
    right = np.array([ok for _, ok in pairs], float)
    which = np.minimum((conf * bins).astype(int), bins - 1)
    rows, gap = [], 0.0
    for b in range(bins):
        inside = which == b
        if not inside.any():
            continue
        mean, accuracy = float(conf[inside].mean()), float(right[inside].mean())
        gap += inside.sum() * abs(mean - accuracy)
        rows.append({"from": b / bins, "to": (b + 1) / bins, "digits": int(inside.sum()),
                     "confidence": round(mean, 4), "accuracy": round(accuracy, 4)})
    return {"bins": rows, "ece": round(float(gap) / max(len(conf), 1), 4)}


def _tally(rows: list[dict]) -> dict[str, float]:
    digits = sum(r["truth_digits"] for r in rows)
    lines = sum(r["truth_lines"] for r in rows)
    found = sum(r["found_boxes"] for r in rows)
    summary = {
        "pages": len(rows),
        "digit_accuracy": 1 - sum(r["edits"] for r in rows) / max(digits, 1),
        "exact_pages": sum(r["exact_page"] for r in rows) / max(len(rows), 1),
        "exact_lines": sum(r["exact_lines"] for r in rows) / max(lines, 1),
        "ms_per_page_p50": float(np.median([r["ms"] for r in rows])) if rows else 0.0,
    }
    if any("matched_boxes" in r for r in rows):
        matched = sum(r.get("matched_boxes", 0) for r in rows)
        summary.update(box_precision=matched / max(found, 1), box_recall=matched / max(digits, 1))
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in summary.items()}


def _row(truth: dict, lines: list[str], ms: float, boxes: list[list[int]] | None) -> dict:
    want, got = "".join(truth["lines"]), "".join(lines)
    row = {"truth_digits": len(want), "truth_lines": len(truth["lines"]), "edits": edit_distance(got, want),
           "exact_page": lines == truth["lines"], "ms": ms, "found_boxes": len(boxes or []),
           "exact_lines": sum(a == b for a, b in zip(lines, truth["lines"]))}
    if boxes is not None:
        row["matched_boxes"] = box_matches(boxes, [d["box"] for d in truth["digits"]])
    return row


def tesseract_lines(path: Path) -> list[str] | None:
    """Tesseract's digit lines for one image (digits whitelist), or None if it is not installed.

    >>> lines = tesseract_lines(Path("docs/samples/digits.png"))
    >>> lines is None or all(line.isdigit() for line in lines)
    True
    """
    exe = shutil.which("tesseract")
    if exe is None:
        return None
    try:
        digits_only = ["--psm", "6", "-c", "tessedit_char_whitelist=0123456789"]
        out = subprocess.run([exe, str(path), "stdout", *digits_only], capture_output=True, text=True,
                             timeout=60, env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    except subprocess.TimeoutExpired:  # some photos hold Tesseract for minutes: scored as nothing read
        return []
    return [ln.replace(" ", "") for ln in out.stdout.splitlines() if ln.replace(" ", "")]


def score(folder: str | Path, *, model: LoadedModel | None = None, tesseract: bool = True,
          steps: Steps = ALL_STEPS, progress: Callable[[int], None] | None = None,
          line_model: LineModel | None = None) -> dict[str, Any]:
    """Read every page of ``folder`` and score it against its truth (and Tesseract when installed).

    ``steps`` switches pipeline steps off for the ablation study.

    >>> import tempfile
    >>> from ml.synth.evalset import generate
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = generate(tmp, n=2, seed=3, tier="clean")
    ...     result = score(tmp, tesseract=False)
    >>> result["digitscan"]["pages"], result["digitscan"]["digit_accuracy"] > 0.9
    (2, True)
    """
    folder = Path(folder)
    ours, theirs, failures, confidences = [], [], [], []
    for k, truth_path in enumerate(sorted(folder.glob("page-*.json"))):
        truth = json.loads(truth_path.read_text())
        image = decode_image((folder / truth["image"]).read_bytes())
        start = time.perf_counter()
        reading = read(image, model=model, steps=steps, line_model=line_model)
        ms = (time.perf_counter() - start) * 1e3
        row = _row(truth, reading.line_texts, ms, [d.box for d in reading.digits])
        row["kind"] = truth.get("kind", "")
        ours.append(row)
        for i, j in match_boxes([d.box for d in reading.digits], [d["box"] for d in truth["digits"]]):
            confidences.append((reading.digits[i].confidence,
                                reading.digits[i].digit == truth["digits"][j]["digit"]))
        if not row["exact_page"]:
            failures.append({"image": truth["image"], "truth": truth["lines"], "read": reading.line_texts,
                             "edits": row["edits"], "reading": reading.to_dict()})
        if tesseract and shutil.which("tesseract"):
            start = time.perf_counter()
            lines = tesseract_lines(folder / truth["image"]) or []
            theirs.append(_row(truth, lines, (time.perf_counter() - start) * 1e3, None))
        if progress:
            progress(k + 1)
    kinds = sorted({r["kind"] for r in ours if r.get("kind")})
    result: dict[str, Any] = {"folder": str(folder), "digitscan": _tally(ours),
                              "by_kind": {k: _tally([r for r in ours if r.get("kind") == k]) for k in kinds},
                              "calibration": calibration(confidences),
                              "failures": sorted(failures, key=lambda f: -f["edits"])}
    if theirs:
        result["tesseract"] = _tally(theirs)
    return result


def score_tables(result: dict[str, Any]) -> str:
    """:func:`score`'s result as ``python -m ml score-pages`` prints it: the measures (Tesseract beside
    ours when it ran), the kinds of scene, and the confidence-threshold table.

    >>> result = {"digitscan": {"pages": 1, "digit_accuracy": 1.0}, "failures": [], "calibration": []}
    >>> print(score_tables(result).splitlines()[2])
    | digit accuracy | 100.00 % |
    """
    names = ["digit_accuracy", "exact_pages", "exact_lines", "box_precision", "box_recall", "ms_per_page_p50"]
    systems = [k for k in ("digitscan", "tesseract") if k in result]
    out = ["| measure | " + " | ".join(systems) + " |", "|---|" + "---:|" * len(systems)]
    for name in names:
        cells = []
        for system in systems:
            value = result[system].get(name)
            if value is None:
                cells.append("—")
            else:
                cells.append(f"{value:.1f}" if name.startswith("ms") else f"{100 * value:.2f} %")
        out.append(f"| {name.replace('_', ' ')} | " + " | ".join(cells) + " |")
    out.append(f"pages: {result['digitscan']['pages']}; pages not read exactly: {len(result['failures'])}")
    if result.get("by_kind"):
        out.append("\n| kind | pages | digit accuracy | exact pages | box recall |")
        out.append("|---|---:|---:|---:|---:|")
        for kind, t in result["by_kind"].items():
            out.append(f"| {kind} | {t['pages']} | {100 * t['digit_accuracy']:.2f} % "
                       f"| {100 * t['exact_pages']:.1f} % | {100 * t.get('box_recall', 0):.1f} % |")
    out.append("\nconfidence threshold (digits whose box matched the truth):")
    out.append("| threshold | flagged uncertain | errors among flagged | errors among the rest "
               "| errors caught |")
    out.append("|---:|---:|---:|---:|---:|")
    for row in result["calibration"]:
        out.append(f"| {row['threshold']:.2f} | {100 * row['flagged']:.2f} % "
                   f"| {100 * row['error_flagged']:.1f} % | {100 * row['error_passed']:.2f} % "
                   f"| {100 * row['errors_caught']:.0f} % |")
    return "\n".join(out)
