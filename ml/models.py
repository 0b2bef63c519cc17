"""The six classifier families of the study behind one registry by name.

Every family takes the same input: float32 pixels in [0, 1], ink high, shape (N, 28, 28) — exactly what
``ml.preprocess`` produces from a digit crop and what MNIST is after ``/ 255``. Torch models normalise
inside the module (a fixed ``Normalize`` layer), so a checkpoint needs no outside constants.

>>> from ml.models import build
>>> model = build("cnn")
>>> model.family, type(model.module).__name__
('cnn', 'CNN')
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.fusion import fuse_conv_bn_eval

from .data import MNIST_MEAN, MNIST_STD

FAMILIES = ("logreg", "mlp", "knn", "svm", "rnn", "cnn")


class Normalize(nn.Module):
    """(x - mean) / std with MNIST's constants, stored as buffers so checkpoints carry them."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(MNIST_MEAN))
        self.register_buffer("std", torch.tensor(MNIST_STD))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class LogReg(nn.Module):
    """Linear(784→10) + log_softmax: multinomial logistic regression trained by Adam."""

    def __init__(self) -> None:
        super().__init__()
        self.norm = Normalize()
        self.fc = nn.Linear(784, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.log_softmax(self.fc(self.norm(x).flatten(1)), dim=1)


class MLP(nn.Module):
    """784→512→256→10 with ReLU, the thesis' multilayer perceptron."""

    def __init__(self, hidden: tuple[int, ...] = (512, 256)) -> None:
        super().__init__()
        self.norm = Normalize()
        sizes = (784, *hidden)
        layers: list[nn.Module] = []
        for a, b in zip(sizes, sizes[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        self.body = nn.Sequential(*layers, nn.Linear(sizes[-1], 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.log_softmax(self.body(self.norm(x).flatten(1)), dim=1)


class RNN(nn.Module):
    """An LSTM reads the 28 rows top to bottom; its last hidden state is classified."""

    def __init__(self, hidden: int = 64) -> None:
        super().__init__()
        self.norm = Normalize()
        self.lstm = nn.LSTM(input_size=28, hidden_size=hidden, batch_first=True)
        self.head = nn.Sequential(
            nn.BatchNorm1d(hidden), nn.Dropout(0.25),
            nn.Linear(hidden, 32), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(32, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(x).reshape(-1, 28, 28)  # (batch, time = rows, features = columns)
        _, (h, _) = self.lstm(x)
        return F.log_softmax(self.head(h[-1]), dim=1)


@dataclass(frozen=True)
class CNNConfig:
    """The CNN as a config, so each ablation of the study is one changed field.

    Defaults are the thesis network: two blocks of two convolutions, each block followed by pooling
    and dropout, then one hidden linear layer.
    """

    # Output channels of block 1 and block 2; the thesis doubles them as pooling halves resolution.
    channels: tuple[int, int] = (32, 64)
    # Kernel size per block: 5×5 sees a whole stroke junction at 28×28, 3×3 suffices at 14×14.
    kernel: tuple[int, int] = (5, 3)
    # "max", "avg" or "none". Without pooling the linear layer sees 28×28 maps (12.8M weights).
    pool: str = "max"
    # 2 = the thesis network; 1 drops the second conv+pool block (the "layers" ablation).
    blocks: int = 2
    # Convolutions per block; the thesis stacks two before each pooling.
    convs_per_block: int = 2
    # Width of the hidden linear layer.
    linear: int = 256
    # Dropout after each conv block (the thesis uses 0.25); head_dropout before the last layer.
    dropout: float = 0.25
    head_dropout: float = 0.0
    # BatchNorm after every convolution: not in the thesis, it lets the served model train faster.
    batchnorm: bool = False
    # An eleventh output, "not a single digit" (ml.negatives): touching pairs, fragments and marks,
    # which the reader uses to decide splits, merges and what to drop.
    reject: bool = False

    @property
    def outputs(self) -> int:
        return 11 if self.reject else 10

    def __post_init__(self) -> None:
        assert self.pool in ("max", "avg", "none"), f"pool must be max/avg/none, got {self.pool!r}"
        assert self.blocks in (1, 2), f"blocks must be 1 or 2, got {self.blocks}"
        assert all(k % 2 == 1 for k in self.kernel), f"kernel sizes must be odd, got {self.kernel}"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CNNConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        assert not unknown, f"unknown CNNConfig fields {sorted(unknown)}"
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


class CNN(nn.Module):
    """Convolutional network built from a :class:`CNNConfig`."""

    def __init__(self, config: CNNConfig = CNNConfig()) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = [Normalize()]
        c_in, size = 1, 28
        for b in range(config.blocks):
            c_out, k = config.channels[b], config.kernel[b]
            for _ in range(config.convs_per_block):
                # "same" padding keeps the map size, so only pooling changes resolution.
                layers.append(nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=not config.batchnorm))
                if config.batchnorm:
                    layers.append(nn.BatchNorm2d(c_out))
                layers.append(nn.ReLU())
                c_in = c_out
            if config.pool != "none":
                layers.append(nn.MaxPool2d(2) if config.pool == "max" else nn.AvgPool2d(2))
                size //= 2
            if config.dropout:
                layers.append(nn.Dropout(config.dropout))
        self.features = nn.Sequential(*layers)
        flat = c_in * size * size
        head: list[nn.Module] = [nn.Flatten(), nn.Linear(flat, config.linear), nn.ReLU()]
        if config.head_dropout:
            head.append(nn.Dropout(config.head_dropout))
        head.append(nn.Linear(config.linear, config.outputs))
        self.head = nn.Sequential(*head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 3:
            x = x.unsqueeze(1)
        assert x.shape[1:] == (1, 28, 28), f"CNN expects (N, 1, 28, 28) input, got {tuple(x.shape)}"
        return F.log_softmax(self.head(self.features(x)), dim=1)


def fold_batchnorm(layers: nn.Sequential) -> nn.Sequential:
    """``layers`` for inference: a BatchNorm right after a convolution folded into its weights and bias,
    dropout removed. Same outputs (to float rounding) in eval mode; the originals are not touched."""
    kept: list[nn.Module] = []
    for layer in layers:
        if isinstance(layer, nn.Dropout):
            continue
        if isinstance(layer, nn.BatchNorm2d) and kept and isinstance(kept[-1], nn.Conv2d):
            kept[-1] = fuse_conv_bn_eval(kept[-1].eval(), layer.eval())
            continue
        kept.append(layer)
    return nn.Sequential(*kept)


@dataclass
class TrainConfig:
    """How a torch family is trained. Defaults are the thesis' recipe (Keras-style Adam, 10 epochs)."""

    epochs: int = 10
    batch_size: int = 512
    lr: float = 1e-3
    weight_decay: float = 0.0
    # "constant" (the thesis) or "onecycle" (warm up then anneal: more accuracy per epoch).
    schedule: str = "constant"
    label_smoothing: float = 0.0
    # Random affine augmentation: max rotation (degrees), shift (fraction of 28 px), scale (±fraction).
    rotate: float = 0.0
    shift: float = 0.0
    scale: float = 0.0
    # Random stroke thickening/thinning probability (each), as different pens produce.
    stroke: float = 0.0
    # Exponential moving average of weights (0 = off); the average is what gets saved and served.
    ema: float = 0.0
    # Not-a-digit samples (ml.negatives) added to the training set, as a share of its size; needs a
    # model with the reject output.
    negatives: float = 0.0
    # Share of each batch's digits shown as the reader crops them from a page (ml.negatives.
    # render_like_reading: redrawn at another size, pen or focus, then cut out and normalised).
    render: float = 0.0

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        return cls(**{k: v for k, v in d.items() if k in {f.name for f in fields(cls)}})


@dataclass
class TorchClassifier:
    """A torch module plus the recipe that trains it; ``fit`` lives in :mod:`ml.train`."""

    family: str
    module: nn.Module
    train_config: TrainConfig = field(default_factory=TrainConfig)
    model_config: dict[str, Any] = field(default_factory=dict)

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor, *, batch_size: int = 2048) -> np.ndarray:
        """Class probabilities (N, 10), or (N, 11) with a reject output, for pixels in [0, 1] (N, 28, 28)."""
        self.module.eval()
        module = self.module
        if self.family == "cnn":
            module = self._inference_module()
            # oneDNN's preferred layout: a third less time for the few dozen crops of a page.
            x = x.reshape(len(x), 1, *x.shape[-2:]).contiguous(memory_format=torch.channels_last)
        out = [module(x[i : i + batch_size]).exp() for i in range(0, len(x), batch_size)]
        return torch.cat(out).numpy() if out else np.zeros((0, self.outputs), np.float32)

    def _inference_module(self) -> nn.Module:
        """The CNN as it is served: each BatchNorm folded into the convolution before it (one pass
        over the feature maps instead of two), dropout taken out, weights channels-last. Rebuilt
        whenever a weight or buffer changed in place (a training step, ``load_state_dict``)."""
        tensors = [*self.module.parameters(), *self.module.buffers()]
        key = tuple((id(t), t._version) for t in tensors)
        cached = getattr(self, "_served", None)
        if cached is None or cached[0] != key:
            served = copy.deepcopy(self.module).eval()
            for name in ("features", "head"):
                if isinstance(getattr(served, name, None), nn.Sequential):
                    setattr(served, name, fold_batchnorm(getattr(served, name)))
            cached = (key, served.to(memory_format=torch.channels_last))
            self._served = cached
        return cached[1]

    @property
    def outputs(self) -> int:
        return 11 if self.model_config.get("reject") else 10


@dataclass
class SklearnClassifier:
    """A scikit-learn estimator on flattened pixels in [0, 1]."""

    family: str
    estimator: Any
    model_config: dict[str, Any] = field(default_factory=dict)
    outputs = 10

    def predict_proba(self, x: torch.Tensor) -> np.ndarray:
        flat = x.reshape(len(x), -1).numpy().astype(np.float32)
        if len(flat) == 0:
            return np.zeros((0, 10), np.float32)
        if hasattr(self.estimator, "predict_proba") and self.family != "svm":
            return self.estimator.predict_proba(flat)
        # SVC without probability=True (which would cost a 5-fold internal CV): a softmax of the
        # one-vs-rest decision values ranks classes the same way and is enough for a confidence.
        scores = self.estimator.decision_function(flat)
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        return scores / scores.sum(axis=1, keepdims=True)


Classifier = TorchClassifier | SklearnClassifier


def build(family: str, config: dict[str, Any] | None = None,
          train: dict[str, Any] | None = None, *, seed: int = 0) -> Classifier:
    """A fresh, untrained classifier of ``family`` with the thesis' configuration by default.

    ``config`` overrides model fields (for the CNN, any :class:`CNNConfig` field); ``train``
    overrides :class:`TrainConfig` fields for the torch families.
    """
    assert family in FAMILIES, f"unknown model family {family!r}; choose from {', '.join(FAMILIES)}"
    config = dict(config or {})
    if family in ("knn", "svm"):
        from sklearn.neighbors import KNeighborsClassifier
        from sklearn.svm import SVC

        if family == "knn":
            est = KNeighborsClassifier(**{"n_neighbors": 3, **config})
        else:
            est = SVC(**{"max_iter": 100, "random_state": seed, **config})
        return SklearnClassifier(family, est, est.get_params())
    torch.manual_seed(seed)
    if family == "logreg":
        module: nn.Module = LogReg()
    elif family == "mlp":
        module = MLP(**config)
    elif family == "rnn":
        module = RNN(**config)
    else:
        cfg = CNNConfig.from_dict(config)
        module, config = CNN(cfg), asdict(cfg)
    return TorchClassifier(family, module, TrainConfig.from_dict(train or {}), config)


def rebuild_module(family: str, config: dict[str, Any]) -> nn.Module:
    """The bare module of a torch family from a stored config (used by checkpoint loading)."""
    classifier = build(family, config)
    assert isinstance(classifier, TorchClassifier), f"{family} is not a torch family"
    return classifier.module


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
