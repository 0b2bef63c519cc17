"""Image bytes → an upright BGR array, or a clear :class:`ImageError`. Pillow, OpenCV and NumPy only:
the web process validates uploads with this and never loads torch.

>>> decode_image(b"")
Traceback (most recent call last):
...
ml.reading.decode.ImageError: the file is empty
"""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# Refuse images with more pixels than this before decoding them fully (decompression bombs). The site
# refuses far less (DIGITSCAN_MAX_PIXELS, web/uploads/limits.py); this is the library's own bound.
MAX_PIXELS = 40_000_000


class ImageError(ValueError):
    """The bytes are not an image we can read (the message says why, in words for a person)."""


def decode_image(data: bytes, *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Image bytes → upright BGR uint8 array (EXIF orientation applied); :class:`ImageError` if not.

    >>> import cv2, numpy as np
    >>> png = cv2.imencode(".png", np.zeros((4, 6), np.uint8))[1].tobytes()
    >>> decode_image(png).shape
    (4, 6, 3)
    """
    if not data:
        raise ImageError("the file is empty")
    try:
        with Image.open(io.BytesIO(data)) as img:
            w, h = img.size
            if w * h > max_pixels:
                raise ImageError(f"the image has {w}×{h} = {w * h:,} pixels, more than {max_pixels:,}")
            img.load()
            upright = ImageOps.exif_transpose(img)
            rgb = np.asarray(upright.convert("RGB"))
    except ImageError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise ImageError("not a readable image (JPEG, PNG or another common format)") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"the image is corrupt or truncated ({exc})") from exc
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
