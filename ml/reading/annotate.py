"""annotate(image, reading) → the image with a red box round each digit and the digit read in green.

>>> import numpy as np
>>> from ml.reading.result import Digit, Reading
>>> page = np.full((60, 80), 255, np.uint8)
>>> drawn = annotate(page, Reading([Digit(7, 0.98, [10, 10, 20, 40], 0, False)], (80, 60)))
>>> drawn.shape, drawn[10, 15].tolist()          # colour now, the box's top edge red (BGR)
((60, 80, 3), [0, 0, 255])
"""

from __future__ import annotations

import cv2
import numpy as np

from .result import Reading

RED, GREEN, ORANGE = (0, 0, 255), (0, 170, 0), (0, 140, 255)  # BGR, as OpenCV draws


def annotate(image: np.ndarray, reading: Reading) -> np.ndarray:
    """A BGR copy of ``image`` with a red box round each digit and the digit read in green beside it.

    Uncertain digits get an orange box and a "?" after the digit.

    >>> from ml.reading.result import Digit
    >>> unsure = Reading([Digit(3, 0.51, [10, 10, 20, 40], 0, True)], (80, 60))
    >>> annotate(np.full((60, 80, 3), 255, np.uint8), unsure)[10, 15].tolist()   # an orange box
    [0, 140, 255]
    """
    out = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image[:, :, :3].copy()
    scale_ref = max(out.shape[:2])
    thickness = max(1, scale_ref // 500)
    for d in reading.digits:
        x, y, w, h = d.box
        colour = ORANGE if d.uncertain else RED
        cv2.rectangle(out, (x, y), (x + w - 1, y + h - 1), colour, thickness)
        label = f"{d.digit}?" if d.uncertain else str(d.digit)
        font_scale = max(0.4, h / 60)
        text_thickness = max(1, int(round(font_scale * 2)))
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, font_scale, text_thickness)
        # Beside the box, top-right; inside the image even for digits at the right edge.
        tx = min(x + w + 2, out.shape[1] - tw - 1)
        ty = max(y + th, th + 1)
        cv2.putText(out, label, (tx, ty), cv2.FONT_HERSHEY_SIMPLEX, font_scale, GREEN, text_thickness,
                    cv2.LINE_AA)
    return out
