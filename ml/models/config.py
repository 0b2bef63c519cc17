"""The study's model families by name, their classes, and the configs that build and train them.

Plain dataclasses, no torch: the web forms and pages read the families and defaults from here without
loading a model.

>>> CNNConfig().outputs, CNNConfig(reject=True).outputs, NOT_A_DIGIT
(10, 11, 10)
>>> TrainConfig.from_dict({"epochs": 3, "not a field": 1}).epochs
3
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

FAMILIES = ("logreg", "mlp", "knn", "svm", "rnn", "cnn")
# Outputs 0–9 are the digits; a model with the reject output has an eleventh, "not a single digit"
# (pairs, fragments, marks: ml.synth.negatives), at index NOT_A_DIGIT.
DIGIT_CLASSES = 10
NOT_A_DIGIT = DIGIT_CLASSES


def class_names(outputs: int) -> list[int | str]:
    """The classes a model with ``outputs`` outputs predicts, as a checkpoint records them.

    >>> class_names(11)[-2:]
    [9, 'not a digit']
    """
    return list(range(DIGIT_CLASSES)) + (["not a digit"] if outputs == NOT_A_DIGIT + 1 else [])


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
    # An eleventh output, "not a single digit" (ml.synth.negatives): touching pairs, fragments and
    # marks, which the reader uses to decide splits, merges and what to drop.
    reject: bool = False

    @property
    def outputs(self) -> int:
        return NOT_A_DIGIT + 1 if self.reject else DIGIT_CLASSES

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
    # Not-a-digit samples (ml.synth.negatives) added to the training set, as a share of its size; needs
    # a model with the reject output.
    negatives: float = 0.0
    # Share of each batch's digits shown as the reader crops them from a page (ml.synth.negatives.
    # render_like_reading: redrawn at another size, pen or focus, then cut out and normalised).
    render: float = 0.0

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        return cls(**{k: v for k, v in d.items() if k in {f.name for f in fields(cls)}})
