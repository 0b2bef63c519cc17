"""Training for every family: ``fit`` trains in place and returns the model; nothing is printed.

Progress goes through a callback that receives plain dicts (``{"event": "batch", "epoch": 2, ...}``,
see :mod:`ml.progress`): the command line turns them into tqdm bars, a Celery task into a progress
field in the database.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable

import torch
from torch.nn import functional as F

from ml.data import Split
from ml.models.classifiers import Classifier, SklearnClassifier, TorchClassifier
from ml.models.config import NOT_A_DIGIT, TrainConfig
from ml.progress import Progress, quiet
from ml.synth.negatives import make_negatives, render_like_reading

EpochEnd = Callable[[int, TorchClassifier], None]


def pixels(images: torch.Tensor) -> torch.Tensor:
    """uint8 MNIST images → float32 in [0, 1], the input every family takes.

    >>> pixels(torch.tensor([[0, 255]], dtype=torch.uint8)).tolist()
    [[0.0, 1.0]]
    """
    return images.float().div_(255.0) if images.dtype == torch.uint8 else images.float()


def augment(x: torch.Tensor, cfg: TrainConfig, gen: torch.Generator) -> torch.Tensor:
    """Random affine (rotate, shift, scale) and stroke width changes on a (N, 28, 28) batch.

    Whole-batch tensor ops: one ``affine_grid`` + ``grid_sample`` call, no per-sample Python.

    >>> x = torch.zeros(4, 28, 28); x[:, 8:20, 12:16] = 1
    >>> augment(x, TrainConfig(rotate=10, stroke=0.5), torch.Generator().manual_seed(0)).shape
    torch.Size([4, 28, 28])
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


def _training_set(model: TorchClassifier, train: Split, *, progress: Progress, seed: int, dry_run: bool
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Pixels and labels to train on (MNIST plus the not-a-digit samples the recipe asks for), and the
    same images as the reader would crop them (for ``TrainConfig.render``), or None."""
    cfg = model.train_config
    x_all, y_all = pixels(train.images), train.labels
    if cfg.negatives and not dry_run:
        assert model.outputs == NOT_A_DIGIT + 1, "negatives need a model with the reject output (reject=True)"
        count = int(round(cfg.negatives * len(y_all)))
        progress({"event": "negatives", "samples": count})
        extra = torch.from_numpy(make_negatives(x_all.numpy(), count, seed=seed))
        x_all = torch.cat([x_all, extra])
        y_all = torch.cat([y_all, torch.full((count,), NOT_A_DIGIT, dtype=y_all.dtype)])
    rendered = None
    if cfg.render and not dry_run:
        progress({"event": "render", "samples": len(train)})
        # Non-digits were made by the same cut-and-normalise path already: they are their own render.
        rendered = torch.cat([torch.from_numpy(render_like_reading(train.images.numpy(), seed=seed)),
                              x_all[len(train):]])
    return x_all, y_all, rendered


class _Trainer:
    """One torch training run's moving parts: data, optimiser, schedule, weight average."""

    def __init__(self, model: TorchClassifier, data: tuple, *, gen: torch.Generator, dry_run: bool) -> None:
        self.model, self.cfg, self.gen = model, model.train_config, gen
        self.x_all, self.y_all, self.rendered = data
        module = model.module
        self.opt = torch.optim.Adam(module.parameters(), lr=self.cfg.lr, weight_decay=self.cfg.weight_decay)
        self.epochs = 1 if dry_run else self.cfg.epochs
        self.steps = 2 if dry_run else math.ceil(len(self.y_all) / self.cfg.batch_size)
        self.sched = _lr_scheduler(self.opt, self.cfg, self.epochs * self.steps)
        self.ema = None
        if self.cfg.ema:
            average = torch.optim.swa_utils.get_ema_multi_avg_fn(self.cfg.ema)
            self.ema = torch.optim.swa_utils.AveragedModel(module, multi_avg_fn=average, use_buffers=True)
        self.augmenting = any((self.cfg.rotate, self.cfg.shift, self.cfg.scale, self.cfg.stroke))
        # Channels-last convolutions run about a third faster on CPU (oneDNN's preferred layout).
        self.channels_last = model.family == "cnn"
        if self.channels_last:
            module.to(memory_format=torch.channels_last)

    def batch(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The inputs and labels of one step, rendered and augmented as the recipe says."""
        cfg, gen = self.cfg, self.gen
        x, y = self.x_all[idx], self.y_all[idx]
        if self.rendered is not None:
            pick = torch.rand(len(idx), generator=gen) < cfg.render
            x = torch.where(pick.view(-1, 1, 1), self.rendered[idx], x)
        if self.augmenting:
            x = augment(x, cfg, gen)
        if self.channels_last:
            x = x.unsqueeze(1).contiguous(memory_format=torch.channels_last)
        return x, y

    def step(self, x: torch.Tensor, y: torch.Tensor) -> tuple[float, int]:
        """One optimiser step; the batch's loss and how many it got right."""
        out = self.model.module(x)
        # Models return log-probabilities, so NLL of them is cross-entropy; smoothing mixes in the
        # uniform distribution's loss.
        loss = F.nll_loss(out, y)
        if self.cfg.label_smoothing:
            loss = (1 - self.cfg.label_smoothing) * loss - self.cfg.label_smoothing * out.mean()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        if self.sched is not None:
            self.sched.step()
        if self.ema is not None:
            self.ema.update_parameters(self.model.module)
        return float(loss.detach()), int((out.argmax(1) == y).sum())

    def epoch(self, epoch: int, progress: Progress) -> None:
        self.model.module.train()
        order = torch.randperm(len(self.y_all), generator=self.gen)
        seen = correct = 0
        loss_sum = 0.0
        size = self.cfg.batch_size
        for step in range(self.steps):
            x, y = self.batch(order[step * size : (step + 1) * size])
            loss, right = self.step(x, y)
            seen += len(y)
            correct += right
            loss_sum += loss * len(y)
            progress({"event": "batch", "epoch": epoch, "epochs": self.epochs, "step": step + 1,
                      "steps": self.steps, "loss": loss_sum / seen, "accuracy": correct / seen})
        progress({"event": "epoch", "epoch": epoch, "epochs": self.epochs,
                  "loss": loss_sum / max(seen, 1), "accuracy": correct / max(seen, 1)})

    def current(self) -> torch.nn.Module:
        return self.ema.module if self.ema is not None else self.model.module


def fit_torch(model: TorchClassifier, train: Split, *, progress: Progress = quiet,
              seed: int = 0, dry_run: bool = False, epoch_end: EpochEnd | None = None) -> TorchClassifier:
    """Train ``model.module`` in place by its TrainConfig; with EMA, the average replaces it.

    ``epoch_end(epoch, model)`` is called after each epoch (the module in eval mode), for example to
    track test accuracy per epoch; it must not change the model.

    >>> from ml.models.classifiers import build
    >>> images = torch.randint(0, 256, (64, 28, 28), dtype=torch.uint8)
    >>> tiny = Split(images, torch.arange(64) % 10, "random pixels")
    >>> fit_torch(build("cnn", {"channels": (4, 8), "linear": 16}), tiny, dry_run=True).module.training
    False
    """
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    data = _training_set(model, train, progress=progress, seed=seed, dry_run=dry_run)
    trainer = _Trainer(model, data, gen=gen, dry_run=dry_run)
    for epoch in range(1, trainer.epochs + 1):
        trainer.epoch(epoch, progress)
        if epoch_end is not None:
            epoch_end(epoch, TorchClassifier(model.family, trainer.current(), model.train_config,
                                             model.model_config))
    if trainer.ema is not None:
        model.module = copy.deepcopy(trainer.ema.module)
    model.module.eval()
    return model


def fit_sklearn(model: SklearnClassifier, train: Split, *, progress: Progress = quiet,
                dry_run: bool = False) -> SklearnClassifier:
    """Fit a scikit-learn family on flattened pixels (500 samples only with ``dry_run``).

    >>> from ml.models.classifiers import build
    >>> images = torch.randint(0, 256, (40, 28, 28), dtype=torch.uint8)
    >>> fit_sklearn(build("knn"), Split(images, torch.arange(40) % 10, "random")).estimator.n_samples_fit_
    40
    """
    from sklearn.exceptions import ConvergenceWarning

    data = train.subset(500) if dry_run else train
    progress({"event": "start", "samples": len(data)})
    flat = pixels(data.images).reshape(len(data), -1).numpy()
    with warnings.catch_warnings():
        # The thesis' SVM stops at max_iter=100 on purpose; its warning is expected, not news.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.estimator.fit(flat, data.labels.numpy())
    progress({"event": "done", "samples": len(data)})
    return model


def fit(model: Classifier, train: Split, *, progress: Progress = quiet, seed: int = 0,
        dry_run: bool = False, epoch_end: EpochEnd | None = None) -> Classifier:
    """Train any family on ``train``; ``dry_run`` runs two batches (or 500 samples) only (example above).

    >>> from ml.data import load_mnist
    >>> from ml.models.classifiers import build
    >>> from ml.training.evaluate import evaluate
    >>> train_split, test_split = load_mnist()
    >>> model = fit(build("knn"), train_split.subset(2000))
    >>> evaluate(model, test_split.subset(500))["accuracy"] > 0.85
    True
    """
    if isinstance(model, TorchClassifier):
        return fit_torch(model, train, progress=progress, seed=seed, dry_run=dry_run, epoch_end=epoch_end)
    return fit_sklearn(model, train, progress=progress, dry_run=dry_run)
