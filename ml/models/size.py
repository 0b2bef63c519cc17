"""How big a network is: its parameters, and the FLOPs of one forward pass on one image.

>>> from ml.models.nets import CNN
>>> cnn = CNN()
>>> count_parameters(cnn), count_flops(cnn) > 2 * count_parameters(cnn)
(887530, True)
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn


def count_parameters(module: nn.Module) -> int:
    """Trainable and fixed weights of ``module``.

    >>> from torch import nn
    >>> count_parameters(nn.Linear(784, 10))
    7850
    """
    return sum(p.numel() for p in module.parameters())


def count_flops(module: nn.Module) -> int:
    """FLOPs of one forward pass on a 1×1×28×28 image: 2 × the multiply-adds of Conv2d and Linear.

    Biases, activations, pooling, dropout and normalisation are not counted: together they are well
    under 1% of the convolutions' work here. Forward hooks see the real output shapes, so padding,
    pooling and the number of blocks need no separate bookkeeping.

    >>> from ml.models.nets import LogReg
    >>> count_flops(LogReg())   # 2 × 784 × 10
    15680
    """
    macs = 0

    def conv(layer: nn.Conv2d, _: Any, output: torch.Tensor) -> None:
        nonlocal macs
        # Each output value is a dot product over (in_channels / groups) × kh × kw inputs.
        macs += output.numel() * (layer.in_channels // layer.groups) * math.prod(layer.kernel_size)

    def linear(layer: nn.Linear, _: Any, output: torch.Tensor) -> None:
        nonlocal macs
        macs += output.numel() * layer.in_features

    hooks = [m.register_forward_hook(conv if isinstance(m, nn.Conv2d) else linear)
             for m in module.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    training = module.training
    try:
        module.eval()
        with torch.no_grad():
            module(torch.zeros(1, 1, 28, 28))
    finally:
        for hook in hooks:
            hook.remove()
        module.train(training)
    return 2 * macs
