"""The torch networks of the study: logistic regression, the MLP, the LSTM and the configurable CNN.

Every network takes float32 pixels in [0, 1], ink high, shape (N, 28, 28) — exactly what
``ml.models.preprocess`` makes of a digit crop and what MNIST is after ``/ 255`` — and normalises
inside (a fixed :class:`Normalize` layer), so a checkpoint needs no outside constants. Each returns
log-probabilities.

>>> import torch
>>> CNN(CNNConfig(reject=True))(torch.zeros(2, 28, 28)).shape
torch.Size([2, 11])
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.fusion import fuse_conv_bn_eval

from ml.data import MNIST_MEAN, MNIST_STD

from .config import DIGIT_CLASSES, CNNConfig


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
        self.fc = nn.Linear(784, DIGIT_CLASSES)

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
        self.body = nn.Sequential(*layers, nn.Linear(sizes[-1], DIGIT_CLASSES))

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
            nn.Linear(32, DIGIT_CLASSES),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(x).reshape(-1, 28, 28)  # (batch, time = rows, features = columns)
        _, (h, _) = self.lstm(x)
        return F.log_softmax(self.head(h[-1]), dim=1)


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
    dropout removed. Same outputs (to float rounding) in eval mode; the originals are not touched.

    >>> net = CNN(CNNConfig(batchnorm=True)).eval()
    >>> folded = fold_batchnorm(net.features)
    >>> x = torch.rand(2, 1, 28, 28)
    >>> bool(torch.allclose(folded(x), net.features(x), atol=1e-5)), len(folded) < len(net.features)
    (True, True)
    """
    kept: list[nn.Module] = []
    for layer in layers:
        if isinstance(layer, nn.Dropout):
            continue
        if isinstance(layer, nn.BatchNorm2d) and kept and isinstance(kept[-1], nn.Conv2d):
            kept[-1] = fuse_conv_bn_eval(kept[-1].eval(), layer.eval())
            continue
        kept.append(layer)
    return nn.Sequential(*kept)
