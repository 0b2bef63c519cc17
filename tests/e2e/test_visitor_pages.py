"""What a visitor meets on the upload, result and history pages, in headless Chromium: mixed good and bad
files, a blank drawing, times in the reader's own time zone, the annotated image's download once polling
finds the reading, and the correction editor's words, table, forms, tap areas and zoom on a phone."""

from __future__ import annotations

import datetime as dt

import cv2
import numpy as np
import pytest

from tests.e2e.test_batches_browser import query
from tests.e2e.test_corrections import signed_in
from tests.web.helpers import digits_image, png_bytes, uploaded
from web.uploads.models import Batch, Upload
from web.uploads.owners import Owner
from web.uploads.services import upload_create, upload_finish, upload_start

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True,
         "device_scale_factor": 2}


@pytest.fixture
def files(tmp_path):
    good = [tmp_path / "good-1.png", tmp_path / "good-2.png"]
    for path, text in zip(good, ("12", "34")):
        cv2.imwrite(str(path), digits_image((text,)))
    bad = [tmp_path / "blank.png", tmp_path / "notes.png"]
    cv2.imwrite(str(bad[0]), np.full((200, 300, 3), 255, np.uint8))
    bad[1].write_bytes(b"not an image, whatever its name says")
    return good, bad


def test_one_good_file_among_refused_ones_is_no_batch_and_only_fixable_files_are_sent_again(
        live_server, browser, files):
    good, bad = files
    page = browser.new_page()
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and "/api/" in r.url else None)
    page.goto(live_server.url + "/")
    page.set_input_files("#image", [str(good[0]), str(bad[0])])
    page.click("#send")
    page.wait_for_selector('#chosen li[data-state="error"]')
    assert page.inner_text("#form-error").startswith("1 of 2 sent.")
    # The one sent is an upload of its own, not a batch of one; the link opens its result.
    assert query(Batch.objects.count) == 0 and query(lambda: Upload.objects.get().batch_id) is None
    assert page.inner_text("#batch-link a") == "Open the result"
    # The button counts what can still go: the blank image never will, as it is.
    assert page.inner_text("#send") == "Read the digits"
    page.click("#send")
    assert "were refused as they are" in page.inner_text("#form-error") and len(posts) == 2
    # Another good file: now the two good ones make a batch.
    page.set_input_files("#image", str(good[1]))
    assert page.inner_text("#send") == "Read the digits"
    page.click("#send")
    page.wait_for_function("() => document.querySelectorAll('#chosen li[data-state=sent]').length === 2")
    # The refused one is still chosen (to remove or replace): the page stays and links the batch.
    assert page.inner_text("#form-error").startswith("2 of 3 sent.")
    assert page.inner_text("#batch-link a") == "Open the batch page"
    page.click("#batch-link a")
    page.wait_for_url("**/b/*/")
    assert query(lambda: Batch.objects.get().uploads.count()) == 2
    names = page.locator("#items .name").all_inner_texts()
    assert names == ["good-1.png", "good-2.png"]


def test_when_nothing_was_sent_the_page_says_none_was(live_server, browser, files):
    _, bad = files
    page = browser.new_page()
    page.goto(live_server.url + "/")
    page.set_input_files("#image", [str(p) for p in bad])
    page.click("#send")
    page.wait_for_function("() => document.querySelectorAll('#chosen li[data-state=error]').length === 2")
    assert page.inner_text("#form-error").startswith("None of the 2 was sent.")
    assert page.locator("#batch-link").is_hidden() and query(Upload.objects.count) == 0


def test_a_blank_canvas_says_draw_first_and_sends_nothing(live_server, browser):
    page = browser.new_page()
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.goto(live_server.url + "/")
    page.click("#canvas-read")
    assert page.inner_text("#canvas-error").startswith("Draw some digits first")
    assert posts == []


def test_times_are_in_the_readers_time_zone_and_language(live_server, alice, alices_session, browser):
    def make():
        return upload_create(owner=Owner(user=alice), image_file=uploaded(png_bytes(), "scan.png"))

    upload = query(make)
    local = upload.queued_at.astimezone(dt.timezone(dt.timedelta(hours=8)))
    page = signed_in(browser, live_server, alices_session, timezone_id="Asia/Shanghai", locale="zh-CN")
    page.goto(live_server.url + "/history/")
    shown = page.inner_text(".history time")
    assert f"{local:%H:%M}" in shown and "UTC" not in shown and "年" in shown, shown
    assert page.get_attribute(".history time", "title").endswith("UTC")
    page.goto(f"{live_server.url}/r/{upload.id}/")
    assert f"{local:%H:%M}" in page.inner_text("#file time") and "scan.png" in page.inner_text("#file")


def test_the_annotated_download_appears_once_polling_finds_the_reading(live_server, alice, alices_session,
                                                                       browser):
    def make():
        return upload_create(owner=Owner(user=alice), image_file=uploaded(png_bytes()))

    upload = query(make)
    page = signed_in(browser, live_server, alices_session)
    page.goto(f"{live_server.url}/r/{upload.id}/")
    assert page.locator("#annotated-download").is_hidden()

    def finish():
        upload_start(upload_id=upload.id)
        digits = [{"digit": 4, "confidence": 0.9, "box": [30, 30, 30, 50], "line": 0, "uncertain": False}]
        upload_finish(upload_id=upload.id, reading={"text": "4", "lines": ["4"], "digits": digits},
                      timings={}, annotated_png=png_bytes(), model_version=None)

    query(finish)
    page.wait_for_selector('#status[data-status="done"]')
    link = page.locator("#annotated-download")
    assert link.is_visible() and link.get_attribute("href").endswith("/annotated.image?download")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == f"digitscan-{upload.id}-annotated.png"


def test_the_editor_on_a_phone_one_form_at_a_time_its_words_lines_and_added_rows(
        live_server, misread, alices_session, browser):
    upload, _, boxes, _ = misread  # read "17" over "450"
    page = signed_in(browser, live_server, alices_session, **PHONE)
    page.goto(f"{live_server.url}/r/{upload.id}/")
    assert page.locator("#lines li").all_inner_texts() == ["17", "450"]
    assert page.evaluate("getComputedStyle(document.querySelector('#lines li'), '::before').content") \
        == '"line 1"'
    # No keyboard on a phone: no hints about keys.
    assert page.locator(".editor .keyboard-only").is_hidden()
    # Nothing corrected yet: no "Corrected reading:"; the typed form folded, the editor's form shown.
    assert page.locator("#preview-line").is_hidden() and page.locator("#send-operations").is_disabled()
    assert page.locator("#send-operations").evaluate("b => getComputedStyle(b).opacity") == "0.45"
    assert page.locator("#feedback-text").is_hidden() and page.locator("#operations-form").is_visible()
    page.tap("details.typed summary")  # typing instead: one comment box, one send button
    page.wait_for_selector("#operations-form", state="hidden")  # (details' toggle event comes a moment later)
    assert page.locator("#feedback-text").is_visible()
    page.locator("#overlay .box").nth(1).tap()  # a box tapped: back to the editor's form
    page.wait_for_selector("#operations-form", state="visible")
    assert page.locator("#feedback-text").is_hidden()

    page.tap('#picker .key[data-digit="7"]')  # the digit it read: confirmed, not "changed"
    assert page.inner_text("#editor-summary") == "Changes: 1 confirmed."
    assert page.locator("#preview-line").is_visible()
    page.tap('#picker .key[data-digit="2"]')
    assert page.inner_text("#editor-summary") == "Changes: 1 changed."
    # The whole first line is no digits: the model's second line is now the first, everywhere.
    page.tap("#pick-not-digit")
    page.locator("#overlay .box").nth(0).tap()
    page.tap("#pick-not-digit")
    assert page.inner_text("#preview") == "450"
    page.locator("#overlay .box").nth(2).tap()
    assert "(line 1)" in page.inner_text("#picker-title")
    lines = page.locator("#digits tbody tr[data-index] td.line").all_inner_texts()
    assert lines == ["—", "—", "1", "1", "1"]
    assert page.inner_text("#editor-summary") == "Changes: 2 not a digit."
    # A digit added shows in the table too.
    page.tap("#pick-close")
    page.tap("#add-digit")
    assert page.locator("#draw-hint .keyboard-only").is_hidden()
    shown = page.locator("#overlay").bounding_box()
    x, y = shown["x"] + shown["width"] * 0.05, shown["y"] + shown["height"] * 0.85
    touch = page.context.new_cdp_session(page)
    for kind, px, py in [("touchStart", x, y), ("touchMove", x + 20, y + 20), ("touchMove", x + 40, y + 25),
                         ("touchEnd", None, None)]:
        touch.send("Input.dispatchTouchEvent", {"type": kind,
                                                "touchPoints": [] if px is None else [{"x": px, "y": py}]})
    page.wait_for_selector("#picker-title:has-text('you added')")  # the drag handled
    # Chromium sends no click for a synthetic tap that comes within about 80 ms of the synthetic drag's
    # touchend (seen under load: pointerup and touchend on the key, no click). A finger is slower.
    page.wait_for_timeout(400)
    page.tap('#picker .key[data-digit="8"]')
    added = page.locator("#digits tbody tr.added")
    assert added.count() == 1 and added.locator("td").nth(2).inner_text() == "8"
    assert "1 added" in page.inner_text("#editor-summary")


def test_small_boxes_get_a_finger_sized_tap_area_that_never_covers_a_neighbour_and_the_image_zooms(
        live_server, alice, alices_session, browser):
    def make():
        page = np.full((800, 1200, 3), 255, np.uint8)
        up = upload_create(owner=Owner(user=alice), image_file=uploaded(png_bytes(digits_image(("17",)))))
        Upload.objects.filter(id=up.id).update(width=1200, height=800)
        upload_start(upload_id=up.id)
        boxes = [[100, 100, 4, 18], [160, 100, 5, 23], [600, 400, 9, 17]]  # a thin 1 near a 7; one alone
        digits = [{"digit": d, "confidence": 0.9, "box": b, "line": 0, "uncertain": False}
                  for d, b in zip((1, 7, 4), boxes)]
        upload_finish(upload_id=up.id, reading={"text": "174", "lines": ["174"], "digits": digits},
                      timings={}, annotated_png=png_bytes(page), model_version=None)
        return up

    upload = query(make)
    page = signed_in(browser, live_server, alices_session, **PHONE)
    page.goto(f"{live_server.url}/r/{upload.id}/")
    boxes = page.locator("#overlay .box")
    thin, seven, alone = (boxes.nth(i).bounding_box() for i in range(3))
    assert thin["width"] < 6 and alone["width"] < 8  # far too small for a finger as drawn (borders included)

    def hit(x, y) -> int:
        return page.evaluate("([x, y]) => [...document.querySelectorAll('#overlay .box')]"
                             ".indexOf(document.elementFromPoint(x, y).closest('.box'))", [x, y])

    middle = lambda b: (b["x"] + b["width"] / 2, b["y"] + b["height"] / 2)  # noqa: E731
    ax, ay = middle(alone)
    assert hit(ax + 15, ay) == 2 and hit(ax - 15, ay + 15) == 2  # 40 px around the lone box
    tx, ty = middle(thin)
    sx, sy = middle(seven)
    assert hit(tx, ty) == 0 and hit(sx, sy) == 1  # each keeps its own box
    assert hit(tx - 12, ty) == 0 and hit(sx + 12, sy) == 1
    gap = thin["x"] + thin["width"], seven["x"]
    assert hit(gap[0] + (gap[1] - gap[0]) * 0.25, ty) == 0 and hit(gap[0] + (gap[1] - gap[0]) * 0.75, sy) == 1

    fitted = page.locator("#annotated").bounding_box()["width"]
    offset = alone["x"] - page.locator("#overlay").bounding_box()["x"]
    page.tap("#zoom-in")
    page.tap("#zoom-in")
    zoomed = page.locator("#annotated").bounding_box()["width"]
    assert abs(zoomed - 2 * fitted) < 2 and page.inner_text("#zoom-level") == "200%"
    assert abs(page.locator("#overlay").bounding_box()["width"] - zoomed) < 2  # the boxes grow with it
    moved = boxes.nth(2).bounding_box()["x"] - page.locator("#overlay").bounding_box()["x"]
    assert abs(moved - 2 * offset) < 3
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # it scrolls inside its own box
    page.tap("#zoom-out")
    page.tap("#zoom-out")
    assert abs(page.locator("#annotated").bounding_box()["width"] - fitted) < 2
