"""Fixtures shared by tests/web and tests/worker: a tiny checkpoint, a temporary media folder, people."""

from __future__ import annotations

import pytest
import torch

from tests.web.helpers import page_with_a_squiggle, png_bytes, uploaded

__all__ = ["alice", "alice_client", "bob", "bob_client", "image_file", "isolated_files", "misread", "png",
           "tiny_checkpoint"]


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory):
    """An untrained small CNN saved as a real checkpoint: loads in milliseconds, reads (wrong) digits.

    The flow tests check plumbing, not accuracy, so they need no trained model and no MNIST.
    """
    from ml.models.checkpoint import save_checkpoint
    from ml.models.classifiers import build

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("checkpoints") / "tiny-cnn.pt"
    return save_checkpoint(build("cnn", {"channels": (8, 16), "linear": 32}), path, name="tiny-cnn",
                           metrics={"accuracy": 0.1})


@pytest.fixture(autouse=True)
def isolated_files(settings, tmp_path, tiny_checkpoint):
    """Every test stores files in its own folder and registers the tiny model as the default."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.DIGITSCAN_DEFAULT_CHECKPOINT = str(tiny_checkpoint)
    # Throttle counts live in the cache: each test starts with none.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def png():
    return png_bytes()


@pytest.fixture
def image_file(png):
    return uploaded(png)


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password="a-long-password-1")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", password="a-long-password-2")


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def bob_client(alice, bob):
    from django.test import Client

    other = Client()
    other.force_login(bob)
    return other


@pytest.fixture
def misread(alice):
    """Alice's upload of "123" over "45" plus a squiggle, read as "17 450": its 2 taken for a 7, its 3
    missed, the squiggle taken for a 0 (boxes where the segmenter finds them). Returns the upload, the
    page, the digits' boxes and the squiggle's box."""
    from web.uploads.owners import Owner
    from web.uploads.services import upload_create, upload_finish, upload_start

    page, boxes, squiggle = page_with_a_squiggle()
    upload = upload_create(owner=Owner(user=alice), image_file=uploaded(png_bytes(page)), source="upload")
    upload_start(upload_id=upload.id)
    read = [(1, boxes[0], 0), (7, boxes[1], 0), (4, boxes[3], 1), (5, boxes[4], 1), (0, squiggle, 1)]
    digits = [{"digit": d, "confidence": 0.9, "box": box, "line": line, "uncertain": False,
               "alternatives": []} for d, box, line in read]
    upload = upload_finish(upload_id=upload.id, reading={"text": "17 450", "lines": ["17", "450"],
                                                         "digits": digits}, timings={},
                           annotated_png=png_bytes(page), model_version=None)
    return upload, page, boxes, squiggle
