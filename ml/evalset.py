"""An evaluation set of photo-like pages built from MNIST **test** digits, and a scorer for ``read``.

``generate`` writes ``page-NNNN.jpg`` (or ``.png`` for the clean tier) with ``page-NNNN.json`` ground
truth (lines, and per digit its value, box, line and index in the MNIST test set) into a folder.
The photo tier varies what phones vary: paper colour and illumination gradients, a hand's shadow,
sensor noise, blur, JPEG quality 55–95, black, blue or pencil ink, a few degrees of rotation, thicker and
thinner strokes, neighbouring pairs that touch. The clean tier is a flat scan: white paper, black ink,
no rotation, PNG.

``score`` reads every page with :func:`ml.read` and compares with the truth: digit accuracy
(1 − edit distance / digits), exact pages, exact lines, box precision and recall at IoU ≥ 0.5, and
milliseconds per page; with ``tesseract`` on the PATH it scores Tesseract on the same pages.

>>> import numpy as np
>>> edit_distance("1234", "1334"), edit_distance("", "12")
(1, 2)
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

TIERS = ("photo", "clean", "scenes")  # scenes: ml.scenes, six real-world situations in turn
INKS = {"black": (25, 25, 30), "blue": (150, 60, 25), "pencil": (95, 95, 100)}  # BGR


def digit_ink(image: np.ndarray, height: int, *, stroke: int = 0) -> np.ndarray:
    """One MNIST digit cut to its ink, scaled to ``height`` px, with its stroke thickened or thinned."""
    rows, cols = np.nonzero(image.any(axis=1))[0], np.nonzero(image.any(axis=0))[0]
    ink = image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(np.float32) / 255
    scale = height / ink.shape[0]
    ink = cv2.resize(ink, (max(1, round(ink.shape[1] * scale)), height), interpolation=cv2.INTER_CUBIC)
    if stroke:
        k = np.ones((abs(stroke) * 2 + 1,) * 2, np.uint8)
        ink = cv2.dilate(ink, k) if stroke > 0 else cv2.erode(ink, k)
    return np.clip(ink, 0, 1)


def light_ramp(h: int, w: int, angle: float) -> np.ndarray:
    """A linear ramp across an (h, w) page in direction ``angle``, from 0 to 1: light falling off."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ramp = np.cos(angle) * xx / w + np.sin(angle) * yy / h
    return (ramp - ramp.min()) / max(np.ptp(ramp), 1e-6)


def _layout(images: np.ndarray, labels: np.ndarray, rng: np.random.Generator, tier: str, *,
            height: int | None = None, n_lines: int | None = None, per_line: int | None = None):
    """Place 1–3 lines of 1–8 digits on an ink canvas; returns canvas (float, ink high) and truth."""
    height = height or int(rng.integers(40, 141))
    n_lines = n_lines or int(rng.integers(1, 4))
    margin = int(height * rng.uniform(0.5, 1.2))
    placed, truth_lines, y = [], [], margin
    for line_no in range(n_lines):
        digits = rng.integers(0, 10, per_line or int(rng.integers(1, 9)))
        truth_lines.append("".join(str(d) for d in digits))
        x = margin
        for d in digits:
            index = int(rng.choice(np.flatnonzero(labels == d)))
            sample = images[index]
            stroke = 0 if tier == "clean" else int(rng.choice([-1, 0, 0, 1, 2])) * max(1, height // 60)
            ink = digit_ink(sample, int(height * rng.uniform(0.9, 1.05)), stroke=stroke)
            jitter = int(rng.integers(-height // 10, height // 10 + 1))
            placed.append((ink, x, y + jitter, int(d), line_no, index))
            # Mostly a normal gap; on photos now and then a pair that touches (negative gap).
            touching = tier == "photo" and rng.random() < 0.12
            gap = -0.06 if touching else rng.uniform(0.15, 0.5)
            x += ink.shape[1] + int(gap * height)
        y += int(height * rng.uniform(1.5, 2.0))
    width = max(p[1] for p in placed) + max(p[0].shape[1] for p in placed) + margin
    canvas = np.zeros((y + margin, width), np.float32)
    digits = []
    for ink, x, y0, d, line_no, index in placed:
        region = canvas[y0 : y0 + ink.shape[0], x : x + ink.shape[1]]
        np.maximum(region, ink[: region.shape[0], : region.shape[1]], out=region)
        r, c = np.nonzero(ink > 0.2)
        digits.append({"digit": d, "line": line_no, "mnist_test_index": index,
                       "box": [int(x + c.min()), int(y0 + r.min()), int(np.ptp(c) + 1), int(np.ptp(r) + 1)]})
    return canvas, {"lines": truth_lines, "digits": digits}


def _rotate(canvas: np.ndarray, truth: dict, degrees: float) -> np.ndarray:
    """Rotate the page about its centre (canvas grows to fit); boxes follow as bounding boxes."""
    h, w = canvas.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos), int(h * cos + w * sin)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    for d in truth["digits"]:
        x, y, bw, bh = d["box"]
        corners = np.array([[x, y, 1], [x + bw, y, 1], [x, y + bh, 1], [x + bw, y + bh, 1]], np.float64)
        pts = corners @ m.T
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        d["box"] = [int(x0), int(y0), int(round(x1 - x0)), int(round(y1 - y0))]
    return cv2.warpAffine(canvas, m, (nw, nh), flags=cv2.INTER_LINEAR)


def _photograph(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Render ink on paper the way a phone sees it: tint, light gradient, shadow, noise, blur."""
    h, w = ink.shape
    paper = np.array([rng.uniform(200, 250), rng.uniform(205, 250), rng.uniform(210, 252)], np.float32)
    pen = np.array(INKS[str(rng.choice(list(INKS)))], np.float32)
    strength = rng.uniform(0.55, 0.85) if pen[0] == INKS["pencil"][0] else 1.0
    a = (ink * strength)[..., None]
    img = paper * (1 - a) + pen * a
    # Illumination: a linear gradient in a random direction, and sometimes a soft shadow band.
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ramp = light_ramp(h, w, rng.uniform(0, 2 * np.pi))
    light = 1 - rng.uniform(0.05, 0.35) * ramp
    if rng.random() < 0.4:
        edge = rng.uniform(0.2, 0.8) * w + np.tan(rng.uniform(-0.5, 0.5)) * (yy - h / 2)
        softness = rng.uniform(0.02, 0.1) * w
        light *= 1 - rng.uniform(0.2, 0.45) / (1 + np.exp((xx - edge) / softness))
    img *= light[..., None]
    img += rng.normal(0, rng.uniform(2, 8), img.shape)
    k = int(rng.choice([0, 0, 3, 5]))
    if k:
        img = cv2.GaussianBlur(img, (k, k), 0)
    return np.clip(img, 0, 255).astype(np.uint8)


def make_page(images: np.ndarray, labels: np.ndarray, *, seed: int, tier: str = "photo"
              ) -> tuple[np.ndarray, dict[str, Any], int]:
    """One page (BGR uint8), its truth and its JPEG quality (0 for PNG)."""
    assert tier in TIERS, f"tier must be one of {TIERS}, got {tier!r}"
    rng = np.random.default_rng(seed)
    canvas, truth = _layout(images, labels, rng, tier)
    if tier == "clean":
        page = (255 - canvas[..., None] * 235).clip(0, 255).astype(np.uint8).repeat(3, axis=2)
        return page, truth, 0
    canvas = _rotate(canvas, truth, rng.uniform(-4, 4))
    return _photograph(canvas, rng), truth, int(rng.integers(55, 96))


def phone_photo(images: np.ndarray, labels: np.ndarray, *, seed: int = 0,
                size: tuple[int, int] = (1600, 1200), digits: int = 10) -> tuple[np.ndarray, dict[str, Any]]:
    """A ``size`` (width, height) photo-tier page holding ``digits`` digits in two lines, as a phone
    would take it: the workload of the reading speed benchmark."""
    rng = np.random.default_rng(seed)
    canvas, truth = _layout(images, labels, rng, "photo", height=size[1] // 10, n_lines=2,
                            per_line=(digits + 1) // 2)
    w, h = size
    assert canvas.shape[0] <= h and canvas.shape[1] <= w, f"{digits} digits do not fit in {size}"
    top, left = (h - canvas.shape[0]) // 2, (w - canvas.shape[1]) // 2
    page = np.zeros((h, w), np.float32)
    page[top : top + canvas.shape[0], left : left + canvas.shape[1]] = canvas
    for d in truth["digits"]:
        d["box"][0] += left
        d["box"][1] += top
    return _photograph(page, rng), truth


def generate(out: str | Path, *, n: int, seed: int = 0, tier: str = "photo",
             progress: Callable[[int], None] | None = None) -> Path:
    """Write ``n`` pages with ground truth into ``out``; pages depend only on (seed, index, tier)."""
    from .data import load_mnist

    _, test = load_mnist()  # test digits only: the model never saw them
    images, labels = test.images.numpy(), test.labels.numpy()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        if tier == "scenes":
            from .scenes import KINDS, make_scene

            page, truth, quality = make_scene(images, labels, seed=seed * 1_000_003 + i,
                                              kind=KINDS[i % len(KINDS)])
        else:
            page, truth, quality = make_page(images, labels, seed=seed * 1_000_003 + i, tier=tier)
        name = f"page-{i:04d}." + ("jpg" if quality else "png")
        params = [cv2.IMWRITE_JPEG_QUALITY, quality] if quality else []
        cv2.imwrite(str(out / name), page, params)
        (out / f"page-{i:04d}.json").write_text(json.dumps({"image": name, "tier": tier, **truth}))
        if progress:
            progress(i + 1)
    return out


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance between two strings."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def iou(a: list[int], b: list[int]) -> float:
    w = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    h = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = w * h
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union else 0.0


def match_boxes(found: list[list[int]], truth: list[list[int]], *, threshold: float = 0.5
                ) -> list[tuple[int, int]]:
    """Greedy one-to-one matching of boxes at IoU ≥ threshold: (found index, truth index) pairs."""
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
    """The number of boxes matched one-to-one at IoU ≥ threshold."""
    return len(match_boxes(found, truth, threshold=threshold))


def calibration(pairs: list[tuple[float, bool]], thresholds=(0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)
                ) -> list[dict[str, float]]:
    """For each threshold: the share of digits it flags as uncertain, and the error rate among the
    digits it flags and among those it passes. ``pairs`` are (confidence, read correctly)."""
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
    """Tesseract's digit lines for one image (digits whitelist), or None if it is not installed."""
    exe = shutil.which("tesseract")
    if exe is None:
        return None
    out = subprocess.run([exe, str(path), "stdout", "--psm", "6", "-c", "tessedit_char_whitelist=0123456789"],
                         capture_output=True, text=True, timeout=60)
    return [ln.replace(" ", "") for ln in out.stdout.splitlines() if ln.replace(" ", "")]


def score(folder: str | Path, *, model=None, tesseract: bool = True, steps=None,
          progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Read every page of ``folder`` and score it against its truth (and Tesseract when installed).

    ``steps`` (:class:`ml.segment.Steps`) switches pipeline steps off for the ablation study.
    """
    from .reading import decode_image, read
    from .segment import ALL_STEPS

    folder = Path(folder)
    ours, theirs, failures, confidences = [], [], [], []
    for k, truth_path in enumerate(sorted(folder.glob("page-*.json"))):
        truth = json.loads(truth_path.read_text())
        image = decode_image((folder / truth["image"]).read_bytes())
        start = time.perf_counter()
        reading = read(image, model=model, steps=steps or ALL_STEPS)
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


def gallery(folder: str | Path, failures: list[dict], out: str | Path, *, model=None, steps=None,
            max_side: int = 720) -> Path:
    """Annotated PNGs of ``failures`` (from :func:`score`) with the truth and the reading written on
    top, and an ``index.md`` listing them, in ``out``."""
    from .reading import annotate, decode_image, read
    from .segment import ALL_STEPS

    folder, out = Path(folder), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for f in failures:
        image = decode_image((folder / f["image"]).read_bytes())
        drawn = annotate(image, read(image, model=model, steps=steps or ALL_STEPS))
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
    header = "| page | truth | read | edits |\n|---|---|---|---:|\n"
    (out / "index.md").write_text(header + "\n".join(rows) + "\n")
    return out
