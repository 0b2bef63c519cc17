"""Shared by the browser tests: the web and worker fixtures, and headless Chromium driven by Playwright."""

from __future__ import annotations

import shutil

import pytest

from tests.web.fixtures import *  # noqa: F401,F403 - shared fixtures (pytest finds them by name)
from tests.worker.fixtures import *  # noqa: F401,F403

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def browser():
    """Headless Chromium (Debian's: ``deploy/setup-test-tools.sh`` installs it), driven by Playwright."""
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


@pytest.fixture
def alices_session(alice) -> str:
    """The session cookie of Alice signed in, for a browser to carry (``test_corrections.signed_in``)."""
    from django.test import Client

    client = Client()
    client.force_login(alice)
    return client.cookies["sessionid"].value
