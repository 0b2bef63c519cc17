"""Drawing helpers shared by the reader's tests: MNIST test digits cut to their ink."""

import cv2
import numpy as np


def mnist_digit(test_digits, digit: int, height: int) -> np.ndarray:
    """An MNIST test digit cut to its ink, ``height`` px tall, ink high (0-255)."""
    images, labels = test_digits
    crop = images[np.flatnonzero(labels == digit)[2]]
    ys, xs = np.nonzero(crop > 40)
    crop = crop[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    return cv2.resize(crop, (max(1, height * crop.shape[1] // crop.shape[0]), height))
