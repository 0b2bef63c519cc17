"""A trained model behind one interface, whatever its family: ``predict_proba`` of (N, 28, 28) pixels.

:func:`build` makes a fresh one by family name with the study's configuration by default; fitting
lives in :mod:`ml.training.train`, saving and loading in :mod:`ml.models.checkpoint`.

>>> model = build("cnn")
>>> model.family, type(model.module).__name__, model.outputs
('cnn', 'CNN', 10)
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from .config import DIGIT_CLASSES, FAMILIES, NOT_A_DIGIT, CNNConfig, TrainConfig
from .nets import CNN, MLP, RNN, LogReg, fold_batchnorm


@dataclass
class TorchClassifier:
    """A torch module plus the recipe that trains it; ``fit`` lives in :mod:`ml.training.train`."""

    family: str
    module: nn.Module
    train_config: TrainConfig = field(default_factory=TrainConfig)
    model_config: dict[str, Any] = field(default_factory=dict)

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor, *, batch_size: int = 2048) -> np.ndarray:
        """Class probabilities (N, 10), or (N, 11) with a reject output, for pixels in [0, 1] (N, 28, 28)."""
        if self.module.training:  # eval() walks every submodule: a tenth of a small batch's time
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
        # The tensors are listed once per module (walking the module tree costs a tenth of a small
        # batch): changed in place (a training step, load_state_dict) they are seen by their version;
        # a parameter replaced by a new tensor object would not be (nothing here does that).
        listed = getattr(self, "_tensors", None)
        if listed is None or listed[0] is not self.module:
            listed = (self.module, [*self.module.parameters(), *self.module.buffers()])
            self._tensors = listed
        key = tuple((id(t), t._version) for t in listed[1])
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
        return NOT_A_DIGIT + 1 if self.model_config.get("reject") else DIGIT_CLASSES


@dataclass
class SklearnClassifier:
    """A scikit-learn estimator on flattened pixels in [0, 1]."""

    family: str
    estimator: Any
    model_config: dict[str, Any] = field(default_factory=dict)
    outputs = DIGIT_CLASSES

    def predict_proba(self, x: torch.Tensor) -> np.ndarray:
        flat = x.reshape(len(x), -1).numpy().astype(np.float32)
        if len(flat) == 0:
            return np.zeros((0, DIGIT_CLASSES), np.float32)
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

    >>> build("cnn", {"channels": (8, 16)}, {"epochs": 2}).train_config.epochs
    2
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
    """The bare module of a torch family from a stored config (used by checkpoint loading).

    >>> type(rebuild_module("mlp", {})).__name__
    'MLP'
    """
    classifier = build(family, config)
    assert isinstance(classifier, TorchClassifier), f"{family} is not a torch family"
    return classifier.module
