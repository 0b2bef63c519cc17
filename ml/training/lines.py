"""Train the line reader (:mod:`ml.models.linenet`) with CTC on synthetic digit strings made from MNIST's
training digits (:mod:`ml.synth.strings`, fresh ones every epoch) and real strings (cheque amounts of
``../shared/datasets/orand-car-a-train``), and measure it on held-out strings.

Real strings are split into folds by a hash of the file name (:func:`fold_of`), so a fold left out of
training can be scored by the whole reader afterwards (``python -m ml score-set --fold``).

>>> fold_of("a_car_000720.jpg", 3)
1
"""

from __future__ import annotations

import csv
import math
import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch import nn

from ml.data import load_mnist
from ml.models.linenet import (
    LineNet,
    LineNetConfig,
    batch_inputs,
    best_path,
    config_dict,
    edit_distance,
    line_input,
)
from ml.progress import Progress, quiet
from ml.synth.strings import string_set

TINY = LineNetConfig(channels=(8, 8, 8), hidden=8, layers=1)  # for tests and doctests only

Strip = tuple[np.ndarray, str]  # a grey crop and the digits it shows


@dataclass(frozen=True)
class LineTrainConfig:
    epochs: int = 8
    synthetic: int = 12000  # fresh synthetic strings per epoch
    real_repeats: int = 6  # each real string this many times per epoch, augmented each time
    batch_size: int = 48
    lr: float = 2e-3  # peak of a one-cycle schedule (AdamW)
    weight_decay: float = 1e-4
    seed: int = 0
    # Form context in the synthetic strings: printed labels, dotted leaders, operators, cell sides
    # (ml.synth.strings). Off for the shipped checkpoint, which was trained before it existed.
    context: bool = False
    config: LineNetConfig = field(default_factory=LineNetConfig)


def fold_of(name: str, folds: int) -> int:
    """The fold (0 … folds − 1) a real string belongs to, stable across machines and runs.

    >>> fold_of("a_car_000720.jpg", 3), fold_of("a_car_000720.jpg", 3) == fold_of("a_car_000720.jpg", 3)
    (1, True)
    """
    return zlib.crc32(Path(name).name.encode()) % folds


def load_strips(folder: str | Path, *, folds: int = 0, exclude_fold: int | None = None,
                only_fold: int | None = None) -> list[Strip]:
    """The real strings of a folder laid out as ``orand-car-a-train`` is (``labels.csv`` with ``file``
    and ``digits``, images in ``images/``), read grey; with ``folds``, one fold left out or kept alone.

    >>> from ml.paths import dataset
    >>> len(load_strips(dataset("orand-car-a-train"), folds=3, only_fold=0)) > 300
    True
    """
    folder = Path(folder)
    strips = []
    with open(folder / "labels.csv", newline="") as f:
        for row in csv.DictReader(f):
            fold = fold_of(row["file"], folds) if folds else None
            left_out = exclude_fold is not None and fold == exclude_fold
            if left_out or (only_fold is not None and fold != only_fold):
                continue
            path = folder / row["file"]
            if not path.exists():
                path = folder / "images" / row["file"]
            gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            if gray is not None:
                strips.append((gray, row["digits"].replace(" ", "")))
    return strips


def augment_strip(rng: np.random.Generator, gray: np.ndarray) -> np.ndarray:
    """A real crop as it might have been cut and scanned otherwise: margins, scale, slant, contrast.

    >>> out = augment_strip(np.random.default_rng(0), np.full((40, 120), 200, np.uint8))
    >>> out.dtype, out.ndim
    (dtype('uint8'), 2)
    """
    h, w = gray.shape
    pad = [int(rng.integers(-h // 10, h // 5 + 1)) for _ in range(4)]  # top, bottom, left, right
    border = int(np.median(gray))
    g = cv2.copyMakeBorder(gray, *[max(p, 0) for p in pad], cv2.BORDER_CONSTANT, value=border)
    top, bottom, left, right = [max(-p, 0) for p in pad]
    g = g[top : g.shape[0] - bottom or None, left : g.shape[1] - right or None]
    shear, scale = rng.uniform(-0.15, 0.15), rng.uniform(0.6, 1.4)
    m = np.array([[scale, shear * scale, 0], [0, scale, 0]], np.float32)
    size = (max(8, int(g.shape[1] * scale + abs(shear) * g.shape[0])), max(8, int(g.shape[0] * scale)))
    g = cv2.warpAffine(g, m, size, flags=cv2.INTER_LINEAR, borderValue=border)
    g = g.astype(np.float32) * rng.uniform(0.8, 1.15) + rng.uniform(-20, 20)
    return np.clip(g, 0, 255).astype(np.uint8)


def _epoch_batches(strips: list[Strip], batch_size: int, rng: np.random.Generator) -> list[list[int]]:
    """Batches of strings of about the same width (less padding), in random order."""
    aspects = np.array([s[0].shape[1] / max(s[0].shape[0], 1) for s in strips])
    widths = aspects * rng.uniform(0.9, 1.1, len(strips))
    order = np.argsort(widths)
    batches = [order[i : i + batch_size].tolist() for i in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    return batches


def _step(net: LineNet, opt, sched, ctc: nn.CTCLoss, batch: list[Strip]) -> tuple[float, int]:
    inputs = [line_input(g) for g, _ in batch]
    x, columns = batch_inputs(inputs)
    targets = torch.tensor([int(c) + 1 for _, t in batch for c in t], dtype=torch.long)
    lengths = torch.tensor([len(t) for _, t in batch], dtype=torch.long)
    log_probs = net(x)
    loss = ctc(log_probs, targets, columns, lengths)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(net.parameters(), 5.0)
    opt.step()
    sched.step()
    reads = best_path(log_probs.detach(), columns)
    return float(loss.detach()), sum(r.text == t for r, (_, t) in zip(reads, batch))


def train_lines(cfg: LineTrainConfig, real: list[Strip], *, progress: Progress = quiet,
                init: LineNet | None = None, dry_run: bool = False) -> LineNet:
    """Train a line network (``init``'s weights to start from, else fresh) by ``cfg``: every epoch
    ``cfg.synthetic`` new synthetic strings and each of ``real`` ``cfg.real_repeats`` times, augmented.
    Progress events as :mod:`ml.progress` describes (accuracy: strings read exactly).

    >>> cfg = LineTrainConfig(epochs=1, synthetic=64, batch_size=32, config=TINY)
    >>> net = train_lines(cfg, [], dry_run=True)
    >>> type(net).__name__, net.training
    ('LineNet', False)
    """
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    mnist = load_mnist()[0]
    images, labels = mnist.images.numpy(), mnist.labels.numpy()
    net = init or LineNet(cfg.config)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    per_epoch = cfg.synthetic + cfg.real_repeats * len(real)
    steps = 2 if dry_run else math.ceil(per_epoch / cfg.batch_size)
    epochs = 1 if dry_run else cfg.epochs
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, cfg.lr, total_steps=epochs * steps + 1, pct_start=0.15)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    for epoch in range(1, epochs + 1):
        net.train()
        strips = string_set(images, labels, cfg.synthetic, seed=cfg.seed * 1000 + epoch,
                             context=cfg.context)
        strips += [(augment_strip(rng, g), t) for _ in range(cfg.real_repeats) for g, t in real]
        seen = right = 0
        loss_sum = 0.0
        for step, idx in enumerate(_epoch_batches(strips, cfg.batch_size, rng)[:steps]):
            loss, ok = _step(net, opt, sched, ctc, [strips[i] for i in idx])
            seen, right, loss_sum = seen + len(idx), right + ok, loss_sum + loss * len(idx)
            progress({"event": "batch", "epoch": epoch, "epochs": epochs, "step": step + 1, "steps": steps,
                      "loss": loss_sum / seen, "accuracy": right / seen})
        progress({"event": "epoch", "epoch": epoch, "epochs": epochs, "loss": loss_sum / max(seen, 1),
                  "accuracy": right / max(seen, 1)})
    net.eval()
    return net


@torch.no_grad()
def line_metrics(net: LineNet, strips: list[Strip], *, batch_size: int = 64) -> dict[str, Any]:
    """Strings read exactly and digits right (1 − edits / digits) over ``strips``.

    >>> sorted(line_metrics(LineNet(TINY), [(np.full((40, 100), 220, np.uint8), "7")]))
    ['digit_accuracy', 'exact', 'strings']
    """
    net.eval()
    exact = edits = digits = 0
    for i in range(0, len(strips), batch_size):
        chunk = strips[i : i + batch_size]
        x, columns = batch_inputs([line_input(g) for g, _ in chunk])
        for r, (_, t) in zip(best_path(net(x), columns), chunk):
            exact += r.text == t
            edits += edit_distance(r.text, t)
            digits += len(t)
    return {"strings": len(strips), "exact": round(exact / max(len(strips), 1), 4),
            "digit_accuracy": round(1 - edits / max(digits, 1), 4)}


def training_record(cfg: LineTrainConfig, real_source: str, real: int, seconds: float) -> dict[str, Any]:
    """What a line checkpoint stores of how it was trained.

    >>> training_record(LineTrainConfig(), "orand", 720, 12.5)["config"]["net"]["hidden"]
    96
    """
    config = {k: v for k, v in asdict(cfg).items() if k != "config"}
    config["net"] = config_dict(cfg.config)
    return {"config": config, "real": {"source": real_source, "strings": real},
            "synthetic": {"source": "MNIST training digits (ml.synth.strings)", "per_epoch": cfg.synthetic},
            "seconds": round(seconds, 1), "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}
