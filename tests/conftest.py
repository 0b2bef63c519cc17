"""Shared fixtures: the real MNIST files (loaded once) and the shipped model."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def mnist():
    from ml.data import load_mnist

    return load_mnist()


@pytest.fixture(scope="session")
def test_digits(mnist):
    """MNIST test images (uint8, ink high) and labels as numpy arrays."""
    _, test = mnist
    return test.images.numpy(), test.labels.numpy()


@pytest.fixture(scope="session")
def shipped_model():
    from ml.models.checkpoint import load_checkpoint
    from ml.paths import DEFAULT_CHECKPOINT

    return load_checkpoint(DEFAULT_CHECKPOINT)


def iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = w * h
    return inter / float(aw * ah + bw * bh - inter)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
