"""In a real browser: several files make a batch whose page fills in, a pasted image is sent, a phone's
6 MB photo is made smaller before it is sent (and read), and a refused file stays chosen.

Headless Chromium (Playwright) against pytest-django's live server on the PostgreSQL test database; a
real Celery worker reads over Redis with the shipped model.
"""

from __future__ import annotations

import base64
import io
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest
from django.db import connections
from PIL import Image

import ml
from web.uploads.models import Batch, Upload

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

TEXTS = [["907"], ["1234"], ["56", "8"]]


def query(read):
    """``read()`` (a database read) in a thread of its own, its connection closed after.

    Playwright's sync API keeps an event loop in the test's thread, where Django refuses the ORM (and
    a connection opened there anyway would outlive the test database's teardown).
    """
    def run():
        try:
            return read()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def mnist_page(test_digits, lines: list[str], seed: int, digit_height: int = 48) -> np.ndarray:
    from ml.synth.compose import page_from_text

    images, labels = test_digits
    return page_from_text(images, labels, lines, seed=seed, digit_height=digit_height)[0]


@pytest.fixture
def three_pages(tmp_path, test_digits):
    paths = []
    for i, lines in enumerate(TEXTS):
        paths.append(tmp_path / f"page-{i}.png")
        cv2.imwrite(str(paths[-1]), mnist_page(test_digits, lines, seed=20 + i))
    return paths


@pytest.fixture
def phone_photo(tmp_path, test_digits):
    """A 4000 × 3000 phone JPEG of about 6.5 MB (paper, uneven light, sensor noise, two lines of MNIST
    digits 220 px tall), stored on its side with EXIF orientation 6, as phones write portrait photos."""
    ink = mnist_page(test_digits, ["4821", "3579"], seed=5, digit_height=220).astype(np.float32) / 255
    height, width = 4000, 3000
    rng = np.random.default_rng(1)
    light = np.linspace(200, 240, width)[None, :] - np.linspace(0, 30, height)[:, None]
    paper = np.clip(light[..., None] + rng.normal(0, 12, (height, width, 3)), 0, 255)
    h, w = ink.shape
    spot = paper[800:800 + h, 400:400 + w]
    paper[800:800 + h, 400:400 + w] = spot * ink[..., None] + 40 * (1 - ink[..., None])  # dark ink
    stored = cv2.rotate(paper.astype(np.uint8), cv2.ROTATE_90_COUNTERCLOCKWISE)  # EXIF 6 turns it upright
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    rgb = Image.fromarray(cv2.cvtColor(stored, cv2.COLOR_BGR2RGB))
    rgb.save(buffer, "JPEG", quality=95, exif=exif.tobytes())
    path = tmp_path / "IMG_2041.jpg"
    path.write_bytes(buffer.getvalue())
    return path, ["4821", "3579"]


def posted_images(page) -> list[int]:
    """The sizes of the image files this page's script sends to the API (a blob body is not shown to
    Playwright's request events, so fetch is watched from inside the page; kept in sessionStorage,
    which outlives the move to the result page)."""
    page.add_init_script("""
        const send = window.fetch;
        window.fetch = function (url, options) {
            const image = options && options.body instanceof FormData && options.body.get("image");
            if (image) {
                const sent = JSON.parse(sessionStorage.getItem("sentImages") || "[]");
                sessionStorage.setItem("sentImages", JSON.stringify([...sent, image.size]));
            }
            return send.apply(this, arguments);
        };
    """)
    return lambda: page.evaluate("JSON.parse(sessionStorage.getItem('sentImages') || '[]')")


def test_three_files_make_a_batch_whose_page_fills_in_as_they_are_read(live_server, start_worker, browser,
                                                                       three_pages):
    start_worker(DIGITSCAN_DEFAULT_CHECKPOINT=ml.DEFAULT_CHECKPOINT)
    page = browser.new_page()
    page.goto(live_server.url + "/")
    page.set_input_files("#image", [str(p) for p in three_pages])
    assert page.locator("#chosen li .name").all_inner_texts() == [p.name for p in three_pages]
    page.click("#send")
    page.wait_for_url("**/b/*/")
    batch = query(lambda: Batch.objects.get())
    assert page.url == f"{live_server.url}/b/{batch.id}/"
    page.wait_for_selector('#batch-status[data-status="done"]', timeout=90_000)

    rows = page.locator("#items li")
    assert rows.count() == 3
    assert [rows.nth(i).get_attribute("data-status") for i in range(3)] == ["done"] * 3
    assert page.locator("#items li .text").all_inner_texts() == [" ".join(t) for t in TEXTS]
    uploads = query(lambda: list(batch.uploads.order_by("queued_at")))
    for row, upload in zip((rows.nth(i) for i in range(3)), uploads):
        assert row.locator("a.open").get_attribute("href").endswith(f"/r/{upload.id}/")
        assert "thumbnail.image" in row.locator("img").get_attribute("src")
    assert page.inner_text("#batch-status") == "All 3 read."
    page.goto(live_server.url + "/history/")
    assert page.locator(f'#batches a[href="/b/{batch.id}/"]').count() == 1


def test_an_image_pasted_from_the_clipboard_is_sent_and_read(live_server, start_worker, browser, test_digits):
    start_worker(DIGITSCAN_DEFAULT_CHECKPOINT=ml.DEFAULT_CHECKPOINT)
    png = cv2.imencode(".png", mnist_page(test_digits, ["2468"], seed=3))[1].tobytes()
    page = browser.new_page()
    # Signed in: the API then checks the CSRF token the page's script sends along.
    page.goto(live_server.url + "/accounts/signup/")
    page.fill("#id_username", "pia")
    page.fill("#id_password1", "a-long-password-5")
    page.fill("#id_password2", "a-long-password-5")
    page.click("form.account button[type=submit]")
    page.wait_for_url("**/history/")
    page.goto(live_server.url + "/")
    # What Ctrl-V of a screenshot does: a paste event whose clipboard holds a File.
    page.evaluate("""(data) => {
        const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
        const clipboard = new DataTransfer();
        clipboard.items.add(new File([bytes], "image.png", { type: "image/png" }));
        document.body.dispatchEvent(new ClipboardEvent("paste", { clipboardData: clipboard, bubbles: true,
                                                                 cancelable: true }));
    }""", base64.b64encode(png).decode())
    assert page.locator("#chosen li").count() == 1
    assert page.inner_text("#chosen li .name").startswith("pasted-image-")
    page.click("#send")
    page.wait_for_url("**/r/*/")
    page.wait_for_selector('#status[data-status="done"]', timeout=60_000)
    assert page.locator("#lines li").all_inner_texts() == ["2468"]
    upload = query(lambda: Upload.objects.select_related("owner").get())
    assert upload.batch_id is None and upload.owner.username == "pia"  # one image: its result page


def test_a_6mb_phone_photo_is_made_smaller_before_sending_and_is_read(live_server, start_worker, browser,
                                                                      phone_photo):
    start_worker(DIGITSCAN_DEFAULT_CHECKPOINT=ml.DEFAULT_CHECKPOINT)
    path, lines = phone_photo
    original = path.stat().st_size
    assert original > 6_000_000
    page = browser.new_page()
    sent_sizes = posted_images(page)
    page.goto(live_server.url + "/")
    page.set_input_files("#image", str(path))
    page.click("#send")
    page.wait_for_url("**/r/*/", timeout=60_000)
    upload = query(lambda: Upload.objects.get())
    with upload.image.open("rb") as f:
        sent = f.read()
    print(f"\nphone photo: {original:,} bytes 4000x3000 (EXIF 6) -> sent {len(sent):,} bytes "
          f"{upload.width}x{upload.height}")
    assert len(sent) < 2 * 1024 * 1024 and sent_sizes() == [len(sent)]
    assert sent.startswith(b"\xff\xd8\xff")
    # Upright (the EXIF orientation applied in the browser), longest side 3,000 px.
    assert (upload.width, upload.height) == (2250, 3000)
    page.wait_for_selector('#status[data-status="done"]', timeout=60_000)
    assert page.locator("#lines li").all_inner_texts() == lines


def test_a_refused_file_stays_chosen_with_the_servers_message(live_server, browser, tmp_path, three_pages):
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((200, 300, 3), 255, np.uint8))
    page = browser.new_page()
    sent_sizes = posted_images(page)
    page.goto(live_server.url + "/")
    page.set_input_files("#image", str(blank))
    page.click("#send")
    row = page.locator("#chosen li")
    page.wait_for_selector('#chosen li[data-state="error"]')
    assert page.url == live_server.url + "/"  # no page change: the selection is still here
    message = "The image is blank: it is one colour throughout once decoded"
    assert row.locator(".state").inner_text().startswith(message)
    assert page.inner_text("#form-error").startswith(message)
    assert row.count() == 1 and row.locator(".name").inner_text() == "blank.png"
    page.click("#send")  # not sent again as it is: the server would only refuse it again
    assert "were refused as they are" in page.inner_text("#form-error")
    assert sent_sizes() == [blank.stat().st_size] and query(Upload.objects.count) == 0
    # Replaced by a good one, it goes through.
    row.locator(".remove").click()
    page.set_input_files("#image", str(three_pages[0]))
    page.click("#send")
    page.wait_for_url("**/r/*/")
    assert query(Upload.objects.count) == 1


def test_over_the_upload_rate_the_page_says_so_waits_and_sends_the_rest(live_server, browser, three_pages,
                                                                        monkeypatch):
    from web.uploads.throttles import UploadRateThrottle

    # One image a second (the live server runs in this process): the second file meets the limit.
    monkeypatch.setattr(UploadRateThrottle, "THROTTLE_RATES", {"uploads": "1/s"})
    page = browser.new_page()
    page.goto(live_server.url + "/")
    page.set_input_files("#image", [str(p) for p in three_pages])
    page.click("#send")
    waiting = page.wait_for_selector('#chosen li[data-state="waiting"] .state', timeout=20_000)
    assert "sending again in" in waiting.inner_text()
    page.wait_for_url("**/b/*/", timeout=30_000)
    assert query(lambda: Batch.objects.get().uploads.count()) == 3  # every one sent, none lost to the limit


def test_files_dropped_on_the_page_join_the_list(live_server, browser, three_pages):
    page = browser.new_page()
    page.goto(live_server.url + "/")
    # What dragging two files from a file manager onto the page does: a drop event holding Files.
    page.evaluate("""(names) => {
        const dropped = new DataTransfer();
        names.forEach((name) => dropped.items.add(new File([new Uint8Array([137, 80, 78, 71])], name,
                                                           { type: "image/png" })));
        const drop = new DragEvent("drop", { dataTransfer: dropped, bubbles: true, cancelable: true });
        document.getElementById("drop").dispatchEvent(drop);
    }""", ["a.png", "b.png"])
    assert page.locator("#chosen li .name").all_inner_texts() == ["a.png", "b.png"]
    assert page.inner_text("#send") == "Read the digits of 2 images"
