"""Image bytes → an upright BGR array, or a clear :class:`ImageError`. Pillow, OpenCV and NumPy only:
the web process validates uploads with this and never loads torch.

Every pixel format comes out as 8-bit colour the way a person sees the image: 16- and 32-bit grey
scaled to 8 bits (not clipped: a 16-bit scan is not all white), and transparency flattened (strokes
drawn on a transparent canvas, as drawing apps export them, onto a background that contrasts with
them; a page with transparent margins onto the page's own colour).

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
# Modes whose values are wider than 8 bits, and the value that is white in each.
_WIDE_GREY = {"I;16": 65535, "I;16L": 65535, "I;16B": 65535, "I;16N": 65535, "I": None, "F": None}
# Rec. 601 luma weights of R, G, B.
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


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
            # A multi-picture JPEG (MPO, as many phones save photos) or an animated PNG: its first
            # picture, the one every viewer shows (an MPO's others are previews or depth maps).
            img.seek(0)
            img.load()
            rgb = to_rgb(ImageOps.exif_transpose(img))
    except ImageError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise ImageError("not a readable image (JPEG, PNG or another common format)") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"the image is corrupt or truncated ({exc})") from exc
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def to_rgb(img: Image.Image) -> np.ndarray:
    """A Pillow image of any mode as (H, W, 3) uint8 RGB, wide grey scaled and transparency flattened.

    >>> wide = Image.fromarray(np.array([[0, 32768, 65535]], np.uint16))   # a 16-bit grey row
    >>> to_rgb(wide)[0, :, 0].tolist()
    [0, 128, 255]
    >>> clear = np.zeros((1, 3, 4), np.uint8); clear[0, 1] = (0, 0, 0, 255)   # one black stroke pixel
    >>> to_rgb(Image.fromarray(clear, "RGBA"))[0, :, 0].tolist()              # on white, not on black
    [255, 0, 255]
    """
    if img.mode in _WIDE_GREY:
        return _wide_grey(img)
    if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
        return _flatten(np.asarray(img.convert("RGBA"), np.float32))
    return np.asarray(img.convert("RGB"))


def _wide_grey(img: Image.Image) -> np.ndarray:
    """16- or 32-bit grey → 8 bits: scaled by the format's white (or, for 32-bit integers and floats,
    by the widest range the values fit: 1, 255 or 65535)."""
    grey = np.asarray(img, np.float64)
    white = _WIDE_GREY[img.mode]
    if white is None:
        top = float(grey.max(initial=0.0))
        white = next((w for w in (1.0, 255.0, 65535.0) if top <= w), top)
    eight = np.clip(np.round(grey * (255.0 / white)), 0, 255).astype(np.uint8)
    return np.repeat(eight[..., None], 3, axis=2)


def _flatten(rgba: np.ndarray) -> np.ndarray:
    """RGBA floats → RGB uint8 over a background: where most of the image is opaque (a page with
    transparent margins), the page's own median colour; where little is (strokes on a transparent
    canvas), white under dark strokes and black under light ones, so the strokes stay visible."""
    alpha = rgba[..., 3:] / 255.0
    colour = rgba[..., :3]
    if alpha.min() >= 1.0:
        return colour.astype(np.uint8)
    opaque = alpha[..., 0] > 0.5
    if opaque.mean() > 0.5:
        background = np.median(colour[opaque], axis=0)
    elif alpha.sum() > 0:
        strokes = float(np.average(colour @ _LUMA, weights=alpha[..., 0]))
        background = np.full(3, 0.0 if strokes > 127.5 else 255.0, np.float32)
    else:
        background = np.full(3, 255.0, np.float32)  # nothing drawn at all: a blank white page
    return np.clip(np.round(colour * alpha + background * (1.0 - alpha)), 0, 255).astype(np.uint8)
