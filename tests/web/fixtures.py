"""Fixtures shared by tests/web and tests/worker: a tiny checkpoint, a temporary media folder, people."""

from __future__ import annotations

import pytest
import torch

from tests.web.helpers import png_bytes, uploaded

__all__ = ["alice", "alice_client", "bob", "bob_client", "image_file", "isolated_files", "png",
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
