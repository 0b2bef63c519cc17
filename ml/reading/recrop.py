"""Cut digits out of an image again at boxes given in its pixels: what a person's correction of a reading
becomes as training data (a relabelled box, a box that holds no digit, a digit the reading missed and the
person boxed).

The image is prepared as :func:`ml.reading.read` prepares it (grey with coloured ink kept dark, a dropout
grid taken out, light ink on a dark ground told apart), segmented, and each box cut with the components
that have ink in it, so that the crop is what the classifier saw, or would have seen.
"""

from __future__ import annotations

import numpy as np

from ml.models.preprocess import to_mnist

from .boxes import Segmentation
from .colour import dropout_gray
from .ink import EITHER, LIGHT_INK, polarity, to_gray
from .params import ALL_STEPS, READER, ReaderParams
from .segment import segment

# A crop whose brightest 28×28 pixel is below this holds no ink worth learning from (a box drawn on bare
# paper): no sample at all is better than a blank one labelled as a digit.
MIN_INK = 64


def crops_at(image: np.ndarray, boxes: list[list[int]], *, params: ReaderParams = READER
             ) -> list[np.ndarray | None]:
    """Each box ``[x, y, w, h]`` (``image``'s pixels) of ``image`` (grey or BGR uint8) as a 28×28 uint8
    MNIST-style digit, ink high; None for a box with no ink in it.

    >>> import cv2
    >>> page = np.full((120, 300), 255, np.uint8)
    >>> _ = cv2.putText(page, "47", (40, 90), cv2.FONT_HERSHEY_SIMPLEX, 2.5, 0, 8)
    >>> four, blank = crops_at(page, [[38, 30, 60, 65], [220, 20, 40, 40]])
    >>> four.shape, four.dtype, int(four.max()) > 200, blank
    ((28, 28), dtype('uint8'), True, None)
    """
    if not boxes:
        return []
    seg = _segmentation(image, boxes, params)
    out: list[np.ndarray | None] = []
    for box in boxes:
        crop = np.round(to_mnist(seg.crop(seg.box_at(box))) * 255).astype(np.uint8)
        out.append(crop if crop.max() >= MIN_INK else None)
    return out


def _segmentation(image: np.ndarray, boxes: list[list[int]], params: ReaderParams) -> Segmentation:
    """The image segmented with the ink taken as :func:`ml.reading.read` would take it; where the image
    does not tell, the way in which more of the boxes hold a digit's share of ink."""
    gray = to_gray(image, params=params.segment)
    red = dropout_gray(image, params=params.segment) if ALL_STEPS.dropout else None
    gray = gray if red is None else red
    way = polarity(gray, params=params.segment)
    if way != EITHER:
        return segment(gray, ALL_STEPS, params=params.segment, light_ink=way == LIGHT_INK)
    both = [segment(gray, ALL_STEPS, params=params.segment, light_ink=light) for light in (False, True)]
    return max(both, key=lambda seg: sum(_inked(seg, box) for box in boxes))


def _inked(seg: Segmentation, box: list[int]) -> bool:
    """Whether ``box`` holds ink as a digit does: some of it, far from all of it."""
    x, y, w, h = (int(round(v * seg.scale)) for v in box)
    region = seg.labels[y : y + max(h, 1), x : x + max(w, 1)]
    share = float((region > 0).mean()) if region.size else 0.0
    return 0.02 <= share <= 0.7
