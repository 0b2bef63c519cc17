"""Images as drawing apps and scanners save them, read over HTTP by a real worker with the shipped model:
strokes on a transparent background and 16-bit grey PNGs read as a person sees them, never "done" with
nothing in them; a phone's multi-picture JPEG (MPO) read as its first picture."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from ml.paths import DEFAULT_CHECKPOINT
from tests.worker.processes import ROOT, wait_for

SAMPLE = ROOT / "docs" / "samples" / "digits.png"
LINES = ["75013", "20261125", "4096"]  # what the shipped model reads in it (ml.reading.reader's example)


def transparent_png() -> bytes:
    """The sample's ink as black strokes on a fully transparent canvas."""
    grey = cv2.cvtColor(cv2.imread(str(SAMPLE)), cv2.COLOR_BGR2GRAY)
    rgba = np.zeros((*grey.shape, 4), np.uint8)
    rgba[..., 3] = 255 - grey
    return cv2.imencode(".png", rgba)[1].tobytes()


def phone_mpo() -> bytes:
    """The sample as a phone saves a photo: a multi-picture JPEG (MPO), the photo, then a dark preview."""
    photo = Image.open(SAMPLE).convert("RGB")
    buffer = io.BytesIO()
    photo.save(buffer, "MPO", save_all=True, quality=95,
               append_images=[Image.new("RGB", (photo.width // 4, photo.height // 4), (30, 30, 30))])
    return buffer.getvalue()


def sixteen_bit_png() -> bytes:
    grey = cv2.cvtColor(cv2.imread(str(SAMPLE)), cv2.COLOR_BGR2GRAY).astype(np.uint16) * 257
    return cv2.imencode(".png", grey)[1].tobytes()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("make", [transparent_png, sixteen_bit_png, phone_mpo])
def test_transparent_and_16_bit_pngs_and_phone_mpo_photos_are_read(client, settings, start_worker, make):
    settings.DIGITSCAN_DEFAULT_CHECKPOINT = str(DEFAULT_CHECKPOINT)
    worker = start_worker(DIGITSCAN_DEFAULT_CHECKPOINT=str(DEFAULT_CHECKPOINT))
    response = client.post("/api/v1/recognitions/", {"image": SimpleUploadedFile("d.png", make())})
    assert response.status_code == 202, response.content
    url = response.json()["url"]
    data = wait_for(lambda: (d := client.get(url).json())["status"] in ("done", "failed") and d,
                    timeout=90, what=f"upload finished\n{worker.output()}")
    assert data["status"] == "done" and data["lines"] == LINES, data
