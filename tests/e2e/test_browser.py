"""A person in a real browser (headless Chromium driven by Playwright): upload a photo, wait, read the digits.

The site runs in pytest-django's live server on the PostgreSQL test database; a real Celery worker reads
the upload over Redis with the shipped model. Chromium is Debian's (``apt-get install chromium``):
``deploy/setup-test-tools.sh`` installs it.
"""

from __future__ import annotations

import cv2
import pytest

import ml

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def page_of_digits(tmp_path, test_digits):
    """A PNG page of real handwritten MNIST digits in two lines, and what it says."""
    from ml.synth.compose import page_from_text

    images, labels = test_digits
    page, truth = page_from_text(images, labels, ["9021", "3345678"], seed=11, digit_height=48)
    path = tmp_path / "page.png"
    cv2.imwrite(str(path), page)
    return path, truth["lines"]


def test_a_person_uploads_a_photo_and_sees_the_digits_and_the_annotated_image(live_server, start_worker,
                                                                               page_of_digits, browser):
    start_worker(DIGITSCAN_DEFAULT_CHECKPOINT=ml.DEFAULT_CHECKPOINT)
    path, lines = page_of_digits
    page = browser.new_page()
    page.goto(live_server.url + "/")
    page.set_input_files("#image", str(path))
    page.click("#upload-form button[type=submit]")
    page.wait_for_url("**/r/*/")
    page.wait_for_selector('#status[data-status="done"]', timeout=60_000)

    assert page.locator("#lines li").all_inner_texts() == lines
    assert page.locator("#digits tbody tr").count() == sum(len(line) for line in lines)
    assert page.inner_text("#model-version") == ml.DEFAULT_CHECKPOINT.stem
    annotated = page.locator("#annotated")
    assert "screen.image" in annotated.get_attribute("src")  # sized for the screen; the full size a link away
    assert page.get_attribute("#full-size", "href").endswith("/annotated.image")
    page.wait_for_function("() => { const img = document.getElementById('annotated');"
                           " return img.complete && img.naturalWidth > 0; }")
    assert page.input_value("#feedback-text") == " ".join(lines)

    page.goto(live_server.url + "/history/")
    assert " ".join(lines) in page.inner_text(".history")


def test_a_signed_up_person_draws_a_digit_on_the_canvas_and_it_is_read(live_server, start_worker, browser):
    start_worker(DIGITSCAN_DEFAULT_CHECKPOINT=ml.DEFAULT_CHECKPOINT)
    page = browser.new_page()
    page.goto(live_server.url + "/accounts/signup/")
    page.fill("#id_username", "dora")
    page.fill("#id_password1", "a-long-password-4")
    page.fill("#id_password2", "a-long-password-4")
    page.click("form.account button[type=submit]")
    page.wait_for_url("**/history/")

    page.goto(live_server.url + "/")
    box = page.locator("#canvas").bounding_box()
    x, top = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.2
    page.mouse.move(x, top)
    page.mouse.down()
    for step in range(1, 11):  # a firm vertical stroke: a "1"
        page.mouse.move(x, top + step * box["height"] * 0.06)
    page.mouse.up()
    # Signed in, the API checks the CSRF token the canvas script sends along.
    page.click("#canvas-read")
    page.wait_for_url("**/r/*/")
    page.wait_for_selector('#status[data-status="done"]', timeout=60_000)
    assert page.locator("#lines li").all_inner_texts() == ["1"]
    # The page's own cookies, asking the API for JSON: dora's one upload, made on the canvas.
    history = page.request.get(f"{live_server.url}/api/v1/recognitions/",
                               headers={"Accept": "application/json"})
    assert [r["source"] for r in history.json()["results"]] == ["canvas"]
