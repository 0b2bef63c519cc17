"""Bad input is refused before anything is stored or queued, with a code for programs and words for people."""

from __future__ import annotations

import io
import struct
import zlib

import cv2
import numpy as np
import pytest
from django.core.files.storage import default_storage
from PIL import Image

from ml.paths import dataset
from ml.reading.decode import decode_image
from tests.web.helpers import digits_image, jpeg_bytes, png_bytes, uploaded
from web.errors import ApplicationError
from web.uploads.models import Upload
from web.uploads.owners import Owner
from web.uploads.services import upload_create
from web.uploads.validation import check_image

pytestmark = pytest.mark.django_db

ANON = Owner(session_key="test-session")


def png_header_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` × ``height`` pixels (a decompression bomb's calling card)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) \
        + chunk(b"IEND", b"")


def refused(data: bytes | None, name: str = "x.png") -> ApplicationError:
    with pytest.raises(ApplicationError) as info:
        upload_create(owner=ANON, image_file=None if data is None else uploaded(data, name), source="upload")
    return info.value


def nothing_stored() -> bool:
    return Upload.objects.count() == 0 and not default_storage.exists("uploads")


@pytest.mark.parametrize("data, name, code", [
    (b"", "empty.png", "empty"),
    (None, "", "empty"),
    (b"GIF89a" + b"\0" * 100, "looks-like.png", "unsupported_type"),
    (b"%PDF-1.7 not an image", "scan.jpg", "unsupported_type"),
    (b"plain text that is named like an image", "digits.jpeg", "unsupported_type"),
    (png_bytes()[:200], "truncated.png", "corrupt_image"),
    (jpeg_bytes()[:300], "truncated.jpg", "corrupt_image"),
    (b"\x89PNG\r\n\x1a\n" + b"garbage" * 20, "garbage.png", "corrupt_image"),
    (b"\xff\xd8\xff" + b"\0" * 50, "garbage.jpg", "corrupt_image"),
    (png_header_claiming(20_000, 20_000), "bomb.png", "too_many_pixels"),
])
def test_bad_input_is_refused_with_its_code_and_nothing_is_stored(data, name, code):
    error = refused(data, name)
    assert error.code == code
    assert error.message
    assert nothing_stored()


def test_upload_over_2mb_is_rejected_with_too_large(settings):
    assert settings.DIGITSCAN_MAX_UPLOAD_BYTES == 2 * 1024 * 1024
    big = png_bytes() + b"\0" * (2 * 1024 * 1024)
    error = refused(big)
    assert error.code == "too_large" and "2.0 MB" in error.message
    assert nothing_stored()


def test_the_byte_limit_is_a_setting(settings):
    settings.DIGITSCAN_MAX_UPLOAD_BYTES = 1000
    assert refused(png_bytes()).code == "too_large"


def test_the_pixel_limit_is_a_setting(settings):
    settings.DIGITSCAN_MAX_PIXELS = 100
    assert refused(png_bytes()).code == "too_many_pixels"


def test_type_comes_from_content_not_the_file_name():
    upload = upload_create(owner=ANON, image_file=uploaded(jpeg_bytes(), "digits.png", "image/png"),
                           source="upload")
    assert upload.image.name.endswith("original.jpg")


def test_exif_orientation_is_applied_to_the_recorded_size():
    page = digits_image()
    height, width = page.shape[:2]
    upload = upload_create(owner=ANON, image_file=uploaded(jpeg_bytes(page, exif_orientation=6), "p.jpg"),
                           source="upload")
    assert (upload.width, upload.height) == (height, width)  # rotated by 90°


def test_an_unknown_source_is_refused():
    with pytest.raises(ApplicationError) as info:
        upload_create(owner=ANON, image_file=uploaded(png_bytes()), source="fax")
    assert info.value.code == "bad_source"


def test_a_valid_png_is_accepted_and_stored(png):
    upload = upload_create(owner=ANON, image_file=uploaded(png), source="upload")
    assert upload.status == "queued"
    with default_storage.open(upload.image.name, "rb") as f:
        assert f.read() == png


def mpo_bytes(first: np.ndarray, *, exif_orientation: int | None = None) -> bytes:
    """A multi-picture JPEG as many phones save photos: ``first`` (the photo), then a small dark preview."""
    photo = Image.fromarray(cv2.cvtColor(first, cv2.COLOR_BGR2RGB))
    preview = Image.new("RGB", (photo.width // 4, photo.height // 4), (40, 40, 40))
    options = {}
    if exif_orientation:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        options["exif"] = exif.tobytes()
    buffer = io.BytesIO()
    photo.save(buffer, "MPO", save_all=True, append_images=[preview], quality=92, **options)
    data = buffer.getvalue()
    assert Image.open(io.BytesIO(data)).format == "MPO"
    return data


def test_a_phones_multi_picture_jpeg_is_accepted_as_a_jpeg_and_its_first_picture_read():
    page = digits_image()
    data = mpo_bytes(page, exif_orientation=6)
    upload = upload_create(owner=ANON, image_file=uploaded(data, "IMG_0001.jpg", "image/jpeg"),
                           source="upload")
    assert upload.image.name.endswith("original.jpg")
    assert (upload.width, upload.height) == (page.shape[0], page.shape[1])  # the photo, upright
    decoded = decode_image(data)
    # The first picture turned upright by its EXIF orientation (6: 90° clockwise), not the dark preview.
    expected = cv2.rotate(page, cv2.ROTATE_90_CLOCKWISE)
    assert decoded.shape == expected.shape
    assert np.abs(decoded.astype(int) - expected.astype(int)).mean() < 4


DEV_PHOTOS = dataset("real-photos-dev") / "images"
DEV_MPO = ["mhw32_2.jpg", "mhw32_4.jpg", "mhw32_5.jpg"]  # the dev set's phone photos saved as MPO


@pytest.mark.skipif(not DEV_PHOTOS.is_dir(), reason="the shared real-photos-dev set is not on this machine")
@pytest.mark.parametrize("name", DEV_MPO)
def test_the_dev_sets_mpo_phone_photos_are_accepted(name):
    data = (DEV_PHOTOS / name).read_bytes()
    assert Image.open(io.BytesIO(data)).format == "MPO"
    checked = check_image(data=data, max_bytes=len(data), max_pixels=25_000_000)
    assert checked.kind == "jpeg"
    assert decode_image(data).shape[:2] == (checked.height, checked.width) == (2016, 1512)
