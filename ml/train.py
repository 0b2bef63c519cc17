"""Training and evaluation for every family, returning metrics rather than printing them.

Progress goes through a callback that receives plain dicts (``{"event": "batch", "epoch": 2, ...}``):
the command line turns them into tqdm bars, a Celery task into a progress field in the database.

>>> from ml.models import build
>>> from ml.data import load_mnist
>>> train_split, test_split = load_mnist()                       # doctest: +SKIP
>>> model = fit(build("logreg"), train_split.subset(2000))        # doctest: +SKIP
>>> evaluate(model, test_split)["accuracy"] > 0.8                 # doctest: +SKIP
True
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from .data import Split
from .models import Classifier, SklearnClassifier, TorchClassifier, TrainConfig

Progress = Callable[[dict[str, Any]], None]


def _noop(_: dict[str, Any]) -> None:
    pass


def pixels(images: torch.Tensor) -> torch.Tensor:
    """uint8 MNIST images → float32 in [0, 1], the input every family takes."""
    return images.float().div_(255.0) if images.dtype == torch.uint8 else images.float()


def augment(x: torch.Tensor, cfg: TrainConfig, gen: torch.Generator) -> torch.Tensor:
    """Random affine (rotate, shift, scale) and stroke width changes on a (N, 28, 28) batch.

    Whole-batch tensor ops: one ``affine_grid`` + ``grid_sample`` call, no per-sample Python.
    """
    n = len(x)
    x = x.unsqueeze(1)
    if cfg.rotate or cfg.shift or cfg.scale:
        def uniform(limit: float) -> torch.Tensor:
            return (torch.rand(n, generator=gen) * 2 - 1) * limit

        angle = uniform(math.radians(cfg.rotate))
        scale = 1 + uniform(cfg.scale)
        # affine_grid maps output to input coordinates in [-1, 1]; a shift of s*28 px is 2*s there.
        tx, ty = uniform(2 * cfg.shift), uniform(2 * cfg.shift)
        cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
        theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")
    if cfg.stroke:
        # Grey-level dilation (thicker pen) or erosion (thinner pen) with a 2×2 window, on a random
        # share of the batch each; it mimics the spread of pens seen in uploads.
        r = torch.rand(n, generator=gen).view(n, 1, 1, 1)
        thick = F.max_pool2d(F.pad(x, (0, 1, 0, 1)), 2, stride=1)
        thin = -F.max_pool2d(F.pad(-x, (0, 1, 0, 1), value=-0.0), 2, stride=1)
        x = torch.where(r < cfg.stroke, thick, torch.where(r > 1 - cfg.stroke, thin, x))
    return x.squeeze(1)


def _lr_scheduler(opt: torch.optim.Optimizer, cfg: TrainConfig, steps: int):
    if cfg.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=cfg.lr, total_steps=steps, pct_start=0.2, div_factor=10, final_div_factor=100
        )
    assert cfg.schedule == "constant", f"schedule must be constant or onecycle, got {cfg.schedule!r}"
    return None


def fit_torch(model: TorchClassifier, train: Split, *, progress: Progress = _noop,
              seed: int = 0, dry_run: bool = False,
              epoch_end: Callable[[int, TorchClassifier], None] | None = None) -> TorchClassifier:
    """Train ``model.module`` in place by its TrainConfig; with EMA, the average replaces it.

    ``epoch_end(epoch, model)`` is called after each epoch (the module in eval mode), for example to
    track test accuracy per epoch; it must not change the model.
    """
    cfg = model.train_config
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    x_all, y_all = pixels(train.images), train.labels
    if cfg.negatives and not dry_run:
        assert model.outputs == 11, "negatives need a model with the reject output (CNNConfig.reject)"
        from .negatives import NOT_A_DIGIT, make_negatives

        count = int(round(cfg.negatives * len(y_all)))
        progress({"event": "negatives", "samples": count})
        extra = torch.from_numpy(make_negatives(x_all.numpy(), count, seed=seed))
        x_all = torch.cat([x_all, extra])
        y_all = torch.cat([y_all, torch.full((count,), NOT_A_DIGIT, dtype=y_all.dtype)])
    rendered = None
    if cfg.render and not dry_run:
        from .negatives import render_like_reading

        progress({"event": "render", "samples": len(train)})
        # Non-digits were made by the same cut-and-normalise path already: they are their own render.
        rendered = torch.cat([torch.from_numpy(render_like_reading(train.images.numpy(), seed=seed)),
                              x_all[len(train):]])
    module = model.module
    opt = torch.optim.Adam(module.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    batches = math.ceil(len(y_all) / cfg.batch_size)
    epochs = 1 if dry_run else cfg.epochs
    steps_per_epoch = 2 if dry_run else batches
    sched = _lr_scheduler(opt, cfg, epochs * steps_per_epoch)
    ema = None
    if cfg.ema:
        ema = torch.optim.swa_utils.AveragedModel(
            module, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(cfg.ema), use_buffers=True
        )
    augmenting = any((cfg.rotate, cfg.shift, cfg.scale, cfg.stroke))
    # Channels-last convolutions run about a third faster on CPU (oneDNN's preferred layout).
    channels_last = model.family == "cnn"
    if channels_last:
        module.to(memory_format=torch.channels_last)
    for epoch in range(1, epochs + 1):
        module.train()
        order = torch.randperm(len(y_all), generator=gen)
        seen = correct = 0
        loss_sum = 0.0
        for step in range(steps_per_epoch):
            idx = order[step * cfg.batch_size : (step + 1) * cfg.batch_size]
            x, y = x_all[idx], y_all[idx]
            if rendered is not None:
                pick = torch.rand(len(idx), generator=gen) < cfg.render
                x = torch.where(pick.view(-1, 1, 1), rendered[idx], x)
            if augmenting:
                x = augment(x, cfg, gen)
            if channels_last:
                x = x.unsqueeze(1).contiguous(memory_format=torch.channels_last)
            out = module(x)
            # Models return log-probabilities, so NLL of them is cross-entropy; smoothing mixes in
            # the uniform distribution's loss.
            loss = F.nll_loss(out, y)
            if cfg.label_smoothing:
                loss = (1 - cfg.label_smoothing) * loss - cfg.label_smoothing * out.mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            if ema is not None:
                ema.update_parameters(module)
            seen += len(y)
            correct += int((out.argmax(1) == y).sum())
            loss_sum += float(loss.detach()) * len(y)
            progress({"event": "batch", "epoch": epoch, "epochs": epochs, "step": step + 1,
                      "steps": steps_per_epoch, "loss": loss_sum / seen, "accuracy": correct / seen})
        progress({"event": "epoch", "epoch": epoch, "epochs": epochs,
                  "loss": loss_sum / max(seen, 1), "accuracy": correct / max(seen, 1)})
        if epoch_end is not None:
            current = ema.module if ema is not None else module
            epoch_end(epoch, TorchClassifier(model.family, current, cfg, model.model_config))
    if ema is not None:
        model.module = copy.deepcopy(ema.module)
    model.module.eval()
    return model


def fit_sklearn(model: SklearnClassifier, train: Split, *, progress: Progress = _noop,
                dry_run: bool = False) -> SklearnClassifier:
    data = train.subset(500) if dry_run else train
    progress({"event": "start", "samples": len(data)})
    flat = pixels(data.images).reshape(len(data), -1).numpy()
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        # The thesis' SVM stops at max_iter=100 on purpose; its warning is expected, not news.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.estimator.fit(flat, data.labels.numpy())
    progress({"event": "done", "samples": len(data)})
    return model


def fit(model: Classifier, train: Split, *, progress: Progress = _noop, seed: int = 0,
        dry_run: bool = False, epoch_end: Callable[[int, TorchClassifier], None] | None = None,
        ) -> Classifier:
    """Train any family on ``train``; ``dry_run`` runs two batches (or 500 samples) only."""
    if isinstance(model, TorchClassifier):
        return fit_torch(model, train, progress=progress, seed=seed, dry_run=dry_run, epoch_end=epoch_end)
    return fit_sklearn(model, train, progress=progress, dry_run=dry_run)


def metrics_from_predictions(pred: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """Accuracy, per-class accuracy and the confusion matrix (rows = truth, columns = prediction)."""
    confusion = np.zeros((10, 10), dtype=np.int64)
    np.add.at(confusion, (labels, pred), 1)
    per_class = confusion.diagonal() / np.maximum(confusion.sum(1), 1)
    return {
        "accuracy": float((pred == labels).mean()) if len(labels) else 0.0,
        "per_class_accuracy": [round(float(a), 6) for a in per_class],
        "confusion_matrix": confusion.tolist(),
        "samples": int(len(labels)),
    }


def evaluate(model: Classifier, test: Split) -> dict[str, Any]:
    """Test metrics plus ``seconds``, the wall time of predicting the whole split.

    For a model with the reject output, accuracy is over the ten digits (every test image is a
    digit) and ``rejected`` is the share of test digits whose top output was "not a digit".
    """
    x = pixels(test.images)
    start = time.perf_counter()
    probs = np.asarray(model.predict_proba(x))
    seconds = time.perf_counter() - start
    result = metrics_from_predictions(probs[:, :10].argmax(1), test.labels.numpy())
    if probs.shape[1] > 10:
        result["rejected"] = round(float((probs.argmax(1) == 10).mean()), 6) if len(probs) else 0.0
    result["seconds"] = round(seconds, 3)
    return result


def set_threads(n: int | None = None) -> int:
    """Use ``n`` torch threads (default: all cores); returns the number in force."""
    if n:
        torch.set_num_threads(n)
    return torch.get_num_threads()
