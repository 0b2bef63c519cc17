"""The e2e tests' fixtures: the web and worker ones, and a headless Chromium."""

from __future__ import annotations

import shutil

import pytest

from tests.web.fixtures import *  # noqa: F401,F403 - shared fixtures (pytest finds them by name)
from tests.worker.fixtures import *  # noqa: F401,F403

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "Chromium is not installed: run deploy/setup-test-tools.sh (deploy/test.sh does)"

    with sync_playwright() as p:
        # --no-sandbox: Chromium's sandbox refuses to start as root (CI runs as root).
        # The rest keep Chromium from calling out to the (unreachable) network at start.
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        yield chromium
        chromium.close()
