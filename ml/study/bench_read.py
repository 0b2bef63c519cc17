"""How fast ``read`` is, as a ratio to decoding the same photo: a phone-sized JPEG of MNIST test digits,
decoded and read in turn, so a burst of load elsewhere on the machine hits both alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import cv2
import numpy as np
import torch

from ml.data import load_mnist
from ml.machine import machine_line
from ml.models.checkpoint import LoadedModel
from ml.models.preprocess import batch_to_mnist
from ml.reading.decode import decode_image
from ml.reading.reader import default_model, read
from ml.synth.photo import phone_photo

Runs = Callable[[range], Iterable[int]]  # e.g. a tqdm bar around the timed runs


def _percentiles(values: list[float]) -> dict[str, float]:
    return {f"p{q}": round(float(np.percentile(values, q)), 2) for q in (50, 95)}


def bench_read(*, size: tuple[int, int] = (1600, 1200), digits: int = 10, runs: int = 200, seed: int = 0,
               model: LoadedModel | None = None, wrap: Runs = iter, command: str = "") -> dict[str, Any]:
    """Decode and read one ``size`` (width, height) photo of ``digits`` digits ``runs`` times, interleaved;
    p50/p95 of each and the ratio of read to decode.

    >>> result = bench_read(size=(640, 480), digits=4, runs=2)
    >>> result["runs"], result["read_over_decode_p50"] > 0, result["truth"] == result["read"]
    (2, True, True)
    """
    model = model or default_model()
    _, test = load_mnist()
    page, truth = phone_photo(test.images.numpy(), test.labels.numpy(), seed=seed, size=size, digits=digits)
    data = cv2.imencode(".jpg", page, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
    image = decode_image(data)
    for _ in range(5):  # warm-up: first calls allocate and pick kernels
        read(image, model=model)
    decode_ms, read_ms, both_ms, parts = [], [], [], []
    for _ in wrap(range(runs)):
        t0 = time.perf_counter()
        decode_image(data)
        t1 = time.perf_counter()
        reading = read(image, model=model)
        t2 = time.perf_counter()
        read(data, model=model)
        t3 = time.perf_counter()
        decode_ms.append((t1 - t0) * 1e3)
        read_ms.append((t2 - t1) * 1e3)
        both_ms.append((t3 - t2) * 1e3)
        parts.append(reading.timings_ms)
    return {
        "image": f"{size[0]}x{size[1]} JPEG q90, {len(data) / 1024:.0f} KiB, {digits} digits",
        "truth": truth["lines"], "read": reading.line_texts, "runs": runs,
        "decode_ms": _percentiles(decode_ms), "read_ms": _percentiles(read_ms),
        "decode_and_read_ms": _percentiles(both_ms),
        "segment_ms_p50": round(float(np.median([p["segment"] for p in parts])), 2),
        "classify_ms_p50": round(float(np.median([p["classify"] for p in parts])), 2),
        "read_over_decode_p50": round(float(np.median(read_ms) / np.median(decode_ms)), 2),
        "machine": machine_line(), "command": command,
    }


def bench_digit(*, runs: int = 300, model: LoadedModel | None = None, wrap: Runs = iter) -> dict[str, Any]:
    """How long ``read`` takes on one 28×28 MNIST test digit as stored (white on black, PNG), beside
    decoding it and one forward pass of the classifier on one crop, interleaved.

    >>> result = bench_digit(runs=3)
    >>> result["read"], result["read_over_decode_and_forward_p50"] > 0
    ('7', True)
    """
    model = model or default_model()
    _, test = load_mnist()
    digit = test.images.numpy()[0]
    data = cv2.imencode(".png", digit)[1].tobytes()
    crop = torch.from_numpy(batch_to_mnist([digit.astype(np.float32) / 255]))
    for _ in range(5):
        read(data, model=model)
    decode_ms, forward_ms, read_ms = [], [], []
    for _ in wrap(range(runs)):
        t0 = time.perf_counter()
        decode_image(data)
        t1 = time.perf_counter()
        model.predict_proba(crop)
        t2 = time.perf_counter()
        text = read(data, model=model).text
        t3 = time.perf_counter()
        decode_ms.append((t1 - t0) * 1e3)
        forward_ms.append((t2 - t1) * 1e3)
        read_ms.append((t3 - t2) * 1e3)
    base = float(np.median(decode_ms) + np.median(forward_ms))
    return {"image": "MNIST test digit 0 as stored, 28x28 PNG", "read": text,
            "truth": str(int(test.labels[0])),
            "runs": runs, "decode_ms": _percentiles(decode_ms), "forward_ms": _percentiles(forward_ms),
            "read_ms": _percentiles(read_ms),
            "read_over_decode_and_forward_p50": round(float(np.median(read_ms)) / base, 2),
            "machine": machine_line()}


def bench_table(result: dict[str, Any]) -> str:
    """:func:`bench_read`'s figures as ``python -m ml bench-read`` prints them.

    >>> print(bench_table(bench_read(size=(640, 480), digits=4, runs=1)).splitlines()[1])
    | step | p50 ms | p95 ms |
    """
    lines = [f"image: {result['image']}; truth {' '.join(result['truth'])}, read {' '.join(result['read'])}",
             "| step | p50 ms | p95 ms |\n|---|---:|---:|"]
    for name in ("decode_ms", "read_ms", "decode_and_read_ms"):
        step = name[:-3].replace("_", " ")
        lines.append(f"| {step} | {result[name]['p50']:.2f} | {result[name]['p95']:.2f} |")
    lines.append(f"read / decode (p50): {result['read_over_decode_p50']:.2f}×; inside read: segment "
                 f"{result['segment_ms_p50']:.2f} ms, classify {result['classify_ms_p50']:.2f} ms (p50)")
    return "\n".join(lines)
