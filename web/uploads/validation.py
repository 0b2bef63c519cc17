"""Checks an uploaded image before anything is stored: type by content, bytes, pixels, decodability.

>>> check_image(data=b"", max_bytes=10, max_pixels=10)
Traceback (most recent call last):
...
web.errors.ApplicationError: the file is empty
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from django.utils.translation import gettext as _
from PIL import Image

from ml.reading.decode import ImageError, decode_image
from web.errors import ApplicationError

# The first bytes of each accepted format; the file name and the client's content type are not trusted.
MAGIC = {b"\xff\xd8\xff": "jpeg", b"\x89PNG\r\n\x1a\n": "png"}
# What Pillow may call each: many phones save photos as MPO, a multi-picture JPEG (the photo first, then a
# preview or depth image), which every JPEG decoder reads as its first picture, and so do we.
FORMATS = {"jpeg": {"JPEG", "MPO"}, "png": {"PNG"}}
EXTENSION = {"jpeg": "jpg", "png": "png"}
# An image whose pixels all lie within this many levels (of 255) of each other holds nothing to read:
# a blank canvas, an empty or fully transparent PNG. JPEG noise on a blank page stays within about 4.
BLANK_RANGE = 6


@dataclass(frozen=True)
class CheckedImage:
    """Bytes that passed every check, with what the checks learned."""

    data: bytes
    kind: str  # "jpeg" or "png"
    width: int  # upright, after EXIF orientation
    height: int

    @property
    def extension(self) -> str:
        return EXTENSION[self.kind]


def sniff(data: bytes) -> str | None:
    """'jpeg', 'png' or None, from the magic bytes at the start of ``data``."""
    return next((kind for magic, kind in MAGIC.items() if data.startswith(magic)), None)


def megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def too_large(size: int, limit: int) -> ApplicationError:
    return ApplicationError("too_large", _("the file is %(size)s; the limit is %(limit)s")
                            % {"size": megabytes(size), "limit": megabytes(limit)})


def read_limited(image_file, *, max_bytes: int) -> bytes:
    """At most ``max_bytes + 1`` bytes of the upload: enough to know it is too large, no more."""
    if image_file is None:
        raise ApplicationError("empty", _("no image was sent (expected a JPEG or PNG file)"))
    size = getattr(image_file, "size", None)
    if size is not None and size > max_bytes:
        raise too_large(size, max_bytes)
    image_file.seek(0)
    data = image_file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ApplicationError("too_large", _("the file is over the limit of %(limit)s")
                               % {"limit": megabytes(max_bytes)})
    return data


def check_image(*, data: bytes, max_bytes: int, max_pixels: int) -> CheckedImage:
    """Raise :class:`ApplicationError` with the first check ``data`` fails, else describe it."""
    if not data:
        raise ApplicationError("empty", _("the file is empty"))
    if len(data) > max_bytes:
        raise too_large(len(data), max_bytes)
    kind = sniff(data)
    if kind is None:
        raise ApplicationError("unsupported_type", _("only JPEG and PNG images are accepted "
                               "(the file's content is neither, whatever its name says)"))
    width, height = _header_size(data, kind)
    if width * height > max_pixels:
        raise ApplicationError("too_many_pixels", _(
            "the image has %(width)d×%(height)d = %(pixels)s pixels; the limit is %(limit)s")
            % {"width": width, "height": height, "pixels": f"{width * height:,}", "limit": f"{max_pixels:,}"})
    try:
        # A full decode, EXIF orientation included: a truncated or broken file is refused now,
        # not discovered later by a worker.
        upright = decode_image(data, max_pixels=max_pixels)
    except ImageError as exc:
        raise ApplicationError("corrupt_image", _("the image cannot be decoded: %(reason)s")
                               % {"reason": exc}) from exc
    if _is_blank(upright):
        raise ApplicationError("blank_image", _("the image is blank: it is one colour throughout once "
                               "decoded (a fully transparent PNG is too), so there is nothing in it to read"))
    return CheckedImage(data=data, kind=kind, width=upright.shape[1], height=upright.shape[0])


def _is_blank(image: np.ndarray) -> bool:
    """One colour throughout: every channel within ``BLANK_RANGE`` levels (of 255) from end to end."""
    if image.size == 0:
        return True
    spread = image.reshape(-1, image.shape[-1] if image.ndim == 3 else 1).astype(np.int16)
    return bool((spread.max(axis=0) - spread.min(axis=0)).max() <= BLANK_RANGE)


def _header_size(data: bytes, kind: str) -> tuple[int, int]:
    """Width and height from the header alone (no pixels decoded: the bomb check must be cheap)."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format not in FORMATS[kind]:
                raise ApplicationError("corrupt_image", _("the file starts like a %(kind)s but is a "
                                       "%(format)s") % {"kind": kind.upper(), "format": img.format})
            return img.size
    except ApplicationError:
        raise
    except Image.DecompressionBombError as exc:
        # Pillow refuses headers past twice its own limit before we can read the size.
        raise ApplicationError("too_many_pixels", _("the image has far more pixels than the limit "
                               "(%(reason)s)") % {"reason": exc}) from exc
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types for a damaged header
        raise ApplicationError("corrupt_image", _("the image cannot be decoded: its header is damaged")) \
            from exc
